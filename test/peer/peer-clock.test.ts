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
});
