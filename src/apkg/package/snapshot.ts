/**
 * A consistent private copy of a collection file that may be live: the file and its `-wal`
 * (where the newest changes of a WAL-mode collection sit) are copied together and the copy is
 * checkpointed and left in rollback mode. The original is only read — opening it with SQLite,
 * even read-only, would leave -wal/-shm files beside a user's collection.
 */
import { copyFile, stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { translateSqliteError } from '../sqlite.js';
import { markRollbackJournal, renamePath } from './validate.js';

export async function snapshotCollection(src: string, copy: string): Promise<void> {
  try {
    await copyFile(src, copy);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw makeError(err.code === 'ENOENT' ? GeneralErrors.FILE_NOT_FOUND : GeneralErrors.IO, { path: src, operation: 'read', reason: err.message }, e);
  }
  const walSize = await stat(`${src}-wal`).then((s) => (s.isFile() ? s.size : 0), () => 0);
  if (walSize === 0) {
    // Nothing pending: the copy is complete; only its header may still say WAL mode.
    await markRollbackJournal(copy);
    return;
  }
  await copyFile(`${src}-wal`, `${copy}-wal`);
  await foldWal(copy, src);
}

/**
 * Folds `<file>-wal` into `file` (a private copy of ours, with its -wal beside it) and leaves it
 * in rollback mode; without a -wal only the header is switched. `shownAs` names the user's file
 * in errors.
 */
export async function foldWal(file: string, shownAs = file): Promise<void> {
  const walSize = await stat(`${file}-wal`).then((s) => (s.isFile() ? s.size : 0), () => 0);
  if (walSize === 0) {
    await markRollbackJournal(file);
    return;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('trusted_schema = OFF');
    // A private copy: no fsyncs needed (a crash loses only the temp folder).
    db.pragma('synchronous = OFF');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } catch (e) {
    throw renamePath(translateSqliteError(e, file), file, shownAs);
  } finally {
    db?.close();
  }
}
