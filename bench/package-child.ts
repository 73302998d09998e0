// One package operation, run in its own process so that its peak RSS is ours alone:
//   tsx bench/package-child.ts export <collection> <mediaDir> <out> [latest|legacy2]
//   tsx bench/package-child.ts import <package> <targetDir> [nosync]
//   tsx bench/package-child.ts idle
// Prints one JSON line: { ms, maxRssMB, ... }.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openPackage, writeColpkg } from '../src/apkg/index.js';

const [op, a, b, c, d] = process.argv.slice(2);
const durable = c !== 'nosync';
const t0 = performance.now();
let extra: Record<string, unknown> = {};
if (op === 'export') {
  const r = await writeColpkg({ collectionPath: a!, mediaDir: b!, out: c!, format: (d as 'latest' | 'legacy2') ?? 'latest' });
  extra = { bytes: r.bytes, media: r.media };
} else if (op === 'import') {
  // What a colpkg import is: the collection unpacked and checked, then put in place, and every
  // media file written (verified) into the collection's media folder.
  await mkdir(b!, { recursive: true });
  const pkg = await openPackage(a!);
  try {
    await copyFile(pkg.collectionPath, path.join(b!, 'collection.anki2'));
    const r = await pkg.extractMedia(path.join(b!, 'collection.media'), { durable });
    extra = { media: r.written.length, format: pkg.format, durable };
  } finally {
    await pkg.dispose();
  }
} else if (op !== 'idle') {
  throw new Error(`unknown op ${op}`);
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ op, ms: Math.round(ms), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), ...extra }));
