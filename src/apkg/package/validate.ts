/**
 * Checking an extracted collection with the COLLECTION room's validation (defensive open,
 * integrity_check, schema 11..18, required tables, no triggers or views). Errors name the
 * package the user chose, not our temp file.
 */
import { open as openFile } from 'node:fs/promises';
import { AnkibridgeError } from '../../errors/ankibridge-error.js';
import { findError } from '../../errors/catalogue.js';
import { makeError } from '../../errors/define.js';
import { openCollectionDb } from '../sqlite.js';
import { validateCollection } from '../collection/schema.js';

export function validateExtractedCollection(file: string, shownAs: string, check: 'full' | 'quick' = 'full'): number {
  try {
    const db = openCollectionDb(file, { untrusted: true, readonly: true });
    try {
      // Anki's own connections use a 40 MB page cache; the full integrity check of a large
      // collection reads every page, and runs markedly faster with it than with the default 2 MB.
      db.pragma('cache_size = -40960');
      return validateCollection(db, { check }).ver;
    } finally {
      db.close();
    }
  } catch (e) {
    throw renamePath(e, file, shownAs);
  }
}

/** Replaces our private path by the user's in a catalogued error's details and message. */
export function renamePath(e: unknown, privatePath: string, shownAs: string): unknown {
  if (!(e instanceof AnkibridgeError) || e.details.path !== privatePath) return e;
  const spec = findError(e.code);
  if (!spec) return e;
  return makeError(spec, { ...e.details, path: shownAs }, e);
}

/**
 * The collection in a latest-format package is stored in WAL mode (header bytes 18/19 = 2)
 * without its -wal: switching the header to rollback mode changes nothing in the content and
 * lets SQLite open our private copy without creating -wal/-shm files.
 */
export async function markRollbackJournal(file: string): Promise<void> {
  const fh = await openFile(file, 'r+');
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    if (bytesRead === 20 && head.toString('latin1', 0, 16) === 'SQLite format 3\0' && head[18] === 2 && head[19] === 2) {
      // No fsync: the file lives in our private temp folder and is worthless after a crash.
      await fh.write(Buffer.from([1, 1]), 0, 2, 18);
    }
  } finally {
    await fh.close();
  }
}
