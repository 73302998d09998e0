/**
 * One-way full syncs (doc §5). Both replace a whole collection, so both run only after an
 * explicit choice of direction (cloud-sync.ts) and back up the side that is replaced first.
 *
 * Upload: the local collection is copied (VACUUM INTO), Anki's before-upload bookkeeping is done
 * on the copy, the copy is uploaded, and only after the server said OK does the copy replace the
 * local file — so a failed upload leaves the local collection byte-for-byte as it was.
 * Download: the file goes to a temp file beside the collection, is checked (integrity_check,
 * schema), `ls = mod` is set as Anki does, and it is renamed over the local file.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { openCollectionDb } from '../../apkg/sqlite.js';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import { isAnkiWeb } from './endpoint.js';
import * as P from './protocol.js';
import { MAX_PAYLOAD_UNCOMPRESSED, type SyncTransport } from './transport.js';
import { fsyncDir, fsyncFile } from '../../apkg/fs-durable.js';

export type BackupFn = (collectionPath: string, reason: string) => Promise<unknown>;

function tempBeside(file: string, tag: string): string {
  // ends in .anki2: Anki (and the backup store) recognise a collection by that name
  return path.join(path.dirname(file), `.${path.basename(file, '.anki2')}.${tag}-${randomBytes(4).toString('hex')}.anki2`);
}


/** Atomic replace of a collection; stale -wal/-shm of the old file must not be applied to the new one. */
export function replaceCollectionFile(tmp: string, target: string): void {
  fsyncFile(tmp);
  for (const ext of ['-wal', '-shm']) rmSync(target + ext, { force: true });
  renameSync(tmp, target);
  fsyncDir(path.dirname(target));
}

/** Anki's before_upload bookkeeping (doc §5.1 step 1), on a copy. */
function prepareUploadCopy(collectionPath: string, copyPath: string): void {
  // not readonly: query_only would refuse VACUUM INTO, which only reads the source
  const src = openCollectionDb(collectionPath);
  try {
    src.prepare('VACUUM INTO ?').run(copyPath);
  } finally {
    src.close();
  }
  const db = openCollectionDb(copyPath);
  try {
    const now = Date.now();
    db.transaction(() => {
      db.exec('DELETE FROM graves');
      for (const t of ['notes', 'cards', 'revlog']) db.exec(`UPDATE ${t} SET usn = 0 WHERE usn = -1`);
      for (const t of ['tags', 'deck_config', 'decks', 'notetypes', 'templates']) db.exec(`UPDATE ${t} SET usn = 0`);
      db.prepare('UPDATE col SET usn = usn + 1, scm = ?, ls = ?, mod = ?').run(now, now, now);
    })();
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

export async function fullUpload(
  t: SyncTransport,
  collectionPath: string,
  opts: { backup: BackupFn; serverEmpty: boolean },
): Promise<void> {
  // The server copy is about to be replaced: keep it first, unless there is nothing in it.
  if (!opts.serverEmpty) {
    const serverCopy = tempBeside(collectionPath, 'server');
    try {
      await downloadTo(t, serverCopy);
      await opts.backup(serverCopy, 'pre-overwrite: server collection before full upload');
    } finally {
      rmSync(serverCopy, { force: true });
    }
  }
  const copy = tempBeside(collectionPath, 'upload');
  try {
    prepareUploadCopy(collectionPath, copy);
    const size = statSync(copy).size;
    if (isAnkiWeb(t.endpoint) && size >= MAX_PAYLOAD_UNCOMPRESSED) {
      throw makeError(CloudErrors.UPLOAD_TOO_LARGE, { size, limit: MAX_PAYLOAD_UNCOMPRESSED });
    }
    await P.upload(t, readFileSync(copy));
    // The server now holds exactly this file; the local collection becomes the same file.
    replaceCollectionFile(copy, collectionPath);
  } finally {
    rmSync(copy, { force: true });
  }
}

/** Downloads the server collection into `out` and checks it; `out` is removed on failure. */
async function downloadTo(t: SyncTransport, out: string, finalize = false): Promise<void> {
  try {
    await P.download(t, out);
    verifyDownloaded(out, finalize);
  } catch (e) {
    rmSync(out, { force: true });
    throw e;
  }
}

/**
 * Checks a downloaded collection and does Anki's after-download bookkeeping in one open. The
 * file is our own temp file, so it is opened directly (no private copy), but its content came
 * from a server: triggers and views are refused before anything is written, then
 * integrity_check (as Anki does), the schema version and the main tables are checked.
 */
function verifyDownloaded(file: string, finalize: boolean): void {
  let db: Database.Database | undefined;
  try {
    db = openCollectionDb(file);
    const code = db.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') LIMIT 1").get() as { type: string; name: string } | undefined;
    if (code) throw new Error(`it contains a ${code.type} (${code.name}), which Anki never creates`);
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`integrity check: ${String(check)}`);
    const ver = (db.prepare('SELECT ver FROM col').get() as { ver: number } | undefined)?.ver;
    if (ver === undefined || ver < 11 || ver > 18) throw new Error(`unexpected collection schema ${String(ver)}`);
    for (const t of ['notes', 'cards', 'revlog', 'decks', 'notetypes']) db.prepare(`SELECT count() FROM ${t}`).get();
    if (finalize) {
      // As Anki does after a download (doc §5.2): the file is now "synced as of its mod".
      db.exec('UPDATE col SET ls = mod');
      db.pragma('journal_mode = DELETE');
    }
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ANKIBRIDGE_') && !(e as { code: string }).code.includes('COLLECTION')) throw e;
    throw makeError(CloudErrors.DOWNLOAD_CORRUPT, { reason: (e as Error).message }, e);
  } finally {
    db?.close();
  }
}

export async function fullDownload(t: SyncTransport, collectionPath: string, opts: { backup: BackupFn }): Promise<void> {
  const tmp = tempBeside(collectionPath, 'download');
  try {
    await downloadTo(t, tmp, true);
    if (existsSync(collectionPath)) await opts.backup(collectionPath, 'pre-overwrite: local collection before full download');
    replaceCollectionFile(tmp, collectionPath);
  } finally {
    rmSync(tmp, { force: true });
  }
}
