// The watchable "is Anki holding it" state: follows the real peer taking and releasing the
// collection, never holds a lock itself (the peer can take the file while we watch), and
// leaves no watcher or timer behind once closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { watchCollection } from '../../src/apkg/desktop/watch.js';
import { probeCollection } from '../../src/apkg/desktop/probe.js';

let peer: AnkiPeer;
let dir: string;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'ab-desktop-watch-'));
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ourResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'StatWatcher' || r === 'Timeout');
}

it('follows the peer holding and releasing the collection, then disposes everything', async () => {
  const col = path.join(dir, 'User 1', 'collection.anki2');
  await peer.createCollection({ path: col, notes: 3, seed: 1 });
  const baseline = ourResources().length;
  const seen: string[] = [];
  const w = watchCollection(col, { onState: (s) => seen.push(`${s.state}${s.walPresent ? '+wal' : ''}`), intervalMs: 250, debounceMs: 20 });
  await w.ready;
  expect(ourResources().length).toBeGreaterThan(baseline);
  // probing many times while the peer opens the file never gets in its way
  for (let i = 0; i < 3; i++) {
    await peer.hold(col);
    await expect.poll(() => w.current().state, { timeout: 5000 }).toBe('open');
    await peer.release(col);
    await expect.poll(() => w.current().state, { timeout: 5000 }).toBe('free');
  }
  expect(seen[0]).toBe('free');
  expect(seen).toContain('open+wal');
  await w.close();
  // fs.watch handles finish closing on the next turns of the event loop
  await expect.poll(() => ourResources().length, { timeout: 2000 }).toBe(baseline);
  expect(probeCollection(col).state).toBe('free');
  expect(probeCollection(path.join(dir, 'nope.anki2')).state).toBe('missing');
});
