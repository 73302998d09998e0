// One package operation of ours, in its own process so that its peak RSS is ours alone. Plain
// JavaScript on the compiled code (dist/, built by package.bench.ts first): the figures measure
// our code, not a TypeScript loader.
//   node bench/package-child.mjs export <collection> <mediaDir> <out> [latest|legacy2] [nosha]
//   node bench/package-child.mjs import <package> <targetDir> [nosync]
//   node bench/package-child.mjs idle
// Prints one JSON line: { ms, cpuMs, maxRssMB, ... } (cpuMs: user + system, all threads).
import { copyFile, mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { openPackage, writeColpkg } from '../dist/apkg/index.js';

const [op, a, b, c, d] = process.argv.slice(2);
// MEDIA_WORKERS=<n> forces the number of media worker threads (default: chosen by the library).
const mediaWorkers = process.env.MEDIA_WORKERS === undefined ? undefined : Number(process.env.MEDIA_WORKERS);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let extra = {};

async function fsyncPath(p) {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

if (op === 'export') {
  // `nosha`: without the package's sha256, which Anki's exporter does not compute either.
  const sha256 = process.argv[7] !== 'nosha';
  const r = await writeColpkg({ collectionPath: a, mediaDir: b, out: c, format: d ?? 'latest', sha256, mediaWorkers });
  extra = { bytes: r.bytes, media: r.media, sha256, mediaWorkers: r.mediaWorkers };
} else if (op === 'import') {
  // What a colpkg import is, as Anki does it: the collection unpacked and checked (integrity),
  // every media file written (ours: also verified against the map's size and sha1) into the
  // collection's media folder, then the collection put in place atomically (temp, fsync,
  // rename, folder fsync). Ours writes the media while the collection is checked (openPackage's
  // `media` option: they get their names only once it passed). `nosync`: media files not
  // fsynced (Anki does not fsync them).
  const durable = c !== 'nosync';
  await mkdir(b, { recursive: true });
  const pkg = await openPackage(a, { media: { to: path.join(b, 'collection.media'), durable, mediaWorkers } });
  try {
    const target = path.join(b, 'collection.anki2');
    const tmp = `${target}.tmp-bench`;
    await copyFile(pkg.collectionPath, tmp);
    await fsyncPath(tmp);
    await rename(tmp, target);
    await fsyncPath(b);
    extra = { media: pkg.extracted.written.length, format: pkg.format, durable, mediaWorkers: pkg.extracted.mediaWorkers };
  } finally {
    await pkg.dispose();
  }
} else if (op !== 'idle') {
  throw new Error(`unknown op ${op}`);
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ op, ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), ...extra }));
