// Shared set-up for the cloud tests: our CloudSync on a temp folder with a file credential store
// and a backup function that records what it kept.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CloudSync, FileStore } from '../../src/sync/cloud/index.js';

export interface Kept {
  path: string;
  reason: string;
  copy: string;
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A backup store stand-in: keeps a verified copy of each file it is handed. */
export function recordingBackup(dir: string): { kept: Kept[]; backup: (p: string, reason: string) => Promise<void> } {
  const kept: Kept[] = [];
  mkdirSync(dir, { recursive: true });
  return {
    kept,
    backup: async (p: string, reason: string) => {
      const copy = path.join(dir, `${kept.length}-${path.basename(p)}`);
      copyFileSync(p, copy);
      kept.push({ path: p, reason, copy });
    },
  };
}

export function makeCloudSync(a: { dir: string; collectionPath: string; endpoint: string; free?: () => boolean; media?: boolean }) {
  const credentials = new FileStore(path.join(a.dir, 'keys.json'));
  const backups = recordingBackup(path.join(a.dir, 'backups'));
  const sync = new CloudSync({
    collectionPath: a.collectionPath,
    endpoint: a.endpoint,
    credentials,
    isCollectionFree: a.free ?? (() => true),
    backup: backups.backup,
    media: a.media ?? false,
  });
  return { sync, credentials, backups };
}
