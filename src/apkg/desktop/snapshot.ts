/**
 * A consistent copy of the desktop collection for reading (export, comparing, fingerprints),
 * taken only when Anki Desktop does not hold it. Under our read lock the -wal has been folded
 * into the file (lock.ts), so a copy of the file is the whole collection; the lock is held only
 * for the copy. Media files are listed, not copied (they can be gigabytes; readers stream them
 * from the media folder).
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { copyFileDurable } from './durable-copy.js';
import { lockCollection } from './lock.js';
import { listMediaFolder, type MediaFileInfo } from './media-folder.js';

export interface DesktopSnapshot {
  /** The private copy of the collection (rollback-journal mode, no -wal). */
  collectionPath: string;
  sha256: string;
  bytes: number;
  mediaDir: string;
  media: MediaFileInfo[];
  takenAt: number;
  /**
   * The collection file as it was copied (taken under the lock): while the file and its -wal
   * still show these, the copy is still the collection (a cache key for readers).
   */
  source: FileState;
}

/** What a file looks like from outside: identity, size, modification time ("none" when absent). */
export type FileState = { ino: number; size: number; mtimeMs: number; wal: { size: number; mtimeMs: number } | null };

export function fileState(collectionPath: string): FileState | null {
  const st = statSync(collectionPath, { throwIfNoEntry: false });
  if (!st) return null;
  const wal = statSync(`${collectionPath}-wal`, { throwIfNoEntry: false });
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, wal: wal && wal.size > 0 ? { size: wal.size, mtimeMs: wal.mtimeMs } : null };
}

export function sameFileState(a: FileState | null, b: FileState | null): boolean {
  return a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.wal?.size === b.wal?.size && a.wal?.mtimeMs === b.wal?.mtimeMs;
}

export function snapshotDesktopCollection(a: { collectionPath: string; mediaDir: string; outDir: string; listMedia?: boolean }): DesktopSnapshot {
  mkdirSync(a.outDir, { recursive: true });
  const target = path.join(a.outDir, 'collection.anki2');
  const lock = lockCollection(a.collectionPath, 'read');
  let copied: { bytes: number; sha256: string };
  let source: FileState | null;
  try {
    source = fileState(a.collectionPath);
    // A private, temporary copy: no fsync needed (a crash just discards it).
    copied = copyFileDurable(a.collectionPath, target, { fsync: false });
  } finally {
    lock.release();
  }
  const media = a.listMedia === false ? [] : listMediaFolder(a.mediaDir);
  return { collectionPath: target, ...copied, mediaDir: a.mediaDir, media, takenAt: Date.now(), source: source ?? { ino: 0, size: -1, mtimeMs: 0, wal: null } };
}
