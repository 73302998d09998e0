/**
 * AnkiConnect (the popular add-on; HTTP JSON on 127.0.0.1:8765, protocol version 6, optional
 * `key`) — a way to talk to a running Anki Desktop. We use it only to know that Anki is running
 * (so we can tell the user to close it before a replace) and to ask it to sync with AnkiWeb. We
 * never write the collection through it. Every request has a short timeout and its own
 * connection (agent: false), so nothing stays open afterwards.
 */
import { request } from 'node:http';
import { makeError } from '../errors/define.js';
import { DesktopErrors } from '../errors/codes/desktop.js';

export interface AnkiConnectOptions {
  /** Default http://127.0.0.1:8765 */
  url?: string;
  /** The add-on's `apiKey`, if the user set one. */
  key?: string | undefined;
  timeoutMs?: number;
}

export const ANKI_CONNECT_DEFAULT_URL = 'http://127.0.0.1:8765';

function post(url: string, body: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1 << 20) {
            req.destroy(new Error('the answer is larger than 1 MiB'));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 400) reject(new Error(`HTTP ${res.statusCode}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** One AnkiConnect action; throws DESKTOP_ANKICONNECT_FAILED with the add-on's own error text. */
export async function ankiConnect<T>(action: string, params: Record<string, unknown> = {}, opts: AnkiConnectOptions = {}): Promise<T> {
  const url = opts.url ?? ANKI_CONNECT_DEFAULT_URL;
  const body = JSON.stringify({ action, version: 6, params, ...(opts.key ? { key: opts.key } : {}) });
  let text: string;
  try {
    text = await post(url, body, opts.timeoutMs ?? 1500);
  } catch (e) {
    throw makeError(DesktopErrors.ANKICONNECT_FAILED, { url, action, reason: (e as Error).message }, e);
  }
  let msg: { result?: unknown; error?: unknown };
  try {
    msg = JSON.parse(text) as { result?: unknown; error?: unknown };
  } catch (e) {
    throw makeError(DesktopErrors.ANKICONNECT_FAILED, { url, action, reason: 'the answer is not JSON' }, e);
  }
  if (typeof msg !== 'object' || msg === null || !('result' in msg) || !('error' in msg)) {
    throw makeError(DesktopErrors.ANKICONNECT_FAILED, { url, action, reason: 'the answer is not in AnkiConnect form' });
  }
  if (msg.error !== null) throw makeError(DesktopErrors.ANKICONNECT_FAILED, { url, action, reason: String(msg.error).slice(0, 300) });
  return msg.result as T;
}

export interface AnkiConnectStatus {
  /** Something answered as AnkiConnect: Anki Desktop is running. */
  running: boolean;
  version: number | null;
  /** It answered but refused us (wrong or missing key). */
  needsKey: boolean;
  reason: string | null;
}

/** Is Anki Desktop running with AnkiConnect? Never throws. */
export async function detectAnkiConnect(opts: AnkiConnectOptions = {}): Promise<AnkiConnectStatus> {
  try {
    const version = await ankiConnect<number>('version', {}, { timeoutMs: 800, ...opts });
    return { running: true, version: typeof version === 'number' ? version : null, needsKey: false, reason: null };
  } catch (e) {
    const reason = (e as Error).message;
    // The add-on answers "valid api key must be provided" when a key is set and ours is wrong.
    if (/api key/i.test(reason)) return { running: true, version: null, needsKey: true, reason };
    return { running: false, version: null, needsKey: false, reason };
  }
}

/** Asks the running Anki Desktop to sync with AnkiWeb (the add-on's `sync` action). */
export async function askAnkiToSync(opts: AnkiConnectOptions = {}): Promise<void> {
  await ankiConnect<null>('sync', {}, { timeoutMs: 120_000, ...opts });
}
