// Must show 5: the disk fills up while the backup is written, or while the new collection is
// prepared beside the old one (small size-limited tmpfs mounts): a named error, the original
// collection byte-identical, nothing of ours left behind, and the journal says "rolled back".
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { main } from '../../src/cli/main.js';
import { BackupStore } from '../../src/sync/backup/store.js';
import { ensureBackupSchema } from '../../src/sync/backup/schema.js';
import { Journal } from '../../src/sync/journal/journal.js';
import { ensureJournalSchema } from '../../src/sync/journal/schema.js';
import { importIntoDesktop } from '../../src/sync/desktop/import.js';
import { collectionBytes, resetProfile } from './support/files.js';
import { makeDesktopScene, type DesktopScene } from './support/fixture.js';
import { mountTmpfs } from './support/tmpfs.js';

let peer: AnkiPeer;
let root: string;
let scene: DesktopScene;
const mounts: Array<{ unmount(): void }> = [];
const savedXdg = process.env.XDG_DATA_HOME;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-full-'));
  scene = await makeDesktopScene(peer, root);
});
afterAll(async () => {
  for (const m of mounts.reverse()) m.unmount();
  await peer?.close();
  if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = savedXdg;
  if (root) rmSync(root, { recursive: true, force: true });
});

function stateDb(file: string): Database.Database {
  const db = new Database(file);
  ensureJournalSchema(db);
  ensureBackupSchema(db);
  return db;
}

describe('disk full', () => {
  it('while the backup is written: BACKUP_DISK_FULL, original untouched, no backup listed', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    const size = statSync(scene.collectionPath).size;
    const backupRoot = path.join(root, 'small-backups');
    mounts.push(mountTmpfs(backupRoot, Math.max(16 * 1024, Math.floor(size / 2))));
    const before = collectionBytes(scene.collectionPath);
    const dumpBefore = await peer.dump(scene.collectionPath);
    const db = stateDb(path.join(root, 'state-a.sqlite'));
    try {
      const deps = { journal: new Journal(db), backups: new BackupStore(db, backupRoot) };
      const target = { profile: 'User 1', collectionPath: scene.collectionPath, mediaDir: scene.mediaDir };
      const bytesBefore = collectionBytes(scene.collectionPath);
      await expect(importIntoDesktop({ target, packagePath: scene.packagePath, force: true, deps })).rejects.toMatchObject({
        code: 'ANKIBRIDGE_ERR_BACKUP_DISK_FULL',
      });
      expect(collectionBytes(scene.collectionPath)).toEqual(bytesBefore);
      expect(deps.backups.list()).toEqual([]);
      expect(readdirSync(backupRoot)).toEqual([]);
      expect(deps.journal.recent()).toEqual([expect.objectContaining({ kind: 'desktop-import', state: 'rolled-back' })]);
    } finally {
      db.close();
    }
    expect(before).toEqual(collectionBytes(scene.collectionPath));
    expect(await peer.dump(scene.collectionPath)).toEqual(dumpBefore);
  });

  it('while the new collection is prepared in the profile folder: DISK_FULL (exit 74), original byte-identical', async () => {
    // the whole Anki base folder on a tmpfs with room for the files and half a collection more
    const smallBase = path.join(root, 'small-base');
    const size = statSync(scene.collectionPath).size;
    let used = 0;
    const count = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          used += 4096;
          count(p);
        } else used += Math.ceil(statSync(p).size / 4096) * 4096;
      }
    };
    resetProfile(scene.pristine, scene.profileDir);
    count(scene.base);
    mounts.push(mountTmpfs(smallBase, used + 64 * 1024 + Math.floor(size / 2)));
    cpSync(scene.base, smallBase, { recursive: true });
    const colPath = path.join(smallBase, 'User 1', 'collection.anki2');
    const bytesBefore = collectionBytes(colPath);
    const mediaBefore = readdirSync(path.join(smallBase, 'User 1', 'collection.media')).sort();

    process.env.XDG_DATA_HOME = path.join(root, 'xdg-b');
    let out = '';
    const code = await main(['import', scene.packagePath, '--base', smallBase, '--force', '--json'], { out: (t) => (out += t), err: () => undefined });
    expect(code, out).toBe(74);
    expect(JSON.parse(out)).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_GENERAL_DISK_FULL' } });
    expect(collectionBytes(colPath)).toEqual(bytesBefore);
    expect(readdirSync(path.join(smallBase, 'User 1', 'collection.media')).sort()).toEqual(mediaBefore);
    expect(readdirSync(path.join(smallBase, 'User 1')).filter((n) => n.includes('.ankibridge-'))).toEqual([]);

    // the journal says it was rolled back; the backup taken first is kept and listed
    out = '';
    await main(['backups', '--json'], { out: (t) => (out += t), err: () => undefined });
    const listed = JSON.parse(out) as { backups: Array<{ reason: string }>; recovered: unknown[] };
    expect(listed.recovered).toEqual([]);
    expect(listed.backups.map((b) => b.reason)).toEqual(['pre-overwrite']);
    const db = new Database(path.join(root, 'xdg-b', 'ankibridge', 'state.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT state, note FROM sync_journal_transactions').all()).toEqual([
        { state: 'rolled-back', note: expect.stringMatching(/^stage failed: .*The desktop collection is the one from before/) },
      ]);
    } finally {
      db.close();
    }
    // and real Anki reads the same collection as before (the tmpfs is full, so it reads a copy)
    const copy = path.join(root, 'after-full', 'collection.anki2');
    cpSync(path.dirname(colPath), path.dirname(copy), { recursive: true });
    resetProfile(scene.pristine, scene.profileDir);
    expect(await peer.dump(copy)).toEqual(await peer.dump(scene.collectionPath));
  });

  it('while the media files are added: DISK_FULL, collection byte-identical, media folder as before', async () => {
    // a package whose media cannot fit: the phone's collection plus a 3 MB picture
    const phoneDir = path.join(root, 'phone-big');
    cpSync(path.dirname(scene.phoneCollection), phoneDir, { recursive: true });
    writeFileSync(path.join(phoneDir, 'collection.media', 'zz-big.jpg'), randomBytes(3 * 1024 * 1024));
    const bigPkg = path.join(root, 'phone-big.colpkg');
    await peer.exportPackage({ path: path.join(phoneDir, 'collection.anki2'), out: bigPkg, kind: 'colpkg' });

    resetProfile(scene.pristine, scene.profileDir);
    const smallBase = path.join(root, 'small-base-media');
    let used = 0;
    const count = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        used += e.isDirectory() ? 4096 : Math.ceil(statSync(p).size / 4096) * 4096;
        if (e.isDirectory()) count(p);
      }
    };
    count(scene.base);
    // room for everything, a staged collection and a little more, not for 3 MB
    const colSize = Math.ceil(statSync(scene.collectionPath).size / 4096) * 4096;
    mounts.push(mountTmpfs(smallBase, used + colSize + 256 * 1024));
    cpSync(scene.base, smallBase, { recursive: true });
    const colPath = path.join(smallBase, 'User 1', 'collection.anki2');
    const mediaDir = path.join(smallBase, 'User 1', 'collection.media');
    const bytesBefore = collectionBytes(colPath);
    const mediaBefore = Object.fromEntries(readdirSync(mediaDir).sort().map((n) => [n, readFileSync(path.join(mediaDir, n)).toString('base64')]));

    process.env.XDG_DATA_HOME = path.join(root, 'xdg-c');
    let out = '';
    const code = await main(['import', bigPkg, '--base', smallBase, '--force', '--json'], { out: (t) => (out += t), err: () => undefined });
    expect(code, out).toBe(74);
    expect(JSON.parse(out)).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_GENERAL_DISK_FULL' } });
    expect(collectionBytes(colPath)).toEqual(bytesBefore);
    const mediaAfter = Object.fromEntries(readdirSync(mediaDir).sort().map((n) => [n, readFileSync(path.join(mediaDir, n)).toString('base64')]));
    expect(mediaAfter).toEqual(mediaBefore);
    expect(readdirSync(path.join(smallBase, 'User 1')).filter((n) => n.includes('.ankibridge-'))).toEqual([]);
    const db = new Database(path.join(root, 'xdg-c', 'ankibridge', 'state.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT state, note FROM sync_journal_transactions').all()).toEqual([
        { state: 'rolled-back', note: expect.stringMatching(/^media failed: .*The desktop collection is the one from before/) },
      ]);
    } finally {
      db.close();
    }
  });
});
