// The desktop side as the daemon sees it: migrations, recovery at start, the BackupsProvider and
// the 'restore' job (real Anki dumps); and a replace that finds the collection changed since the
// caller looked at it stops without touching it.
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { BackupStore } from '../../src/sync/backup/store.js';
import { ensureBackupSchema } from '../../src/sync/backup/schema.js';
import { Journal } from '../../src/sync/journal/journal.js';
import { ensureJournalSchema } from '../../src/sync/journal/schema.js';
import { desktopSyncPlugin } from '../../src/sync/desktop/daemon-plugin.js';
import { importIntoDesktop } from '../../src/sync/desktop/import.js';
import { DESKTOP_IMPORT, replaceDesktopCollection } from '../../src/sync/desktop/replace.js';
import { collectionBytes, resetProfile } from './support/files.js';
import { makeDesktopScene, type DesktopScene } from './support/fixture.js';

let peer: AnkiPeer;
let root: string;
let scene: DesktopScene;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-plugin-'));
  scene = await makeDesktopScene(peer, root);
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

it('gives the daemon its tables, recovery, backups and a restore job', async () => {
  resetProfile(scene.pristine, scene.profileDir);
  const before = await peer.dump(scene.collectionPath);
  const dataDir = path.join(root, 'daemon-data');
  mkdirSync(dataDir, { recursive: true });
  const plugin = desktopSyncPlugin({ dataDir, stateDb: path.join(dataDir, 'state.sqlite') });
  try {
    // the daemon applies the migrations on its own connection first
    const daemonDb = new Database(path.join(dataDir, 'state.sqlite'));
    daemonDb.pragma('journal_mode = WAL');
    for (const m of plugin.migrations) m.up(daemonDb);
    expect(plugin.recoverAtStart()).toEqual([]);

    const target = { profile: 'User 1', collectionPath: scene.collectionPath, mediaDir: scene.mediaDir };
    const db2 = new Database(path.join(dataDir, 'state.sqlite'));
    const deps = { journal: new Journal(db2), backups: new BackupStore(db2, path.join(dataDir, 'backups')) };
    const r = await importIntoDesktop({ target, packagePath: scene.packagePath, force: true, deps });
    db2.close();

    const listed = await plugin.providers.backups.listBackups({ limit: 10 });
    expect(listed).toEqual([expect.objectContaining({ id: r.backup.id, collection: 'desktop', reason: 'pre-overwrite' })]);
    expect(await plugin.providers.backups.hasBackup(r.backup.id)).toBe(true);
    expect(await plugin.providers.backups.hasBackup('nope')).toBe(false);

    const job = plugin.jobHandlers[0]!;
    const steps: string[] = [];
    const result = await job.run({ params: { backupId: r.backup.id }, progress: (p) => steps.push(p.step ?? ''), signal: new AbortController().signal });
    expect(result).toMatchObject({ restored: r.backup.id });
    expect(await peer.dump(scene.collectionPath)).toEqual(before);
    daemonDb.close();
  } finally {
    plugin.close();
  }
});

it('stops without touching the collection when it changed since the caller looked (LOCK_LOST)', async () => {
  resetProfile(scene.pristine, scene.profileDir);
  const bytes = collectionBytes(scene.collectionPath);
  const db = new Database(':memory:');
  ensureJournalSchema(db);
  ensureBackupSchema(db);
  const deps = { journal: new Journal(db), backups: new BackupStore(db, path.join(root, 'b-lost')) };
  await expect(
    replaceDesktopCollection(
      DESKTOP_IMPORT,
      { profile: 'User 1', collectionPath: scene.collectionPath, mediaDir: scene.mediaDir },
      { collectionPath: scene.phoneCollection, describe: 'test', markImported: true, media: { mode: 'add', add: async () => ({ written: [], skipped: [] }) }, expectCollectionSha256: '0'.repeat(64) },
      deps,
    ),
  ).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_DESKTOP_LOCK_LOST' });
  expect(collectionBytes(scene.collectionPath)).toEqual(bytes);
  expect(deps.backups.list()).toEqual([]);
  expect(deps.journal.recent()[0]).toMatchObject({ state: 'failed' });
  db.close();
});
