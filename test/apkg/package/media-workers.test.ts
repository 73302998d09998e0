// Media work in worker threads (media-pool.ts) must give exactly what the same work gives on
// the calling thread: the same package bytes on export, the same files on import, and — for
// damaged packages — the same catalogued errors (hostile.test.ts checks each case both ways).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPackage, writeColpkg } from '../../../src/apkg/index.js';
import { unzipAll, zipAll } from './support/zip-tools.js';
import { mediaWorkersFor, WORKERS_MIN_BYTES } from '../../../src/apkg/package/media-pool.js';
import { zstdCompressSmall } from '../../../src/apkg/package/zstd.js';

const F = new URL('../../fixtures/real/', import.meta.url).pathname;
const COLLECTION = `${F}frequencyman-two_deck_collection.anki2`;
let root: string;
let media: string;
const files = new Map<string, Buffer>();

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'pkg-workers-'));
  media = path.join(root, 'media');
  mkdirSync(media);
  // Sizes around the piece size (128 KB) and the small-file limit (8 MB: the 9 MB file streams
  // through the main thread between worker-packed files); random, compressible and empty content.
  const sizes = [0, 1, 4095, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 300_000, 1 << 20, 9 << 20, 2_500_000];
  sizes.forEach((size, i) => {
    const data = i % 2 === 0 ? randomBytes(size) : Buffer.from('compressible text '.repeat(Math.ceil(size / 18) + 1)).subarray(0, size);
    const name = `f${String(i).padStart(2, '0')}-${size}.${i % 3 === 0 ? 'mp3' : 'jpg'}`;
    writeFileSync(path.join(media, name), data);
    files.set(name, data);
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

describe('media workers', () => {
  it('are used for 32 MB of media or more, and only while a core is idle', () => {
    const cores = availableParallelism();
    expect(mediaWorkersFor(WORKERS_MIN_BYTES - 1, undefined, WORKERS_MIN_BYTES, 0)).toBe(0);
    expect(mediaWorkersFor(WORKERS_MIN_BYTES, undefined, WORKERS_MIN_BYTES, 0)).toBeGreaterThanOrEqual(2);
    expect(mediaWorkersFor(2 ** 30, undefined, WORKERS_MIN_BYTES, cores - 0.5)).toBeGreaterThanOrEqual(2);
    expect(mediaWorkersFor(2 ** 30, undefined, WORKERS_MIN_BYTES, cores)).toBe(0);
    expect(mediaWorkersFor(2 ** 30, 3, WORKERS_MIN_BYTES, cores * 4)).toBe(3);
    expect(mediaWorkersFor(1, 2)).toBe(2);
  });

  for (const format of ['latest', 'legacy2'] as const) {
    it(`export (${format}): the same entries with workers as on one thread, and they read back intact`, async () => {
      const outs: string[] = [];
      for (const mediaWorkers of [0, 2]) {
        const out = path.join(root, `${format}-${mediaWorkers}.colpkg`);
        const r = await writeColpkg({ collectionPath: COLLECTION, mediaDir: media, out, format, mediaWorkers });
        expect(r.media).toBe(files.size);
        outs.push(out);
      }
      const [one, two] = await Promise.all(outs.map((o) => unzipAll(o)));
      expect(two!.map((e) => e.name)).toEqual(one!.map((e) => e.name));
      for (const [i, e] of one!.entries()) expect(two![i]!.data.equals(e.data), e.name).toBe(true);

      const p = await openPackage(outs[1]!);
      try {
        expect(p.media.map((m) => m.name).sort()).toEqual([...files.keys()].sort());
        const to = path.join(root, `${format}-read`);
        await p.extractMedia(to, { mediaWorkers: 2 });
        for (const [name, data] of files) expect(sha1(readFileSync(path.join(to, name))), name).toBe(sha1(data));
      } finally {
        await p.dispose();
      }
    });
  }

  it('import with workers: durable, no temporary files left, and a second import skips what is there', async () => {
    const pkgFile = path.join(root, 'import.colpkg');
    await writeColpkg({ collectionPath: COLLECTION, mediaDir: media, out: pkgFile, mediaWorkers: 0 });
    const to = path.join(root, 'imported');
    const p = await openPackage(pkgFile);
    try {
      const first = await p.extractMedia(to, { mediaWorkers: 2, durable: true, skipExistingSameContent: true });
      expect(first.written.sort()).toEqual([...files.keys()].sort());
      expect(first.skipped).toEqual([]);
      expect(readdirSync(to).sort()).toEqual([...files.keys()].sort());
      for (const [name, data] of files) expect(readFileSync(path.join(to, name)).equals(data), name).toBe(true);
      // One file changed on disk since: only that one is written again.
      const changed = [...files.keys()][3]!;
      writeFileSync(path.join(to, changed), 'changed');
      const again = await p.extractMedia(to, { mediaWorkers: 2, durable: true, skipExistingSameContent: true });
      expect(again.written).toEqual([changed]);
      expect(again.skipped.length).toBe(files.size - 1);
      expect(readFileSync(path.join(to, changed)).equals(files.get(changed)!)).toBe(true);
      expect(readdirSync(to).filter((f) => f.includes('.tmp-'))).toEqual([]);
    } finally {
      await p.dispose();
    }
  });

  it('openPackage with media: written while the collection is checked, the same files; a bad collection leaves nothing', async () => {
    const pkgFile = path.join(root, 'together.colpkg');
    await writeColpkg({ collectionPath: COLLECTION, mediaDir: media, out: pkgFile, mediaWorkers: 0 });
    for (const mediaWorkers of [0, 2]) {
      const to = path.join(root, `together-${mediaWorkers}`, 'collection.media');
      const p = await openPackage(pkgFile, { media: { to, mediaWorkers } });
      try {
        expect(p.extracted?.written.sort()).toEqual([...files.keys()].sort());
        expect(readdirSync(to).sort()).toEqual([...files.keys()].sort());
        for (const [name, data] of files) expect(readFileSync(path.join(to, name)).equals(data), name).toBe(true);
      } finally {
        await p.dispose();
      }
    }
    // The same media with a collection that fails its check: refused, and the media folder
    // (made for this import) is gone again, temporary files and all.
    const entries = await unzipAll(pkgFile);
    const broken = path.join(root, 'broken-collection.colpkg');
    await zipAll(broken, entries.map((e) => (e.name === 'collection.anki21b' ? { ...e, data: zstdCompressSmall(Buffer.from('not a collection at all')) } : e)));
    const target = path.join(root, 'refused', 'collection.media');
    await expect(openPackage(broken, { media: { to: target, mediaWorkers: 2 } })).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_COLLECTION_NOT_SQLITE' });
    expect(readdirSync(root)).not.toContain('refused');
  });
});
