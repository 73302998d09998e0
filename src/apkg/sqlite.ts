/**
 * Opening an Anki collection with better-sqlite3 (v12), with Anki's "unicase" collation loaded
 * from our own small extension (native/unicase, built by scripts/build-native.mjs), and — for
 * files that came from anyone — in a defensive mode that stops a crafted file from running code.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeError } from '../errors/define.js';
import { GeneralErrors } from '../errors/codes/general.js';
import { CollectionErrors } from '../errors/codes/collection.js';

export type CollectionDb = Database.Database;

export interface OpenCollectionOptions {
  /** Open read-only (and set query_only, so not even a pragma can write). */
  readonly?: boolean;
  /**
   * The file came from outside (a phone, a package): trusted_schema=OFF, defensive mode,
   * cell_size_check=ON, refuse triggers and views, and read a WAL-mode file from a private copy
   * so that nothing is ever created or changed beside the original. (Attached databases are
   * never a risk: a file cannot attach another by itself, and nothing here runs ATTACH.)
   */
  untrusted?: boolean;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Where the unicase extension lives; a named error if it was never built. */
export function unicaseExtensionPath(): string {
  const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  // src/apkg/sqlite.ts and dist/src/apkg/sqlite.js are both two or three levels below the root.
  for (const base of [root, path.resolve(root, '..')]) {
    const candidate = path.join(base, 'native/build', `unicase.${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  throw makeError(CollectionErrors.UNICASE_NOT_BUILT, { path: path.join(root, 'native/build', `unicase.${ext}`) });
}

/** The first 100 bytes of an SQLite file: what kind of file it is and its journal mode. */
export interface SqliteHeader {
  pageSize: number;
  /** Bytes 18/19 = 2: the file is in WAL mode (its newest pages may sit in `<file>-wal`). */
  wal: boolean;
}

export function readSqliteHeader(file: string): SqliteHeader {
  const buf = Buffer.alloc(100);
  let n: number;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw makeError(GeneralErrors.FILE_NOT_FOUND, { path: file }, e);
    throw makeError(GeneralErrors.IO, { operation: 'open', path: file, reason: (e as Error).message }, e);
  }
  try {
    n = readSync(fd, buf, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 100 || !buf.subarray(0, 16).equals(SQLITE_MAGIC)) throw makeError(CollectionErrors.NOT_SQLITE, { path: file });
  const raw = buf.readUInt16BE(16);
  return { pageSize: raw === 1 ? 65536 : raw, wal: buf[18] === 2 || buf[19] === 2 };
}

/**
 * Opens a collection file. The returned connection has the unicase collation; close it with
 * `db.close()` (which also removes a private copy, if one was made).
 */
export function openCollectionDb(file: string, opts: OpenCollectionOptions = {}): CollectionDb {
  const header = readSqliteHeader(file);
  const readonly = opts.readonly === true;
  let target = file;
  let privateDir: string | undefined;
  if (opts.untrusted && header.wal) {
    // A WAL-mode file would make SQLite create -wal/-shm files beside it (or fail when it may
    // not); reading a stranger's -wal is also more surface. A private copy, switched to rollback
    // mode, is read instead. A -wal beside the file is not followed: callers that want its
    // content (a live AnkiDroid folder) copy both and checkpoint first (package reader).
    privateDir = mkdtempSync(path.join(tmpdir(), 'ankibridge-col-'));
    target = path.join(privateDir, 'collection.anki2');
    copyFileSync(file, target);
    try {
      const w = new Database(target, { fileMustExist: true });
      try {
        w.pragma('trusted_schema = OFF');
        w.pragma('journal_mode = DELETE');
      } finally {
        w.close();
      }
    } catch (e) {
      rmSync(privateDir, { recursive: true, force: true });
      throw translateSqliteError(e, file);
    }
  }
  let db: CollectionDb;
  try {
    db = new Database(target, { readonly, fileMustExist: true });
  } catch (e) {
    if (privateDir) rmSync(privateDir, { recursive: true, force: true });
    throw translateSqliteError(e, file);
  }
  if (privateDir) {
    const dir = privateDir;
    const close = db.close.bind(db);
    db.close = () => {
      close();
      rmSync(dir, { recursive: true, force: true });
      return db;
    };
  }
  try {
    // Defensive mode (SQLITE_DBCONFIG_DEFENSIVE) is switched on by better-sqlite3 itself for
    // every connection and stays on as long as nobody calls db.unsafeMode(); we never do.
    db.pragma('trusted_schema = OFF');
    if (opts.untrusted) {
      db.pragma('cell_size_check = ON');
      db.pragma('mmap_size = 0');
      refuseCodeInSchema(db, file);
    }
    db.loadExtension(unicaseExtensionPath());
    if (readonly) db.pragma('query_only = ON');
  } catch (e) {
    db.close();
    throw translateSqliteError(e, file);
  }
  return db;
}

/**
 * Anki never creates triggers, views or virtual tables; a file that has them was crafted (a
 * trigger would run on our writes, a view or virtual table would run code on our reads), so it is
 * refused before any table is touched.
 */
export const UNSAFE_SCHEMA_SQL =
  "SELECT CASE WHEN type = 'table' THEN 'virtual table' ELSE type END AS type, name FROM sqlite_master " +
  "WHERE type IN ('trigger', 'view') OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%') LIMIT 1";

function refuseCodeInSchema(db: CollectionDb, file: string): void {
  const row = db.prepare(UNSAFE_SCHEMA_SQL).get() as { type: string; name: string } | undefined;
  if (row) throw makeError(CollectionErrors.UNSAFE_SCHEMA, { path: file, kind: row.type, name: row.name });
}

/** Maps an SQLite failure on an outside file to the catalogue; already-named errors pass through. */
export function translateSqliteError(e: unknown, file: string): Error {
  if (e instanceof Error && 'hint' in e) return e;
  const code = (e as { code?: string }).code ?? '';
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_NOTADB') return makeError(CollectionErrors.NOT_SQLITE, { path: file }, e);
  if (code.startsWith('SQLITE_CORRUPT') || /malformed/i.test(message)) {
    return makeError(CollectionErrors.CORRUPT, { path: file, reason: message }, e);
  }
  if (code === 'SQLITE_FULL') return makeError(GeneralErrors.DISK_FULL, { path: file }, e);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY')) {
    return makeError(GeneralErrors.IO, { operation: 'open', path: file, reason: message }, e);
  }
  return makeError(CollectionErrors.CORRUPT, { path: file, reason: message }, e);
}

/** Size of a file in bytes, for summaries. */
export function fileSize(file: string): number {
  return statSync(file).size;
}
