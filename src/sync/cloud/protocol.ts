/**
 * Typed calls of the collection sync protocol (doc §3–§5) on top of SyncTransport, each answer
 * checked for shape. Media calls are in media/media-sync.ts.
 *
 * Checked against the real server (PyPI anki 26.9.3, `python -m anki.syncserver`), where the
 * doc was unverified or silent:
 *  - SYNC_PORT=0 works; the server logs `listening addr=127.0.0.1:<port>`.
 *  - Errors are plain-text bodies (the status number), no anki-original-size; every 200 has it.
 *  - Bodies are zstd streams without a content size; hostKey with a wrong password → 403;
 *    meta body v=12 → 501; header v=12 → 400; an unknown key in `{}` → 400 ("invalid json");
 *    a stateful call without `start` → 409; `s` empty → 400 ("missing skey").
 *  - Every `download` the server serves bumps its usn and mod, even when the client then throws
 *    the file away, so the other client's next sync is a normal one that moves nothing.
 *  - Tags the receiver creates from a sync are stored collapsed (collapsed = 1), as Anki does.
 *  - GET /health → 200; POST /health → 405.
 */
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { Redirect, SYNC_VERSION, SyncTransport } from './transport.js';
import { Shape } from './validate.js';
import type { Chunk, Graves, SanityCounts, SanityResult, SyncMeta, UnchunkedChanges } from './protocol-types.js';
import { parseChunk, parseUnchunkedChanges } from './parse-changes.js';

export async function hostKey(t: SyncTransport, user: string, password: string): Promise<string> {
  const saved = t.hkey;
  t.hkey = '';
  try {
    const res = await t.json('sync', 'hostKey', { u: user, p: password });
    const s = new Shape('sync/hostKey');
    return s.str(s.object(res, 'the answer').key, 'key');
  } catch (e) {
    if ((e as { code?: string }).code === CloudErrors.AUTH_FAILED.code) throw makeError(CloudErrors.AUTH_FAILED, { user }, e);
    throw e;
  } finally {
    t.hkey = saved || t.hkey;
  }
}

export interface MetaResult {
  meta: SyncMeta;
  /** set when the server redirected meta: the caller persists it (doc §2.4) */
  newEndpoint?: string;
}

/** meta, following at most one 308 to a new base URL (only meta may be redirected, doc §2.4). */
export async function meta(t: SyncTransport): Promise<MetaResult> {
  let newEndpoint: string | undefined;
  for (let hop = 0; hop < 2; hop++) {
    const res = await t.json('sync', 'meta', { v: SYNC_VERSION, cv: t.clientVersion }, { allowRedirect: hop === 0 });
    if (res instanceof Redirect) {
      t.endpoint = res.location.endsWith('/') ? res.location : `${res.location}/`;
      newEndpoint = t.endpoint;
      continue;
    }
    return newEndpoint ? { meta: parseMeta(res), newEndpoint } : { meta: parseMeta(res) };
  }
  throw makeError(CloudErrors.UNEXPECTED_REDIRECT, { step: 'sync/meta', location: 'a second redirect' });
}

export function parseMeta(v: unknown): SyncMeta {
  const s = new Shape('sync/meta');
  const o = s.object(v, 'the answer');
  return {
    mod: s.int(o.mod, 'mod'),
    scm: s.int(o.scm, 'scm'),
    usn: s.int(o.usn, 'usn'),
    ts: s.int(o.ts, 'ts'),
    msg: o.msg === undefined ? '' : s.str(o.msg, 'msg'),
    cont: s.bool(o.cont, 'cont'),
    hostNum: o.hostNum === undefined ? 0 : s.int(o.hostNum, 'hostNum'),
    empty: o.empty === undefined ? false : s.bool(o.empty, 'empty'),
    media_usn: o.media_usn === undefined ? 0 : s.int(o.media_usn, 'media_usn'),
  };
}

export function parseGraves(v: unknown, step: string): Graves {
  const s = new Shape(step);
  const o = s.object(v, 'the graves');
  return {
    cards: s.ints(o.cards ?? [], 'cards'),
    decks: s.ints(o.decks ?? [], 'decks'),
    notes: s.ints(o.notes ?? [], 'notes'),
  };
}

export async function start(t: SyncTransport, minUsn: number, localIsNewer: boolean): Promise<Graves> {
  return parseGraves(await t.json('sync', 'start', { minUsn, lnewer: localIsNewer }), 'sync/start');
}

async function expectNull(t: SyncTransport, method: string, body: unknown): Promise<void> {
  const res = await t.json('sync', method, body);
  if (res !== null) new Shape(`sync/${method}`).fail('expected null');
}

export function applyGraves(t: SyncTransport, chunk: Graves): Promise<void> {
  return expectNull(t, 'applyGraves', { chunk });
}

export async function applyChanges(t: SyncTransport, changes: UnchunkedChanges): Promise<UnchunkedChanges> {
  // note types carry 64-bit field and template ids both ways
  return parseUnchunkedChanges(await t.json('sync', 'applyChanges', { changes }, { lossless: true }), 'sync/applyChanges');
}

export async function chunk(t: SyncTransport): Promise<Chunk> {
  return parseChunk(await t.json('sync', 'chunk', {}), 'sync/chunk');
}

/** Sends one chunk, already written as the JSON text of a Chunk (LocalStore.takeLocalChunk). */
export async function applyChunk(t: SyncTransport, chunkJson: string): Promise<void> {
  const res = await t.jsonText('sync', 'applyChunk', `{"chunk":${chunkJson}}`);
  if (res !== null) new Shape('sync/applyChunk').fail('expected null');
}

export async function sanityCheck(t: SyncTransport, client: SanityCounts): Promise<SanityResult> {
  const s = new Shape('sync/sanityCheck2');
  const o = s.object(await t.json('sync', 'sanityCheck2', { client }), 'the answer');
  return { status: s.str(o.status, 'status'), c: o.c, s: o.s };
}

export async function finish(t: SyncTransport): Promise<number> {
  return new Shape('sync/finish').int(await t.json('sync', 'finish', {}), 'the timestamp');
}

/** Best effort: the server drops its open sync regardless of the session key (doc §4.10). */
export async function abort(t: SyncTransport): Promise<void> {
  try {
    await t.json('sync', 'abort', {});
  } catch {
    // ignored, as Anki does: the sync already failed for another reason.
  }
}

export async function upload(t: SyncTransport, file: Buffer): Promise<void> {
  const body = await t.call('sync', 'upload', file);
  const text = (body as Buffer).toString('utf8');
  // Verified: the server answers 200 with the text "OK"; refusals also come with 200 and a text (doc §5.1).
  if (text !== 'OK') throw makeError(CloudErrors.UPLOAD_REJECTED, { serverMessage: text.slice(0, 300) });
}

/** Streams the server collection into `outFile`; returns its size. */
export function download(t: SyncTransport, outFile: string): Promise<number> {
  return t.callToFile('sync', 'download', Buffer.from('{}'), outFile);
}
