/**
 * The HTTP layer of Anki's sync protocol v11 (doc §2): POST <base>sync/<method> or
 * <base>msync/<method>, the `anki-sync` header, zstd bodies both ways, the
 * `anki-original-size` check, the stall timeout and the HTTP-status → error mapping (doc §7).
 * Uses node:http(s) directly: a per-transport keep-alive agent (destroyed by dispose()) and a
 * socket idle timer that implements Anki's "no bytes moved for N seconds" rule.
 */
import http from 'node:http';
import https from 'node:https';
import { randomInt } from 'node:crypto';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { AnkibridgeError, isAnkibridgeError } from '../../errors/ankibridge-error.js';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { DecompressStream } from 'zstd-napi';
import { clientVersionString } from './client-version.js';
import { normalizeEndpoint } from './endpoint.js';
import { parseJsonLossless, stringifyJsonLossless } from '../../apkg/collection/json.js';
import { ZstdTooLarge, zstdCompress, zstdDecompress } from './zstd.js';

/** v11: metadata in a header, zstd bodies, schema-18 full syncs (doc §1). */
export const SYNC_VERSION = 11;
/** Largest uncompressed payload the server accepts or sends (doc §8: 3 × 100 MiB). */
export const MAX_PAYLOAD_UNCOMPRESSED = 300 * 1024 * 1024;

export type SyncGroup = 'sync' | 'msync';

export interface TransportOptions {
  endpoint?: string;
  /** Host key from login; "" only for hostKey itself. */
  hkey?: string;
  /** Abort everything in flight (the job was cancelled). */
  signal?: AbortSignal;
  /** Fail when no byte moved for this long (Anki: 30 s client default, desktop 60 s). */
  ioTimeoutMs?: number;
  clientVersion?: string;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A 308 on meta (the only place the protocol allows one, doc §2.4). */
export class Redirect {
  constructor(readonly location: string) {}
}

export class SyncTransport {
  endpoint: string;
  hkey: string;
  /** One random session key per sync (doc §3.2: base-62 of a random u32 in Anki; any non-empty string works). */
  readonly sessionKey: string;
  readonly clientVersion: string;
  private readonly ioTimeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly agent: http.Agent;

  constructor(opts: TransportOptions = {}) {
    this.endpoint = normalizeEndpoint(opts.endpoint);
    this.hkey = opts.hkey ?? '';
    this.sessionKey = randomInt(1, 2 ** 32 - 1).toString(36);
    this.clientVersion = opts.clientVersion ?? clientVersionString();
    this.ioTimeoutMs = opts.ioTimeoutMs ?? 60_000;
    this.signal = opts.signal;
    const AgentClass = this.endpoint.startsWith('https:') ? https.Agent : http.Agent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets: 2 });
  }

  dispose(): void {
    this.agent.destroy();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Sends a JSON request and returns the decoded JSON answer (validated by the caller).
   * `lossless`: 64-bit integers (bigint) go out as plain digits and come back as bigint where a
   * double would round them — note type field and template ids (applyChanges).
   */
  async json(group: SyncGroup, method: string, value: unknown, opts: { allowRedirect?: boolean; lossless?: boolean } = {}): Promise<unknown | Redirect> {
    const text = opts.lossless ? stringifyJsonLossless(value) : JSON.stringify(value);
    const body = await this.call(group, method, Buffer.from(text), opts);
    if (body instanceof Redirect) return body;
    return parseJson(body, `${group}/${method}`, opts.lossless);
  }

  /** json() with the request already written as JSON text. */
  async jsonText(group: SyncGroup, method: string, text: string): Promise<unknown> {
    const body = await this.call(group, method, Buffer.from(text));
    return parseJson(body as Buffer, `${group}/${method}`);
  }

  /**
   * One POST. Returns the decompressed body of a 200, a Redirect for a 308 when allowed, and
   * throws a named CLOUD error for everything else.
   */
  async call(group: SyncGroup, method: string, payload: Buffer, opts: { allowRedirect?: boolean } = {}): Promise<Buffer | Redirect> {
    const step = `${group}/${method}`;
    const url = new URL(`${group}/${method}`, this.endpoint);
    const res = await this.post(url, zstdCompress(payload), step);
    if (res.status === 308 && opts.allowRedirect) {
      const location = res.headers.location;
      if (!location) throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: 'a redirect without a Location header' });
      return new Redirect(new URL(location, url).toString());
    }
    if (res.status !== 200) throw statusError(res, step);
    const sizeHeader = res.headers['anki-original-size'];
    // Anki's client rejects a 200 without this header (doc §2.3; verified: the server sends it on every 200).
    if (typeof sizeHeader !== 'string' || !/^\d+$/.test(sizeHeader)) {
      throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: 'the anki-original-size header is missing' });
    }
    const expected = Number(sizeHeader);
    if (expected > MAX_PAYLOAD_UNCOMPRESSED) {
      throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it announces ${expected} bytes, more than the protocol allows` });
    }
    let body: Buffer;
    try {
      body = zstdDecompress(res.body, expected);
    } catch (e) {
      if (e instanceof ZstdTooLarge) throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: e.message }, e);
      throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `the zstd data is damaged or cut short (${(e as Error).message})` }, e);
    }
    if (body.length !== expected) {
      throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it holds ${body.length} bytes where the server announced ${expected}` });
    }
    return body;
  }

  /**
   * A call whose (large) answer goes straight to a file: the zstd stream is decompressed while it
   * arrives and written as it comes, so a 100 MB collection never sits in memory twice and the
   * network, the decompressor and the disk work at the same time. Same checks as call(): status,
   * anki-original-size present and equal to what was written, damaged zstd → BAD_RESPONSE.
   */
  async callToFile(group: SyncGroup, method: string, payload: Buffer, outFile: string): Promise<number> {
    const step = `${group}/${method}`;
    const url = new URL(`${group}/${method}`, this.endpoint);
    let written = -1;
    const res = await this.post(url, zstdCompress(payload), step, async (incoming) => {
      const sizeHeader = incoming.headers['anki-original-size'];
      if (typeof sizeHeader !== 'string' || !/^\d+$/.test(sizeHeader)) {
        throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: 'the anki-original-size header is missing' });
      }
      const expected = Number(sizeHeader);
      if (expected > MAX_PAYLOAD_UNCOMPRESSED) {
        throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it announces ${expected} bytes, more than the protocol allows` });
      }
      let count = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          count += chunk.length;
          if (count > expected) cb(makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it holds more than the ${expected} bytes the server announced` }));
          else cb(null, chunk);
        },
      });
      // opened before the first byte and closed before we return, even on error: a write that
      // landed after the caller removed the file would leave a stray file behind
      const out = createWriteStream(outFile);
      await once(out, 'open');
      try {
        await pipeline(incoming, coalesce(1 << 20), new DecompressStream(), counter, out);
      } catch (e) {
        if (!out.closed) await once(out, 'close').catch(() => undefined);
        if ((e as { code?: string }).code?.startsWith('ANKIBRIDGE_')) throw e;
        throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `the zstd data is damaged or cut short (${(e as Error).message})` }, e);
      }
      if (count !== expected) {
        throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it holds ${count} bytes where the server announced ${expected}` });
      }
      written = count;
    });
    if (res.status !== 200) throw statusError(res, step);
    return written;
  }

  private post(url: URL, body: Buffer, step: string, sink?: (res: http.IncomingMessage) => Promise<void>): Promise<RawResponse> {
    if (this.signal?.aborted) return Promise.reject(makeError(GeneralErrors.CANCELLED));
    const header = JSON.stringify({ v: SYNC_VERSION, k: this.hkey, c: this.clientVersion, s: this.sessionKey });
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, value?: RawResponse): void => {
        if (settled) return;
        settled = true;
        this.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as RawResponse);
      };
      const req = mod.request(url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': body.length,
          'anki-sync': header,
        },
      });
      // While an answer streams into a file, a failure waits for that stream to close, so no
      // write can land after the caller has cleaned the file up.
      let sinking: Promise<unknown> | undefined;
      let failure: Error | undefined;
      const fail = (e: Error): void => {
        failure ??= e;
        req.destroy();
        if (sinking) void sinking.finally(() => done(failure as Error));
        else done(e);
      };
      const onAbort = (): void => fail(makeError(GeneralErrors.CANCELLED));
      this.signal?.addEventListener('abort', onAbort, { once: true });
      // Socket idle timer: fires only when no byte moved for ioTimeoutMs (Anki's stall rule, doc §2.2).
      req.setTimeout(this.ioTimeoutMs, () => fail(makeError(CloudErrors.TIMEOUT, { step, seconds: Math.round(this.ioTimeoutMs / 1000) })));
      req.on('error', (e) => {
        if (!sinking) done(makeError(CloudErrors.NETWORK, { step, reason: e.message }, e));
      });
      req.on('response', (res) => {
        if (sink && res.statusCode === 200) {
          sinking = sink(res).then(
            () => (failure ? done(failure) : done(null, { status: 200, headers: res.headers, body: Buffer.alloc(0) })),
            (e: unknown) => {
              req.destroy();
              done(failure ?? (isAnkibridgeError(e) ? e : makeError(CloudErrors.BAD_RESPONSE, { step, reason: (e as Error).message }, e)));
            },
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers['content-length'] ?? NaN);
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_PAYLOAD_UNCOMPRESSED) {
            req.destroy();
            done(makeError(CloudErrors.BAD_RESPONSE, { step, reason: 'the answer is larger than the protocol allows' }));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => done(makeError(CloudErrors.NETWORK, { step, reason: e.message }, e)));
        res.on('aborted', () => done(makeError(CloudErrors.BAD_RESPONSE, { step, reason: 'the connection closed in the middle of the answer' })));
        res.on('end', () => {
          const all = Buffer.concat(chunks, size);
          if (Number.isFinite(declared) && declared !== all.length) {
            done(makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it holds ${all.length} bytes where Content-Length said ${declared}` }));
            return;
          }
          done(null, { status: res.statusCode ?? 0, headers: res.headers, body: all });
        });
      });
      req.end(body);
    });
  }
}

/**
 * Gathers the small network chunks (a few KiB each from the server) into ~1 MiB pieces before
 * the decompressor: far fewer native calls and writes for a large download.
 */
function coalesce(size: number): Transform {
  let parts: Buffer[] = [];
  let have = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      have += chunk.length;
      if (have < size) return cb();
      const all = Buffer.concat(parts, have);
      parts = [];
      have = 0;
      cb(null, all);
    },
    flush(cb) {
      cb(null, have ? Buffer.concat(parts, have) : undefined);
    },
  });
}

export function parseJson(body: Buffer, step: string, lossless = false): unknown {
  try {
    return lossless ? parseJsonLossless(body.toString('utf8')) : JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `it is not valid JSON (${(e as Error).message})` }, e);
  }
}

/** HTTP status → named error, as Anki's client maps them (doc §7, statuses verified against the server). */
export function statusError(res: RawResponse, step: string): AnkibridgeError {
  const status = res.status;
  if (status === 403) return makeError(CloudErrors.AUTH_FAILED, { user: 'this account', step });
  if (status === 400) return makeError(CloudErrors.DATABASE_CHECK_REQUIRED, { step });
  if (status === 409) return makeError(CloudErrors.CONFLICT, { step });
  if (status === 501) return makeError(CloudErrors.CLIENT_TOO_OLD, { step });
  if (status >= 300 && status < 400) {
    return makeError(CloudErrors.UNEXPECTED_REDIRECT, { step, location: String(res.headers.location ?? '(none)') });
  }
  if (status >= 500) return makeError(CloudErrors.SERVER_ERROR, { step, status });
  return makeError(CloudErrors.HTTP_STATUS, { step, status });
}
