// hold/release: the peer keeps a collection open the way Anki Desktop does (exclusive lock, WAL),
// so others can test "Anki is running" against the real thing.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from './peer.js';

let peer: AnkiPeer;
let other: AnkiPeer;
let dir: string;

beforeAll(async () => {
  [peer, other] = await Promise.all([AnkiPeer.start(), AnkiPeer.start()]);
  dir = mkdtempSync(path.join(tmpdir(), 'peer-hold-'));
});
afterAll(async () => {
  await Promise.all([peer?.close(), other?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function readWithSqlite(file: string): number {
  const db = new Database(file, { timeout: 0 });
  try {
    return (db.prepare('select count(*) as n from notes').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('hold', () => {
  it('makes a second opener fail with "database is locked" until released', async () => {
    const p = path.join(dir, 'collection.anki2');
    await peer.createCollection({ path: p, notes: 5, seed: 1 });
    await peer.hold(p);
    try {
      // another real Anki process cannot open it, nor can plain SQLite read it
      // (Anki words SQLITE_BUSY as "Anki already open, or media currently syncing.")
      await expect(other.dump(p)).rejects.toThrow(/Anki already open/);
      await expect(other.check(p)).rejects.toMatchObject({ type: 'Locked' }); // not "corrupt"
      expect(() => readWithSqlite(p)).toThrow(/database is locked/);
      // the WAL file is there as with a running Anki Desktop
      expect(existsSync(`${p}-wal`)).toBe(true);
      // the holder works on its open collection like a running Anki Desktop: the change sits in
      // the WAL, unseen by anyone reading the main file alone
      await peer.modify(p, [{ op: 'addNotes', count: 1 }]);
      expect((await peer.dump(p)).notes).toHaveLength(6);
      expect(statSync(`${p}-wal`).size).toBeGreaterThan(0);
      await expect(peer.hold(p)).rejects.toMatchObject({ type: 'Held' });
      // Desktop-style colpkg export while open (closes and reopens): still held afterwards
      await peer.exportPackage({ path: p, out: path.join(dir, 'held.colpkg'), kind: 'colpkg' });
      expect(() => readWithSqlite(p)).toThrow(/database is locked/);
    } finally {
      await peer.release(p);
    }
    expect((await other.dump(p)).notes).toHaveLength(6);
    expect(readWithSqlite(p)).toBe(6);
    await expect(peer.release(p)).rejects.toMatchObject({ type: 'NotHeld' });
  });

  it('closing the peer releases what it holds (no lock outlives the process)', async () => {
    const p = path.join(dir, 'second.anki2');
    const temp = await AnkiPeer.start();
    await temp.createCollection({ path: p, notes: 2, seed: 2 });
    await temp.hold(p);
    expect(() => readWithSqlite(p)).toThrow(/database is locked/);
    await temp.close();
    expect(readWithSqlite(p)).toBe(2);
  });
});
