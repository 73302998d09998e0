import { readFileSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from './fs-atomic.js';

/**
 * What a running daemon tells its clients (CLI, tray): where it listens and where its tokens are.
 * The tokens themselves are not in it; they stay in their own 0600 files.
 */
export interface RuntimeInfo {
  pid: number;
  version: string;
  startedAt: string;
  port: number;
  /** Base URL to use (127.0.0.1, which every client can reach). */
  url: string;
  addresses: Array<{ address: string; family: string; port: number }>;
  tokenFile: string;
  readTokenFile: string;
  logFile: string;
  configFile: string;
}

export function writeRuntimeFile(path: string, info: RuntimeInfo): void {
  writeFileAtomic(path, `${JSON.stringify(info, null, 2)}\n`, 0o600);
}

export function readRuntimeFile(path: string): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as RuntimeInfo;
    if (typeof info.pid !== 'number' || typeof info.url !== 'string' || typeof info.port !== 'number') return undefined;
    return info;
  } catch {
    return undefined;
  }
}

/** Removes the file only if it still describes this process. */
export function removeRuntimeFile(path: string, pid: number): void {
  if (readRuntimeFile(path)?.pid !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
