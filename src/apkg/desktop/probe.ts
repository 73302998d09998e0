/**
 * Is Anki Desktop holding the collection? Anki keeps one connection open with
 * locking_mode=exclusive and journal_mode=wal (docs/anki-package-formats.md §6.3), so anyone else
 * gets SQLITE_BUSY. The probe asks SQLite for a write lock with busy_timeout 0 and gives it back
 * at once: it never holds a lock longer than those two statements (a lock of ours would make
 * Anki fail to load the profile).
 *
 * When a -wal with content lies beside the file (Anki was killed), a read-write connection
 * would fold it into the file when it closes. The probe must only look, so it then reads through
 * a read-only connection instead (a lock held by Anki still makes that read fail).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';

export type CollectionState = 'free' | 'open' | 'missing';

export interface ProbeResult {
  state: CollectionState;
  /** `collection.anki2-wal` exists: Anki has it open, or was not closed cleanly. */
  walPresent: boolean;
  /** Why the state is what it is, for logs and the user. */
  reason: string;
  checkedAt: number;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

export function probeCollection(collectionPath: string): ProbeResult {
  const checkedAt = Date.now();
  if (!existsSync(collectionPath)) return { state: 'missing', walPresent: false, reason: 'the collection file does not exist', checkedAt };
  const walPresent = existsSync(`${collectionPath}-wal`);
  const walHasContent = walPresent && (statSync(`${collectionPath}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0;
  let db: Database.Database | undefined;
  try {
    if (walHasContent) {
      db = new Database(collectionPath, { fileMustExist: true, timeout: 0, readonly: true });
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } else {
      db = new Database(collectionPath, { fileMustExist: true, timeout: 0 });
      // BEGIN IMMEDIATE takes the write lock (and in WAL mode the WAL write lock) or fails at once.
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    }
    return {
      state: 'free',
      walPresent,
      reason: walPresent ? 'no program holds it (a -wal file was left by a program that did not close it cleanly)' : 'no program holds it',
      checkedAt,
    };
  } catch (e) {
    if (isBusy(e)) return { state: 'open', walPresent, reason: 'another program (Anki Desktop) holds a lock on it', checkedAt };
    // Not a lock problem (unreadable, not a database): report it as open, the safe answer; the
    // caller that then reads it gets the real error from the reader.
    return { state: 'open', walPresent, reason: `it could not be probed: ${(e as Error).message}`, checkedAt };
  } finally {
    db?.close();
  }
}
