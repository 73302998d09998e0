// Bench of the desktop verbs against real Anki doing the same work in the same run:
//  export: the desktop collection (with media) as a .colpkg — ours (snapshot + writeColpkg) vs
//          Anki's export_collection_package;
//  import: a .colpkg replacing a collection — ours (guard, verified backup, stage, media, rename,
//          all journaled) vs Anki's import_collection_package.
// Prints medians side by side, ratio ours/Anki, and our peak RSS.
//   DESKTOP_BENCH_NOTES (default 5000), DESKTOP_BENCH_MEDIA (default 200 files of 50 KB), DESKTOP_BENCH_ROUNDS (3)
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer } from '../test/peer/peer.js';
import { exportDesktopCollection } from '../src/sync/desktop/export.js';
import { importIntoDesktop } from '../src/sync/desktop/import.js';
import { BackupStore } from '../src/sync/backup/store.js';
import { ensureBackupSchema } from '../src/sync/backup/schema.js';
import { Journal } from '../src/sync/journal/journal.js';
import { ensureJournalSchema } from '../src/sync/journal/schema.js';

const NOTES = Number(process.env.DESKTOP_BENCH_NOTES ?? 5000);
const MEDIA = Number(process.env.DESKTOP_BENCH_MEDIA ?? 200);
const ROUNDS = Number(process.env.DESKTOP_BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const root = mkdtempSync(path.join(tmpdir(), 'ab-bench-desktop-'));
const peer = await AnkiPeer.start();
try {
  const col = path.join(root, 'Anki2', 'User 1', 'collection.anki2');
  await peer.createCollection({ path: col, notes: NOTES, seed: 1, reviewsPerCard: 3, media: { count: MEDIA, bytesEach: 50_000 } }, 1_800_000);
  const target = { profile: 'User 1', collectionPath: col, mediaDir: path.join(path.dirname(col), 'collection.media') };
  console.log(`collection: ${NOTES} notes, ${(statSync(col).size / 1048576).toFixed(1)} MiB, ${MEDIA} media × 50 KB`);

  const db = new Database(path.join(root, 'state.sqlite'));
  ensureJournalSchema(db);
  ensureBackupSchema(db);
  const deps = { journal: new Journal(db), backups: new BackupStore(db, path.join(root, 'backups')) };
  const ankiTarget = path.join(root, 'anki-target', 'collection.anki2');
  mkdirSync(path.dirname(ankiTarget), { recursive: true });
  await peer.createCollection({ path: ankiTarget, notes: 0, seed: 2 });

  const t = { expOurs: [] as number[], expAnki: [] as number[], impOurs: [] as number[], impAnki: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const ours = path.join(root, `ours-${r}.colpkg`);
    const anki = path.join(root, `anki-${r}.colpkg`);
    t.expOurs.push(await timed(() => exportDesktopCollection({ target, out: ours })));
    t.expAnki.push(await timed(() => peer.exportPackage({ path: col, out: anki, kind: 'colpkg' })));
    t.impOurs.push(await timed(() => importIntoDesktop({ target, packagePath: anki, force: true, deps })));
    t.impAnki.push(await timed(() => peer.importPackage({ path: ankiTarget, pkg: anki, kind: 'colpkg' })));
  }
  const row = (name: string, o: number[], a: number[]) =>
    console.log(`${name.padEnd(8)} ours ${s(median(o)).padStart(9)}   Anki ${s(median(a)).padStart(9)}   ratio ${(median(o) / median(a)).toFixed(2)}`);
  row('export', t.expOurs, t.expAnki);
  row('import', t.impOurs, t.impAnki);
  console.log(`peak RSS (ours, whole bench process): ${(peakRss / 1048576).toFixed(0)} MiB; backups kept: ${deps.backups.list().length}`);
  db.close();
} finally {
  clearInterval(sampler);
  await peer.close();
  rmSync(root, { recursive: true, force: true });
}
