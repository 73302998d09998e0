/**
 * Wiring CloudSync to the desktop side's pieces: the backup store (src/sync/backup) for the side
 * a full sync replaces, and AnkiConnect (src/sync/anki-connect.ts) to let a running Anki Desktop
 * sync by itself.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BackupStore } from '../backup/store.js';
import { askAnkiToSync, detectAnkiConnect, type AnkiConnectOptions } from '../anki-connect.js';
import { mediaPaths } from './media/media-db.js';
import type { BackupFn } from './full-sync.js';
import type { AnkiConnectSync } from './cloud-sync.js';

/**
 * A BackupFn that puts the collection about to be replaced into the backup store, protected
 * ("pre-overwrite"), with the local media folder when it is the local collection.
 */
export function backupStoreFn(store: BackupStore, label: string, localCollectionPath?: string): BackupFn {
  return async (collectionPath, reason) => {
    const isLocal = localCollectionPath !== undefined && path.resolve(collectionPath) === path.resolve(localCollectionPath);
    const media = isLocal ? mediaPaths(collectionPath).dir : undefined;
    return store.create({
      collectionPath,
      ...(media && existsSync(media) ? { mediaDir: media } : {}),
      source: isLocal ? 'desktop' : 'cloud-server',
      label: `${label}: ${reason}`,
      reason: 'pre-overwrite',
    });
  };
}

function collectionStamp(file: string): string {
  const parts = [file, `${file}-wal`].map((f) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : '-'));
  return parts.join('|');
}

/**
 * Anki Desktop is running with AnkiConnect: ask it to sync, then confirm it did by watching the
 * collection change on disk (Anki holds an exclusive lock, so we look at the files, not inside).
 */
export function ankiConnectSync(collectionPath: string, opts: AnkiConnectOptions & { confirmWithinMs?: number } = {}): AnkiConnectSync {
  return {
    isAvailable: async () => (await detectAnkiConnect(opts)).running,
    sync: async (signal?: AbortSignal) => {
      const before = collectionStamp(collectionPath);
      await askAnkiToSync(opts);
      const deadline = Date.now() + (opts.confirmWithinMs ?? 60_000);
      while (Date.now() < deadline && !signal?.aborted) {
        if (collectionStamp(collectionPath) !== before) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      // Nothing changed on disk: either there was nothing to sync, or Anki did not sync. Either
      // way nothing of ours was written; the next tick looks again.
    },
  };
}
