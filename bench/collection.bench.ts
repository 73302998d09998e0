// Bench of the collection side of src/apkg: for a generated collection (default 50k notes,
// 300k reviews) the time of our schema 11 -> 18 upgrade next to real Anki opening (and so
// upgrading) the same schema-11 file, our 18 -> 11 downgrade next to Anki's legacy export
// (which downgrades and zips), and our validate / summary / fingerprint, with peak RSS.
//   COLLECTION_BENCH_NOTES (default 50000), COLLECTION_BENCH_REVIEWS (default 300000)
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
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

async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-colbench-'));
const peer = await AnkiPeer.start();
try {
  const src = path.join(dir, 'src', 'collection.anki2');
  const [, tCreate] = await timed(() => peer.createCollection({ path: src, notes: NOTES, seed: 1, reviews: REVIEWS, decks: 10, days: 365 }), );
  console.log(`generated ${NOTES} notes / ${REVIEWS} reviews with Anki in ${s(tCreate)} (${mb(statSync(src).size)})`);

  // schema-11 copy, written by Anki itself (legacy export)
  const pkgFile = path.join(dir, 'legacy.colpkg');
  const [, tAnkiDown] = await timed(() => peer.exportPackage({ path: src, out: pkgFile, kind: 'colpkg', legacy: true }, ));
  const pkg = await openPackage(pkgFile);
  const s11 = path.join(dir, 's11.anki2');
  copyFileSync(pkg.collectionPath, s11);
  await pkg.dispose();

  const ours18 = path.join(dir, 'ours18.anki2');
  const [, tOursUp] = await timed(() => upgradeToSchema18(s11, ours18));
  const ankiUp = path.join(dir, 'ankiup', 'collection.anki2');
  mkdirSync(path.dirname(ankiUp));
  copyFileSync(s11, ankiUp);
  const [, tAnkiNoop] = await timed(() => peer.modify(src, [])); // open + close of a schema-18 file: the fixed cost
  const [, tAnkiUp] = await timed(() => peer.modify(ankiUp, [])); // open = upgrade, then close
  const ours11 = path.join(dir, 'ours11.anki2');
  const [, tOursDown] = await timed(() => downgradeToSchema11(src, ours11));

  const db = openCollectionDb(src, { readonly: true, untrusted: true });
  const [, tValidate] = await timed(() => validateCollection(db));
  const [, tQuick] = await timed(() => validateCollection(db, { check: 'quick' }));
  const [, tSummary] = await timed(() => summarizeCollection(db));
  const [fp, tFp] = await timed(() => fingerprintCollection(db));
  db.close();
  const [, tAnkiCheck] = await timed(() => peer.check(ankiUp));

  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log('');
  console.log('| work | ours | real Anki | ratio ours/Anki |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| schema 11 -> 18 | ${s(tOursUp)} | ${s(tAnkiUp)} (open+close; an open of an 18 file alone: ${s(tAnkiNoop)}) | ${ratio(tOursUp, tAnkiUp)} |`);
  console.log(`| schema 18 -> 11 | ${s(tOursDown)} | ${s(tAnkiDown)} (legacy colpkg export: downgrade + deflate) | ${ratio(tOursDown, tAnkiDown)} |`);
  console.log(`| integrity check | ${s(tValidate)} (validateCollection, full) / ${s(tQuick)} (quick) | ${s(tAnkiCheck)} (Check Database, does more) | ${ratio(tValidate, tAnkiCheck)} |`);
  console.log(`| summary | ${s(tSummary)} | - | - |`);
  console.log(`| fingerprint | ${s(tFp)} (${fp.counts.notes} notes, ${fp.counts.cards} cards, ${fp.counts.revlog} reviews) | - | - |`);
  console.log(`\npeak RSS of this process (ours; Anki runs in the peer process): ${mb(peakRss)}`);
} finally {
  clearInterval(sampler);
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
