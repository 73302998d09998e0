/**
 * Our own lock on the desktop collection for the length of a read or a replace. Taking it also
 * proves Anki Desktop is not holding the file. Hold it only as long as needed: while we hold it
 * Anki cannot load the profile (it fails rather than waits).
 *
 * Anki closes its collection cleanly with the -wal folded in and removed, so normally the file
 * alone is the whole collection and we leave it byte for byte as it is: the lock is taken in
 * WAL mode and a failed replace changes nothing. Only when a non-empty -wal is beside it (Anki
 * crashed) is it switched to rollback mode first, which folds the -wal into the file (content
 * unchanged) so that a copy of the file is complete.
 *
 * Before the new collection is renamed over the old one, prepareForSwap() switches the old file
 * to rollback mode while we hold it: SQLite then removes the -wal now, and closing our connection
 * afterwards removes nothing by name (a -wal removed by name after the swap could belong to an
 * Anki that just opened the new file).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { GeneralErrors } from '../../errors/codes/general.js';

export type LockMode = 'read' | 'replace';

export interface CollectionLock extends Disposable {
  readonly path: string;
  readonly mode: LockMode;
  /** Only for 'replace': makes the old file safe to rename over (see the file comment). */
  prepareForSwap(): void;
  release(): void;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

function walHasContent(collectionPath: string): boolean {
  const st = statSync(`${collectionPath}-wal`, { throwIfNoEntry: false });
  return st !== undefined && st.size > 0;
}

function toRollbackMode(db: Database.Database): void {
  const jm = String(db.pragma('journal_mode = DELETE', { simple: true }));
  // SQLite answers with the mode it kept; anything but "delete" means someone else has the file.
  if (jm.toLowerCase() !== 'delete') throw Object.assign(new Error(`the journal mode stayed ${jm}`), { code: 'SQLITE_BUSY' });
}

/**
 * Locks the collection: 'read' lets others read but not write (a consistent copy), 'replace'
 * keeps everyone out (Anki must not open the old file while we swap it). Throws
 * DESKTOP_ANKI_OPEN when another program holds it.
 */
export function lockCollection(collectionPath: string, mode: LockMode): CollectionLock {
  const operation = mode === 'read' ? 'read' : 'replaced';
  if (!existsSync(collectionPath)) throw makeError(GeneralErrors.FILE_NOT_FOUND, { path: collectionPath });
  let db: Database.Database | undefined;
  const fail = (e: unknown): never => {
    if (isBusy(e)) throw makeError(DesktopErrors.ANKI_OPEN, { path: collectionPath, operation }, e);
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_FULL') throw makeError(GeneralErrors.DISK_FULL, { path: collectionPath }, e);
    throw makeError(GeneralErrors.IO, { operation: 'lock', path: collectionPath, reason: (e as Error).message }, e);
  };
  try {
    db = new Database(collectionPath, { fileMustExist: true, timeout: 0 });
    if (walHasContent(collectionPath)) toRollbackMode(db);
    // 'replace': an exclusive lock on the file itself for as long as the connection is open.
    if (mode === 'replace') db.pragma('locking_mode = EXCLUSIVE');
    db.exec(mode === 'read' ? 'BEGIN IMMEDIATE' : 'BEGIN EXCLUSIVE');
    // BEGIN only asks for the lock; a read makes SQLite really take it.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    db?.close();
    fail(e);
  }
  const conn = db as Database.Database;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      if (conn.inTransaction) conn.exec('ROLLBACK');
    } finally {
      conn.close();
    }
  };
  const prepareForSwap = (): void => {
    if (mode !== 'replace') throw new Error('prepareForSwap needs a replace lock');
    try {
      conn.exec('ROLLBACK');
      // We keep the exclusive file lock (locking_mode=EXCLUSIVE) across these statements.
      toRollbackMode(conn);
      conn.exec('BEGIN EXCLUSIVE');
      conn.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (e) {
      fail(e);
    }
  };
  return { path: collectionPath, mode, prepareForSwap, release, [Symbol.dispose]: release };
}
