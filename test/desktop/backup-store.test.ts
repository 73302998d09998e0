// The backup store on its own: verified backups with summaries, media kept by hard link,
// retention that never evicts a protected (pre-overwrite) backup unless allowed, damage detected.
import Database from 'better-sqlite3';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { BackupStore } from '../../src/sync/backup/store.js';
import { ensureBackupSchema, BACKUP_MIGRATIONS } from '../../src/sync/backup/schema.js';
import { JOURNAL_MIGRATIONS } from '../../src/sync/journal/schema.js';

let peer: AnkiPeer;
let root: string;
let col: string;
let media: string;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-backups-'));
  col = path.join(root, 'profile', 'collection.anki2');
  await peer.createCollection({ path: col, notes: 12, seed: 3, reviewsPerCard: 1, media: { count: 3, bytesEach: 100 } });
  media = path.join(root, 'profile', 'collection.media');
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function store(name: string): { db: Database.Database; s: BackupStore } {
  const db = new Database(path.join(root, `${name}.sqlite`));
  ensureBackupSchema(db);
  return { db, s: new BackupStore(db, path.join(root, name)) };
}

describe('backup store', () => {
  it('takes a verified backup with its summary; media are hard links', () => {
    const { db, s } = store('a');
    const b = s.create({ collectionPath: col, mediaDir: media, source: 'desktop', label: 'User 1', reason: 'pre-overwrite' });
    expect(b).toMatchObject({ protected: true, media: { count: 3, bytes: 300 }, summary: { notes: 12, schema: 18 } });
    const first = s.mediaFiles(b.id)[0]!;
    expect(statSync(path.join(b.mediaDir, first.name)).ino).toBe(statSync(path.join(media, first.name)).ino);
    expect(s.verify(b.id).id).toBe(b.id);
    expect(s.list().map((x) => x.id)).toEqual([b.id]);
    db.close();
  });

  it('retention keeps protected backups unless the user allows evicting them', () => {
    const { db, s } = store('b');
    const made = [
      s.create({ collectionPath: col, source: 'desktop', label: 'p', reason: 'pre-overwrite' }),
      s.create({ collectionPath: col, source: 'desktop', label: 'm1', reason: 'manual' }),
      s.create({ collectionPath: col, source: 'phone', label: 'p2', reason: 'pre-merge' }),
      s.create({ collectionPath: col, source: 'desktop', label: 'm2', reason: 'manual' }),
      s.create({ collectionPath: col, source: 'desktop', label: 'm3', reason: 'manual' }),
    ];
    expect(s.applyRetention({ keepLast: 1 }).sort()).toEqual([made[1]!.id, made[3]!.id].sort());
    expect(s.list().map((b) => b.label).sort()).toEqual(['m3', 'p', 'p2']);
    // protected ones stay even with keepLast 0...
    s.applyRetention({ keepLast: 0 });
    expect(s.list().map((b) => b.label).sort()).toEqual(['p', 'p2']);
    // ...until the user allows it; the newest keepProtected remain
    expect(s.applyRetention({ keepLast: 0, allowProtected: true, keepProtected: 1 })).toEqual([made[0]!.id]);
    expect(s.list().map((b) => b.label)).toEqual(['p2']);
    db.close();
  });

  it('names what is wrong: unknown id, a changed file, a collection that is not one', () => {
    const { db, s } = store('c');
    expect(() => s.get('nope')).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_BACKUP_NOT_FOUND' }));
    const b = s.create({ collectionPath: col, source: 'desktop', label: 'x', reason: 'manual' });
    appendFileSync(b.collectionPath, 'tampered');
    expect(() => s.verify(b.id)).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_BACKUP_DAMAGED' }));
    const bogus = path.join(root, 'bogus', 'collection.anki2');
    mkdirSync(path.dirname(bogus), { recursive: true });
    writeFileSync(bogus, Buffer.alloc(8192, 7));
    expect(() => s.create({ collectionPath: bogus, source: 'desktop', label: 'y', reason: 'manual' })).toThrow(
      expect.objectContaining({ code: 'ANKIBRIDGE_ERR_BACKUP_VERIFY_FAILED' }),
    );
    expect(s.list().map((x) => x.label)).toEqual(['x']);
    db.close();
  });

  it('offers its tables as migrations for the daemon registry', () => {
    expect(BACKUP_MIGRATIONS.map((m) => `${m.owner}#${m.version}`)).toEqual(['backups#1']);
    expect(JOURNAL_MIGRATIONS.map((m) => `${m.owner}#${m.version}`)).toEqual(['sync-journal#1']);
    const db = new Database(':memory:');
    for (const m of [...BACKUP_MIGRATIONS, ...JOURNAL_MIGRATIONS]) m.up(db);
    ensureBackupSchema(db); // idempotent after the migration
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual([
      'backups_entries',
      'sync_journal_steps',
      'sync_journal_transactions',
    ]);
    db.close();
  });
});
