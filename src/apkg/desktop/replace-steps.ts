/**
 * The file steps of replacing the desktop collection, the way Anki's own colpkg import does it
 * (docs/anki-package-formats.md §4.1): the new collection is copied to a temporary file in the
 * profile folder, checked, marked as imported (scm and mod set to now, so the next sync with
 * AnkiWeb is a full one), and only then renamed over collection.anki2 in one atomic step.
 * The caller (src/sync/desktop) holds the lock, takes the backup and journals every step.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openCollectionDb } from '../sqlite.js';
import { copyFileDurable } from './durable-copy.js';
import { fsyncDir } from '../fs-durable.js';

/** Where the new collection waits before the rename: same folder, so the rename is atomic. */
export function stagedPathFor(collectionPath: string, txnId: string): string {
  return path.join(path.dirname(collectionPath), `.${path.basename(collectionPath)}.ankibridge-${txnId}.new`);
}

export interface StageOptions {
  /** Set scm and mod to now, as Anki's colpkg import does (not for a restore of our own backup). */
  markImported: boolean;
  now?: number;
}

/**
 * Copies `src` to `staged`, checks it (integrity_check) and leaves it in rollback-journal mode,
 * fsynced. Throws on any problem after removing the staged file.
 */
export function stageCollection(src: string, staged: string, opts: StageOptions): { bytes: number } {
  rmSync(staged, { force: true });
  try {
    const { bytes } = copyFileDurable(src, staged);
    const db = openCollectionDb(staged);
    try {
      db.pragma('journal_mode = DELETE');
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the new collection failed integrity_check: ${String(check)}`);
      if (opts.markImported) {
        const now = opts.now ?? Date.now();
        db.prepare('UPDATE col SET scm = ?, mod = ?').run(now, now);
      }
      db.pragma('synchronous = FULL');
    } finally {
      db.close();
    }
    for (const suffix of ['-journal', '-wal', '-shm']) rmSync(`${staged}${suffix}`, { force: true });
    return { bytes };
  } catch (e) {
    rmSync(staged, { force: true });
    throw e;
  }
}

/**
 * The atomic swap. Companion files of the old collection (-wal, -shm, -journal) must not outlive
 * it: a stale -wal beside the new file would be replayed into it. The lock step left none; any
 * still there belong to the old file and are removed before the rename.
 */
export function installStagedCollection(staged: string, collectionPath: string): void {
  if (!existsSync(staged)) throw new Error(`the staged collection ${staged} is missing`);
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${collectionPath}${suffix}`, { force: true });
  renameSync(staged, collectionPath);
  fsyncDir(path.dirname(collectionPath));
}
