import { readFileSync } from 'node:fs';
import { AnkibridgeError, findError, makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { isAlive } from '../lock.js';
import { daemonPaths } from '../paths.js';
import { readRuntimeFile, type RuntimeInfo } from '../runtime-file.js';

/**
 * How the CLI (and the tray) talk to the running daemon: the runtime file says where it listens,
 * the token file holds the token. Errors from the daemon come back as the same catalogued errors.
 */
export class DaemonClient {
  private constructor(
    readonly info: RuntimeInfo,
    private readonly token: string,
    private readonly clientName: string,
  ) {}

  /** Finds the running daemon of this user (XDG folders), or throws DAEMON_NOT_RUNNING. */
  static connect(opts: { scope?: 'read' | 'write'; client?: string } = {}): DaemonClient {
    const paths = daemonPaths();
    const info = readRuntimeFile(paths.runtimeFile);
    if (!info || !isAlive(info.pid)) throw makeError(DaemonErrors.NOT_RUNNING, { runtimeFile: paths.runtimeFile });
    const tokenFile = opts.scope === 'read' ? info.readTokenFile : info.tokenFile;
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw makeError(GeneralErrors.IO, { operation: 'read', path: tokenFile, reason: (e as Error).message }, e);
    }
    return new DaemonClient(info, token, opts.client ?? 'cli');
  }

  async request<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.info.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          'x-ankibridge-client': this.clientName,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const reason = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
      throw makeError(DaemonErrors.UNREACHABLE, { url: this.info.url, reason }, e);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw makeError(DaemonErrors.UNREACHABLE, { url: this.info.url, reason: `answered ${res.status} with something that is not JSON` });
    }
    if (!res.ok) throw errorFromBody(json, res.status);
    return json as T;
  }
}

/** Rebuilds the daemon's catalogued error on this side, so the CLI shows the same code and exit code. */
export function errorFromBody(json: unknown, status: number): AnkibridgeError {
  const e = (json as { error?: { code?: unknown; details?: unknown } } | null)?.error;
  const spec = typeof e?.code === 'string' ? findError(e.code) : undefined;
  if (spec && e) {
    const details = (e.details && typeof e.details === 'object' ? e.details : {}) as Record<string, string | number | boolean | null>;
    return new AnkibridgeError(spec.code, spec, details);
  }
  return makeError(GeneralErrors.INTERNAL, { reason: `the daemon answered ${status} without a known error code` });
}
