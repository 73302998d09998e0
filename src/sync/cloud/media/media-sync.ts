/**
 * Media sync (doc §6): scan the folder, fetch the server's changes since our last usn and
 * download what is new (≤25 names a request, the server may send fewer), upload our dirty files
 * in zips of ≤25 files / ~2.5 MiB, and finish with the sanity check.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { makeError } from '../../../errors/define.js';
import { CloudErrors } from '../../../errors/codes/cloud.js';
import { GeneralErrors } from '../../../errors/codes/general.js';
import { parseJson, type SyncTransport } from '../transport.js';
import { Shape } from '../validate.js';
import { MediaDb, mediaPaths, type MediaRow } from './media-db.js';
import { buildUploadZip, readZipEntries } from './media-zip.js';

export const MAX_FILES_IN_ZIP = 25;
export const TARGET_ZIP_BYTES = 2_621_440;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;
const MAX_NAME_BYTES = 120;

export interface MediaSyncResult {
  downloaded: number;
  deletedLocally: number;
  uploaded: number;
  deletedOnServer: number;
  serverUsn: number;
}

async function mediaCall(t: SyncTransport, method: string, body: unknown): Promise<unknown> {
  const step = `msync/${method}`;
  const s: Shape = new Shape(step);
  // uploadChanges sends the zip itself; every other call sends JSON
  const raw = Buffer.isBuffer(body) ? ((await t.call('msync', method, body)) as Buffer) : ((await t.call('msync', method, Buffer.from(JSON.stringify(body)))) as Buffer);
  const o = s.object(parseJson(raw, step), 'the answer');
  if (typeof o.err === 'string' && o.err !== '') throw makeError(CloudErrors.SERVER_MESSAGE, { serverMessage: o.err });
  if (!('data' in o)) s.fail('it has no data');
  return o.data;
}

/** A file name from a server is just data: no folders, no dot names, no control characters. */
function safeName(name: string): boolean {
  return (
    name.length > 0 &&
    Buffer.byteLength(name) <= 255 &&
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    !/[\\/:\x00-\x1f]/.test(name) &&
    name !== '.' &&
    name !== '..' &&
    !name.startsWith('.') &&
    name.normalize('NFC') === name
  );
}

function moveToTrash(dir: string, name: string): void {
  const file = path.join(dir, name);
  if (!existsSync(file)) return;
  const trash = path.join(path.dirname(dir), 'media.trash');
  mkdirSync(trash, { recursive: true });
  let target = path.join(trash, name);
  if (existsSync(target)) target = path.join(trash, `${Date.now()}-${name}`);
  try {
    renameSync(file, target);
  } catch {
    rmSync(file, { force: true });
  }
}

export async function syncMedia(
  t: SyncTransport,
  collectionPath: string,
  opts: { serverUsn?: number; signal?: AbortSignal; onProgress?: (p: { phase: string; done: number; total: number }) => void } = {},
): Promise<MediaSyncResult> {
  const { dir, db: dbFile } = mediaPaths(collectionPath);
  mkdirSync(dir, { recursive: true });
  const mdb = new MediaDb(dbFile);
  const result: MediaSyncResult = { downloaded: 0, deletedLocally: 0, uploaded: 0, deletedOnServer: 0, serverUsn: 0 };
  const checkAbort = (): void => {
    if (opts.signal?.aborted) throw makeError(GeneralErrors.CANCELLED);
  };
  try {
    mdb.scan(dir);
    let serverUsn = opts.serverUsn;
    if (serverUsn === undefined) {
      const s = new Shape('msync/begin');
      const data = s.object(await mediaCall(t, 'begin', { v: t.clientVersion }), 'data');
      serverUsn = s.int(data.usn, 'usn');
    }
    let didSomething = false;
    if (mdb.lastUsn() !== serverUsn) {
      didSomething = true;
      await fetchChanges(t, mdb, dir, result, checkAbort, opts.onProgress);
    }
    if (mdb.dirty(1).length) {
      didSomething = true;
      await sendChanges(t, mdb, dir, result, checkAbort, opts.onProgress);
    }
    if (didSomething) {
      const s = new Shape('msync/mediaSanity');
      const status = s.str(await mediaCall(t, 'mediaSanity', { local: mdb.nonDeletedCount() }), 'data');
      if (status !== 'OK') {
        const local = mdb.nonDeletedCount();
        mdb.forceResync();
        throw makeError(CloudErrors.MEDIA_SANITY_FAILED, { local });
      }
    }
    result.serverUsn = mdb.lastUsn();
    return result;
  } finally {
    mdb.close();
  }
}

async function fetchChanges(
  t: SyncTransport,
  mdb: MediaDb,
  dir: string,
  result: MediaSyncResult,
  checkAbort: () => void,
  onProgress?: (p: { phase: string; done: number; total: number }) => void,
): Promise<void> {
  const s: Shape = new Shape('msync/mediaChanges');
  for (;;) {
    checkAbort();
    const last = mdb.lastUsn();
    const records = s.array(await mediaCall(t, 'mediaChanges', { lastUsn: last }), 'data').map((r, i) => {
      const a = s.array(r, `data[${i}]`);
      const name = s.str(a[0], 'file name');
      if (!safeName(name)) s.fail(`the file name ${JSON.stringify(name).slice(0, 80)} is not allowed`);
      return { name, usn: s.int(a[1], 'usn'), sha1: s.str(a[2], 'sha1') };
    });
    if (!records.length) return;
    const toDownload: { name: string; sha1: string }[] = [];
    let maxUsn = last;
    for (const r of records) {
      if (r.usn <= maxUsn) s.fail('the usns do not increase');
      maxUsn = r.usn;
      const local = mdb.get(r.name);
      const localSha = local?.csum ?? '';
      const pending = local?.dirty === 1;
      if (r.sha1 === '') {
        if (localSha === '') {
          if (local) mdb.remove(r.name);
        } else if (!pending) {
          // deleted on the server and unchanged here: delete here too (doc §6.2) — into
          // media.trash beside the media folder, as Anki does, never straight to oblivion
          moveToTrash(dir, r.name);
          mdb.remove(r.name);
          result.deletedLocally++;
        }
      } else if (localSha === r.sha1) {
        if (pending && local) mdb.put({ ...local, dirty: 0 });
      } else {
        if (!/^[0-9a-f]{40}$/.test(r.sha1)) s.fail('a sha1 is not 40 hex digits');
        toDownload.push({ name: r.name, sha1: r.sha1 });
      }
    }
    await downloadFiles(t, mdb, dir, toDownload, result, checkAbort, onProgress);
    mdb.setLastUsn(maxUsn);
  }
}

async function downloadFiles(
  t: SyncTransport,
  mdb: MediaDb,
  dir: string,
  wanted: { name: string; sha1: string }[],
  result: MediaSyncResult,
  checkAbort: () => void,
  onProgress?: (p: { phase: string; done: number; total: number }) => void,
): Promise<void> {
  const step = 'msync/downloadFiles';
  const s: Shape = new Shape(step);
  const queue = [...wanted];
  const total = wanted.length;
  while (queue.length) {
    checkAbort();
    const batch = queue.slice(0, MAX_FILES_IN_ZIP);
    const zipBytes = (await t.call('msync', 'downloadFiles', Buffer.from(JSON.stringify({ files: batch.map((b) => b.name) })))) as Buffer;
    let entries: Map<string, Buffer>;
    try {
      entries = await readZipEntries(zipBytes);
    } catch (e) {
      throw makeError(CloudErrors.BAD_RESPONSE, { step, reason: `the zip is damaged (${(e as Error).message})` }, e);
    }
    const metaBuf = entries.get('_meta');
    if (!metaBuf) s.fail('the zip has no _meta entry');
    let meta: Record<string, unknown>;
    try {
      meta = s.object(JSON.parse(metaBuf.toString('utf8')), '_meta');
    } catch (e) {
      if ((e as { code?: string }).code) throw e;
      s.fail('_meta is not JSON');
    }
    const got = new Set<string>();
    for (const [inZip, data] of entries) {
      if (inZip === '_meta') continue;
      const name = meta[inZip];
      if (typeof name !== 'string') s.fail(`zip entry ${inZip} is not listed in _meta`);
      const want = batch.find((b) => b.name === name);
      if (!want) s.fail(`the zip holds ${name}, which was not asked for`);
      const sha1 = createHash('sha1').update(data).digest('hex');
      if (sha1 !== want.sha1) s.fail(`${name} does not match its announced checksum`);
      // write beside, then rename: a reader sees the old file or the new one
      const final = path.join(dir, name);
      const tmp = path.join(dir, `.${randomBytes(6).toString('hex')}.part`);
      writeFileSync(tmp, data);
      renameSync(tmp, final);
      mdb.put({ fname: name, csum: sha1, mtime: Math.floor(statSync(final).mtimeMs / 1000), dirty: 0 });
      got.add(name);
      result.downloaded++;
    }
    if (got.size === 0) s.fail('the server sent no file of those asked for');
    // the server stops at ~2.5 MiB: ask again for the rest (doc §6.2)
    for (let i = queue.length - 1; i >= 0; i--) if (got.has((queue[i] as { name: string }).name)) queue.splice(i, 1);
    onProgress?.({ phase: 'media-download', done: total - queue.length, total });
  }
}

async function sendChanges(
  t: SyncTransport,
  mdb: MediaDb,
  dir: string,
  result: MediaSyncResult,
  checkAbort: () => void,
  onProgress?: (p: { phase: string; done: number; total: number }) => void,
): Promise<void> {
  const s: Shape = new Shape('msync/uploadChanges');
  for (;;) {
    checkAbort();
    const rows = mdb.dirty(MAX_FILES_IN_ZIP);
    if (!rows.length) return;
    const batch: { row: MediaRow; data: Buffer | null }[] = [];
    let bytes = 0;
    for (const row of rows) {
      const file = path.join(dir, row.fname);
      let data: Buffer | null = null;
      if (row.csum !== null && existsSync(file)) {
        const size = statSync(file).size;
        if (size === 0 || size > MAX_FILE_BYTES || Buffer.byteLength(row.fname) > MAX_NAME_BYTES) {
          // the server refuses these (doc §6.4); Anki drops them from the media DB
          mdb.remove(row.fname);
          continue;
        }
        data = readFileSync(file);
      }
      batch.push({ row, data });
      bytes += data?.length ?? 0;
      if (bytes > TARGET_ZIP_BYTES) break;
    }
    if (!batch.length) continue;
    const zip = await buildUploadZip(batch.map((b) => ({ name: b.row.fname, data: b.data })));
    const before = mdb.lastUsn();
    const data = s.array(await mediaCall(t, 'uploadChanges', zip), 'data');
    const processed = s.int(data[0], 'processed');
    const currentUsn = s.int(data[1], 'current usn');
    if (processed < 0 || processed > batch.length) s.fail(`it says ${processed} files were processed of ${batch.length}`);
    for (const b of batch.slice(0, processed)) {
      if (b.data) {
        mdb.markClean(b.row.fname);
        result.uploaded++;
      } else {
        mdb.remove(b.row.fname);
        result.deletedOnServer++;
      }
    }
    // only when nobody else changed the server meanwhile (doc §6.4)
    if (before + processed === currentUsn) mdb.setLastUsn(currentUsn);
    onProgress?.({ phase: 'media-upload', done: result.uploaded + result.deletedOnServer, total: 0 });
    if (processed === 0) s.fail('the server processed none of the files');
  }
}
