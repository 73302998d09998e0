// Must-show 4 of issue 6 (folder transport; the lab test reports the same over MTP):
// plug-in → decision ready for a 20k-card collection — read the phone's live collection (+ -wal)
// over the transport, read the desktop, settle/classify, work out what the guard needs, build
// the decision. Two cases, each round with 20 new reviews on the phone:
//   cold: nothing cached (the daemon's first plug-in after start, before its read-ahead);
//   warm: the desktop read ahead (the daemon's usual case: the desktop did not change since).
// Beside it, in the same run, real Anki opening both collections and counting their reviews
// (the least work Anki itself would do to look at the two sides).
//   USBSYNC_BENCH_NOTES (default 10000 notes of the reversed type = 20000 cards), USBSYNC_BENCH_ROUNDS (3)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer } from '../test/peer/peer.js';
import { copyCollection, openScene } from '../test/usbsync/support/scene.js';
import { inspect } from '../src/sync/usb-sync/service.js';
import { SideCache } from '../src/sync/usb-sync/side-cache.js';

const NOTES = Number(process.env.USBSYNC_BENCH_NOTES ?? 10_000);
const ROUNDS = Number(process.env.USBSYNC_BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);

const root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-bench-'));
const peer = await AnkiPeer.start({ fakeClock: true });
try {
  const seed = path.join(root, 'seed.anki2');
  const made = await peer.createCollection({ path: seed, notes: NOTES, seed: 1, noteTypes: ['reversed'], reviewsPerCard: 3, days: 200 });
  const s = await openScene(path.join(root, 'scene'));
  copyCollection(seed, s.desktop);
  copyCollection(seed, s.phone);
  await inspect(s.deps, s.conn, 'bench'); // first meeting of equal collections: the base
  const cold: number[] = [];
  const warm: number[] = [];
  const anki: number[] = [];
  let state = '';
  for (let i = 0; i < ROUNDS; i++) {
    for (const [kind, out] of [['cold', cold], ['warm', warm]] as const) {
      await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 3_600 }, { op: 'review', count: 20 }], { seed: 2 + i });
      if (kind === 'cold') {
        s.deps.sides.dispose();
        s.deps.sides = new SideCache(path.join(root, `cache-${i}`));
      } else {
        await s.deps.sides.warmDesktop(s.conn.target);
      }
      const t = performance.now();
      state = (await inspect(s.deps, s.conn, 'bench')).state;
      out.push(performance.now() - t);
    }
    const t = performance.now();
    await peer.query(s.desktop, 'select count(*) from revlog');
    await peer.query(s.phone, 'select count(*) from revlog');
    anki.push(performance.now() - t);
  }
  await s.close();
  const a = median(anki);
  console.log(`collection: ${made.notes} notes, ${made.cards} cards, ${made.revlog} reviews; phone ahead by 20 reviews each round; decision state: ${state}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const [kind, xs] of [['cold (nothing cached)', cold], ['warm (desktop read ahead)', warm]] as const) {
    const o = median(xs);
    console.log(`plug-in → decision ready, ${kind}, median of ${ROUNDS}: ${(o / 1000).toFixed(3)} s   ratio ours/Anki ${(o / a).toFixed(2)}`);
  }
  console.log(`real Anki opening both collections and counting reviews: ${(a / 1000).toFixed(3)} s`);
  console.log(`peak RSS (ours, this process): ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  clearInterval(sampler);
  await peer.close();
  rmSync(root, { recursive: true, force: true });
}
