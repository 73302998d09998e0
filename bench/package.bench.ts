// Package export and import, ours next to real Anki's, on a generated collection of 50k notes,
// 300k reviews and 1 GB of media in 2,000 files (Issue 2, Must show 6). Our side runs in a child
// process (bench/package-child.ts) so its peak RSS is measured alone. Goal: ratio ≤ 1.0 (our
// time / Anki's) and peak RSS < 300 MB.
//   npm run bench -- package          (BENCH_DIR=<dir> keeps and reuses the generated collection)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer, REPO_ROOT } from '../test/peer/peer.js';

const NOTES = Number(process.env.BENCH_NOTES ?? 50_000);
const REVIEWS = Number(process.env.BENCH_REVIEWS ?? 300_000);
const MEDIA_FILES = Number(process.env.BENCH_MEDIA_FILES ?? 2_000);
const MEDIA_BYTES_EACH = Number(process.env.BENCH_MEDIA_BYTES ?? Math.round(2 ** 30 / 2_000));

const keep = process.env.BENCH_DIR !== undefined;
const dir = process.env.BENCH_DIR ?? mkdtempSync(path.join(tmpdir(), 'bench-package-'));
mkdirSync(dir, { recursive: true });
const col = path.join(dir, 'src', 'collection.anki2');
const media = path.join(dir, 'src', 'collection.media');

function child(...args: string[]): { ms: number; maxRssMB: number; [k: string]: unknown } {
  const out = execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [path.join(REPO_ROOT, 'bench/package-child.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: Math.round(performance.now() - t), value };
}

const mb = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MB`;

const peer = await AnkiPeer.start();
try {
  if (!existsSync(col)) {
    console.log(`generating: ${NOTES} notes, ${REVIEWS} reviews, ${MEDIA_FILES} media files × ${mb(MEDIA_BYTES_EACH)} …`);
    const g = await timed(() =>
      peer.call('createCollection', { path: col, notes: NOTES, seed: 1, noteTypes: ['basic'], reviews: REVIEWS, days: 365, decks: 5, media: { count: MEDIA_FILES, bytesEach: MEDIA_BYTES_EACH } }, 3_600_000),
    );
    console.log(`generated in ${(g.ms / 1000).toFixed(1)} s:`, g.value);
  }
  const mediaTotal = readdirSync(media).reduce((n, f) => n + statSync(path.join(media, f)).size, 0);
  console.log(`collection ${mb(statSync(col).size)}, media ${readdirSync(media).length} files, ${mb(mediaTotal)}`);

  // Warm-up: Anki's first export scans and hashes the whole media folder into its media DB;
  // run it once untimed so both sides start with warm caches and a current media DB.
  const ankiPkg = path.join(dir, 'anki.colpkg');
  rmSync(ankiPkg, { force: true });
  await peer.exportPackage({ path: col, out: ankiPkg, kind: 'colpkg', withMedia: true }, 3_600_000);

  const idle = child('idle');
  // The machine is shared: every measurement is repeated (alternating Anki and us) and the best
  // of each is compared; all runs are printed.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const runs = { ankiExport: [] as number[], ourExport: [] as number[], ankiImport: [] as number[], ourImport: [] as number[], ourImportNoSync: [] as number[] };
  let exportRss = 0;
  let importRss = 0;
  const ourPkg = path.join(dir, 'ours.colpkg');
  for (let r = 0; r < rounds; r++) {
    // Export (latest format, with media).
    rmSync(ankiPkg, { force: true });
    runs.ankiExport.push((await timed(() => peer.exportPackage({ path: col, out: ankiPkg, kind: 'colpkg', withMedia: true }, 3_600_000))).ms);
    rmSync(ourPkg, { force: true });
    const ex = child('export', col, media, ourPkg, 'latest');
    runs.ourExport.push(ex.ms);
    exportRss = Math.max(exportRss, ex.maxRssMB);

    // Import (replace) of the same package Anki wrote.
    const ankiTarget = path.join(dir, 'anki-import', 'collection.anki2');
    rmSync(path.dirname(ankiTarget), { recursive: true, force: true });
    runs.ankiImport.push((await timed(() => peer.importPackage({ path: ankiTarget, pkg: ankiPkg, kind: 'colpkg' }, 3_600_000))).ms);
    for (const sync of [true, false]) {
      const ourTarget = path.join(dir, 'our-import');
      rmSync(ourTarget, { recursive: true, force: true });
      const im = sync ? child('import', ankiPkg, ourTarget) : child('import', ankiPkg, ourTarget, 'nosync');
      if (im.media !== MEDIA_FILES) throw new Error(`our import wrote ${String(im.media)} media files, expected ${MEDIA_FILES}`);
      (sync ? runs.ourImport : runs.ourImportNoSync).push(im.ms);
      importRss = Math.max(importRss, im.maxRssMB);
    }
  }
  const best = (xs: number[]): number => Math.min(...xs);
  const row = (what: string, ours: number[], anki: number[], rss: number): string =>
    `${what.padEnd(42)} ${`${best(ours)} ms`.padStart(10)} ${`${best(anki)} ms`.padStart(10)} ${(best(ours) / best(anki)).toFixed(2).padStart(7)} ${`${rss} MB`.padStart(10)}   runs: ours ${ours.join('/')}, Anki ${anki.join('/')}`;
  console.log('');
  console.log(`${`operation (best of ${rounds})`.padEnd(42)} ${'ours'.padStart(10)} ${'Anki'.padStart(10)} ${'ratio'.padStart(7)} ${'peak RSS'.padStart(10)}`);
  console.log(row('export colpkg (latest, fsync)', runs.ourExport, runs.ankiExport, exportRss));
  console.log(row('import colpkg (media fsynced)', runs.ourImport, runs.ankiImport, importRss));
  console.log(row('import colpkg (no media fsync, as Anki)', runs.ourImportNoSync, runs.ankiImport, importRss));
  console.log(`package sizes: ours ${mb(statSync(ourPkg).size)}, Anki's ${mb(statSync(ankiPkg).size)}; ` +
    `child process baseline RSS (tsx loaded, nothing done) ${idle.maxRssMB} MB`);
  const ok = best(runs.ourExport) <= best(runs.ankiExport) && best(runs.ourImportNoSync) <= best(runs.ankiImport) && Math.max(exportRss, importRss) < 300;
  console.log(ok ? 'goal met: ratio ≤ 1.0 and peak RSS < 300 MB' : 'goal NOT met (ratio ≤ 1.0, peak RSS < 300 MB)');
} finally {
  await peer.close();
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
