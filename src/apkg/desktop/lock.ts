/**
 * Our own lock on the desktop collection for the length of a read or a replace. Taking it also
 * proves Anki Desktop is not holding the file. Before locking, the collection is switched from
 * WAL to rollback mode (SQLite checkpoints the -wal into the file and removes it), so that the
 * file alone is the whole collection: a copy of it is complete, and a new file renamed over it
 * can never be mixed with a stale -wal. Anki switches it back to WAL when it next opens it.
 *
 * Hold it only as long as needed: while we hold it Anki cannot load the profile.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { GeneralErrors } from '../../errors/codes/general.js';

export type LockMode = 'read' | 'replace';

export interface CollectionLock extends Disposable {
  readonly path: string;
  readonly mode: LockMode;
  release(): void;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
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
  try {
    db = new Database(collectionPath, { fileMustExist: true, timeout: 0 });
    // Needs exclusive access: fails with SQLITE_BUSY if anyone else has the file open in WAL mode.
    const jm = db.pragma('journal_mode = DELETE', { simple: true }) as string;
    if (String(jm).toLowerCase() !== 'delete') throw Object.assign(new Error(`journal mode stayed ${jm}`), { code: 'SQLITE_BUSY' });
    db.exec(mode === 'read' ? 'BEGIN IMMEDIATE' : 'BEGIN EXCLUSIVE');
    // BEGIN EXCLUSIVE only asks for the lock; a read makes sure SQLite really has it.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    db?.close();
    if (isBusy(e)) throw makeError(DesktopErrors.ANKI_OPEN, { path: collectionPath, operation }, e);
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_FULL') throw makeError(GeneralErrors.DISK_FULL, { path: collectionPath }, e);
    throw makeError(GeneralErrors.IO, { operation: 'lock', path: collectionPath, reason: (e as Error).message }, e);
  }
  const conn = db;
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
  return { path: collectionPath, mode, release, [Symbol.dispose]: release };
}
