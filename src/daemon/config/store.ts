import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { makeError, type AnkibridgeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { DaemonConfig } from './schema.js';
import { mergePatch, validateConfig } from './validate.js';

export type ConfigListener = (next: DaemonConfig, previous: DaemonConfig) => void;

/** Reads the config file, throwing a catalogued error if it cannot be read or is not valid. */
export function readConfigFile(path: string): { config: DaemonConfig; raw: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      const r = validateConfig({});
      if (!r.ok) throw makeError(DaemonErrors.CONFIG_INVALID, { path, reason: r.reason });
      return { config: r.config, raw: {} };
    }
    throw makeError(DaemonErrors.CONFIG_UNREADABLE, { path, reason: (e as Error).message }, e);
  }
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw makeError(DaemonErrors.CONFIG_INVALID, { path, reason: `not JSON (${(e as Error).message})` }, e);
  }
  const r = validateConfig(raw);
  if (!r.ok) throw makeError(DaemonErrors.CONFIG_INVALID, { path, reason: r.reason });
  return { config: r.config, raw };
}

/**
 * The live config: loaded at start, reloaded when the file changes (an invalid change is logged
 * as DAEMON_CONFIG_INVALID and the previous config stays), patched through the API (written
 * atomically; the watcher then sees our own write and finds nothing changed).
 */
export class ConfigStore {
  private current: DaemonConfig;
  /** What the user wrote (without defaults), so a patch keeps the file minimal. */
  private raw: unknown;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<ConfigListener>();
  lastError: AnkibridgeError | undefined;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    const { config, raw } = readConfigFile(path);
    this.current = config;
    this.raw = raw;
  }

  get(): DaemonConfig {
    return structuredClone(this.current);
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a JSON merge patch; throws DAEMON_CONFIG_INVALID (nothing written) if the result is invalid. */
  patch(patch: unknown): DaemonConfig {
    const nextRaw = mergePatch(this.raw, patch);
    const r = validateConfig(nextRaw);
    if (!r.ok) throw makeError(DaemonErrors.CONFIG_INVALID, { path: this.path, reason: `after the change, ${r.reason}` });
    writeFileAtomic(this.path, `${JSON.stringify(nextRaw, null, 2)}\n`);
    this.raw = nextRaw;
    this.apply(r.config);
    return this.get();
  }

  /** Re-reads the file now (the watcher calls this; tests may too). */
  reload(): boolean {
    try {
      const { config, raw } = readConfigFile(this.path);
      this.raw = raw;
      this.lastError = undefined;
      this.apply(config);
      return true;
    } catch (e) {
      this.lastError = e as AnkibridgeError;
      this.log.error({ err: { code: this.lastError.code, message: this.lastError.message } }, 'config change refused; keeping the previous config');
      return false;
    }
  }

  /** Watches the folder (not the file) so atomic replace-by-rename by editors is seen too. */
  async watch(): Promise<void> {
    const file = basename(this.path);
    const dir = dirname(this.path);
    this.watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      ignored: (p: string) => p !== dir && basename(p) !== file,
    });
    const schedule = () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 150);
    };
    this.watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
    await new Promise<void>((resolve) => this.watcher?.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    clearTimeout(this.debounce);
    await this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }

  private apply(next: DaemonConfig): void {
    const previous = this.current;
    if (JSON.stringify(previous) === JSON.stringify(next)) return;
    this.current = next;
    this.log.info('config changed');
    for (const l of this.listeners) l(structuredClone(next), structuredClone(previous));
  }
}
