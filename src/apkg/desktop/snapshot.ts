/**
 * A consistent copy of the desktop collection for reading (export, comparing, fingerprints),
 * taken only when Anki Desktop does not hold it. Under our read lock the -wal has been folded
 * into the file (lock.ts), so a copy of the file is the whole collection; the lock is held only
 * for the copy. Media files are listed, not copied (they can be gigabytes; readers stream them
 * from the media folder).
 */
import { mkdirSync } from 'node:fs';
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
}

export function snapshotDesktopCollection(a: { collectionPath: string; mediaDir: string; outDir: string }): DesktopSnapshot {
  mkdirSync(a.outDir, { recursive: true });
  const target = path.join(a.outDir, 'collection.anki2');
  const lock = lockCollection(a.collectionPath, 'read');
  let copied: { bytes: number; sha256: string };
  try {
    // A private, temporary copy: no fsync needed (a crash just discards it).
    copied = copyFileDurable(a.collectionPath, target, { fsync: false });
  } finally {
    lock.release();
  }
  return { collectionPath: target, ...copied, mediaDir: a.mediaDir, media: listMediaFolder(a.mediaDir), takenAt: Date.now() };
}
