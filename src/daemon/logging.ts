import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';

/**
 * Size-based rotation: daemon.log grows to maxBytes, then becomes daemon.log.1 (older ones shift
 * up to maxFiles). Writes are synchronous so nothing is lost when the process ends, and the
 * daemon logs little, so this costs nothing measurable.
 */
export class RotatingFile {
  private fd: number;
  private size: number;

  constructor(
    readonly path: string,
    private maxBytes: number,
    private maxFiles: number,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  setLimits(maxBytes: number, maxFiles: number): void {
    this.maxBytes = maxBytes;
    this.maxFiles = maxFiles;
  }

  write(line: string): void {
    if (this.fd < 0) return;
    const bytes = Buffer.byteLength(line);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    writeSync(this.fd, line);
    this.size += bytes;
  }

  private rotate(): void {
    closeSync(this.fd);
    const oldest = `${this.path}.${this.maxFiles}`;
    if (existsSync(oldest)) unlinkSync(oldest);
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export interface DaemonLogger {
  logger: Logger;
  file: RotatingFile;
  close(): void;
}

/** Secrets never reach a log line, whatever a caller passes in. */
const REDACT = ['token', '*.token', 'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie', 'cookie', '*.cookie'];

export async function createDaemonLogger(opts: {
  file: string;
  level: string;
  maxFileBytes: number;
  maxFiles: number;
  /** Also print to stdout, prettily when it is a terminal. */
  console: boolean;
}): Promise<DaemonLogger> {
  const file = new RotatingFile(opts.file, opts.maxFileBytes, opts.maxFiles);
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: file }];
  if (opts.console) {
    // pino-pretty only when a person watches: it costs ~10 MB the background service never needs.
    const stream = process.stdout.isTTY ? (await import('pino-pretty')).default({ colorize: true, sync: true, destination: 1 }) : process.stdout;
    streams.push({ level: 'trace', stream });
  }
  const logger = pino(
    { level: opts.level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.multistream(streams),
  );
  return { logger, file, close: () => file.close() };
}
