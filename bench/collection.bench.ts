// Bench of the collection side of src/apkg: for a generated collection (default 50k notes,
// 300k reviews) the time of our schema 11 -> 18 upgrade next to real Anki opening (and so
// upgrading) the same schema-11 file, our 18 -> 11 downgrade next to Anki's legacy export
// (which downgrades and zips), and our validate / summary / fingerprint, with peak RSS.
//   COLLECTION_BENCH_NOTES (default 50000), COLLECTION_BENCH_REVIEWS (default 300000)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer } from '../test/peer/peer.js';
import { openPackage } from '../src/apkg/index.js';
import { openCollectionDb } from '../src/apkg/sqlite.js';
import { validateCollection } from '../src/apkg/collection/schema.js';
import { summarizeCollection } from '../src/apkg/collection/summary.js';
import { fingerprintCollection } from '../src/apkg/collection/fingerprint.js';
import { downgradeToSchema11, upgradeToSchema18 } from '../src/apkg/collection/convert.js';

const NOTES = Number(process.env.COLLECTION_BENCH_NOTES ?? 50_000);
const REVIEWS = Number(process.env.COLLECTION_BENCH_REVIEWS ?? 300_000);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);

/** CPU seconds (user + system) of a process, from /proc: unlike wall time, not inflated by other load. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
}

let peerPid = 0;
/** Wall time, and CPU time of whichever side did the work (ours: this process; Anki: the peer). */
async function timed<T>(fn: () => T | Promise<T>, side: 'ours' | 'anki' = 'ours'): Promise<[T, number, number]> {
  const cpu0 = side === 'ours' ? cpuMsOf(process.pid) : cpuMsOf(peerPid);
  const t0 = performance.now();
  const r = await fn();
  const wall = performance.now() - t0;
  return [r, wall, (side === 'ours' ? cpuMsOf(process.pid) : cpuMsOf(peerPid)) - cpu0];
}

const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-colbench-'));
const peer = await AnkiPeer.start();
peerPid = peer.pid ?? 0;
try {
  const src = path.join(dir, 'src', 'collection.anki2');
  const created = await timed(() => peer.createCollection({ path: src, notes: NOTES, seed: 1, reviews: REVIEWS, decks: 10, days: 365 }), 'anki');
  console.log(`generated ${NOTES} notes / ${REVIEWS} reviews with Anki in ${s(created[1])} (${mb(statSync(src).size)}); load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);

  // schema-11 copy, written by Anki itself (legacy export)
  const pkgFile = path.join(dir, 'legacy.colpkg');
  const ankiDown = await timed(() => peer.exportPackage({ path: src, out: pkgFile, kind: 'colpkg', legacy: true }), 'anki');
  const pkg = await openPackage(pkgFile);
  const s11 = path.join(dir, 's11.anki2');
  copyFileSync(pkg.collectionPath, s11);
  await pkg.dispose();

  const ours18 = path.join(dir, 'ours18.anki2');
  const up = await timed(() => upgradeToSchema18(s11, ours18));
  const ours18q = path.join(dir, 'ours18q.anki2');
  const upQuick = await timed(() => upgradeToSchema18(s11, ours18q, { check: 'quick' }));
  const ankiUp = path.join(dir, 'ankiup', 'collection.anki2');
  mkdirSync(path.dirname(ankiUp));
  copyFileSync(s11, ankiUp);
  const ankiNoop = await timed(() => peer.modify(src, []), 'anki'); // open + close of a schema-18 file: the fixed cost
  const ankiUpT = await timed(() => peer.modify(ankiUp, []), 'anki'); // open = upgrade, then close
  const ours11 = path.join(dir, 'ours11.anki2');
  const down = await timed(() => downgradeToSchema11(src, ours11));

  const db = openCollectionDb(src, { readonly: true, untrusted: true });
  const validate = await timed(() => validateCollection(db));
  const quick = await timed(() => validateCollection(db, { check: 'quick' }));
  const summary = await timed(() => summarizeCollection(db));
  const fp = await timed(() => fingerprintCollection(db));
  db.close();
  const ankiCheck = await timed(() => peer.check(ankiUp), 'anki');

  const f = (t: [unknown, number, number]) => `${s(t[1])} wall / ${s(t[2])} cpu`;
  const ratio = (a: [unknown, number, number], b: [unknown, number, number]) => `${(a[1] / b[1]).toFixed(2)} wall, ${(a[2] / Math.max(1, b[2])).toFixed(2)} cpu`;
  console.log('');
  console.log('| work | ours | real Anki | ratio ours/Anki |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| schema 11 -> 18, full integrity_check of the input | ${f(up)} | ${f(ankiUpT)} (open = upgrade, no integrity check; open of an 18 file: ${f(ankiNoop)}) | ${ratio(up, ankiUpT)} |`);
  console.log(`| schema 11 -> 18, quick_check (input validated before) | ${f(upQuick)} | same | ${ratio(upQuick, ankiUpT)} |`);
  console.log(`| schema 18 -> 11 | ${f(down)} | ${f(ankiDown)} (legacy colpkg export: downgrade + deflate) | ${ratio(down, ankiDown)} |`);
  console.log(`| integrity check | ${f(validate)} full / ${f(quick)} quick | ${f(ankiCheck)} (Check Database, does more) | ${ratio(validate, ankiCheck)} |`);
  console.log(`| summary | ${f(summary)} | - | - |`);
  console.log(`| fingerprint (${fp[0].counts.notes} notes, ${fp[0].counts.cards} cards, ${fp[0].counts.revlog} reviews) | ${f(fp)} | - | - |`);
  console.log(`\npeak RSS of this process (ours; Anki runs in the peer process): ${mb(peakRss)}`);
} finally {
  clearInterval(sampler);
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
