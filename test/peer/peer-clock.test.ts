// advanceClock: real sleeps on the real clock; any jump with a fake clock (libfaketime), which
// Anki's Rust core follows too (mod times, due cards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from './peer.js';

const DAY = 86_400;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'peer-clock-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('advanceClock', () => {
  it('on the real clock refuses jumps it would have to sleep through', async () => {
    await using peer = await AnkiPeer.start();
    const p = path.join(dir, 'real', 'collection.anki2');
    await peer.createCollection({ path: p, notes: 1, seed: 1 });
    await expect(peer.modify(p, [{ op: 'advanceClock', seconds: DAY }])).rejects.toThrow(/fakeClock/);
    expect((await peer.version()).fakeClock).toBe(false);
  });

  it('with a fake clock jumps days at once: Anki stamps later times and cards fall due', async () => {
    const peer = await AnkiPeer.start({ fakeClock: true });
    try {
      const p = path.join(dir, 'fake', 'collection.anki2');
      await peer.createCollection({ path: p, notes: 1, seed: 1, noteTypes: ['basic'] });
      // Easy on a new card makes it a review card due in days: nothing is due any more today
      await peer.modify(p, [{ op: 'review', count: 1, ease: 4 }]);
      await expect(peer.modify(p, [{ op: 'review', count: 1 }])).rejects.toMatchObject({ type: 'NothingDue' });
      const t0 = Date.now() / 1000;
      const started = Date.now();
      await peer.modify(p, [{ op: 'advanceClock', seconds: 30 * DAY }, { op: 'review', count: 1, ease: 3 }, { op: 'addNotes', count: 1 }]);
      expect(Date.now() - started).toBeLessThan(30_000); // no sleeping
      const d = await peer.dump(p);
      expect(d.revlog).toHaveLength(2);
      expect(d.revlog[1]!.id / 1000).toBeGreaterThan(t0 + 30 * DAY - 60);
      expect(d.notes[1]!.mod).toBeGreaterThan(t0 + 30 * DAY - 60);
      const v = await peer.version();
      expect(v).toMatchObject({ fakeClock: true, clockOffset: 30 * DAY });
      expect(v.now).toBeGreaterThan(Date.now() / 1000 + 30 * DAY - 60);
      expect(await peer.check(p)).toEqual({ ok: true, problems: [] });
    } finally {
      await peer.close();
    }
  });

  it('freezeClock stops the fake clock at one second (stamps and unique ids), null runs it again', async () => {
    const peer = await AnkiPeer.start({ fakeClock: true });
    try {
      const p = path.join(dir, 'frozen', 'collection.anki2');
      await peer.createCollection({ path: p, notes: 2, seed: 2, noteTypes: ['basic'] });
      const at = Math.floor(Date.now() / 1000) + 5;
      await peer.freezeClock(at);
      await peer.modify(p, [{ op: 'addNotes', count: 3 }, { op: 'addDeck', name: 'f1' }]);
      await new Promise((r) => setTimeout(r, 1_100)); // real time moves on, the peer's does not
      await peer.modify(p, [{ op: 'addDeck', name: 'f2' }, { op: 'review', count: 2, ease: 3 }]);
      expect(Math.floor((await peer.version()).now)).toBe(at);
      const d = await peer.dump(p);
      const added = d.notes.slice(2);
      expect(added.map((n) => n.mod)).toEqual([at, at, at]);
      expect(new Set(added.map((n) => n.id)).size).toBe(3);
      expect(d.decks.filter((x) => x.name === 'f1' || x.name === 'f2').map((x) => x.mod)).toEqual([at, at]);
      expect(d.revlog.map((r) => Math.floor(r.id / 1000))).toEqual([at, at]);
      expect(new Set(d.revlog.map((r) => r.id)).size).toBe(2);
      await peer.freezeClock(at + 0.25);
      await peer.modify(p, [{ op: 'review', count: 1, ease: 3 }]);
      // libfaketime keeps the fraction as a float: 250 ms may come out as 249.999…
      expect(Math.abs((await peer.dump(p)).revlog[2]!.id - (at * 1000 + 250))).toBeLessThanOrEqual(1);
      await peer.freezeClock(null);
      expect(Math.abs((await peer.version()).now - Date.now() / 1000)).toBeLessThan(5);
      expect(await peer.check(p)).toEqual({ ok: true, problems: [] });
    } finally {
      await peer.close();
    }
  });

  it('freezeClock needs the fake clock', async () => {
    await using peer = await AnkiPeer.start();
    await expect(peer.freezeClock(1)).rejects.toThrow(/fakeClock/);
  });
});
