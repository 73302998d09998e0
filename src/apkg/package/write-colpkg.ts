/**
 * writeColpkg: a collection (and optionally its media folder) as a .colpkg that Anki and
 * AnkiDroid import. Layout as current Anki writes it (docs/anki-package-formats.md §2.2):
 * meta, the collection (latest: zstd `collection.anki21b`; legacy: deflated `collection.anki21`),
 * the dummy `collection.anki2`, media `0..n` (latest: each its own zstd stream), and the media
 * map. The package is written under a temporary name, fsynced and renamed: a reader sees the
 * old file or the new one. Small media files are read, hashed and compressed by media workers
 * (media-pool.ts) a bounded number ahead of the writer, large ones stream through this thread:
 * memory does not grow with the media.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { dummyCollectionBytes } from './dummy-collection.js';
import { encodeLegacyMediaMap, encodeMediaEntries } from './media-map.js';
import { isNormalizedMediaName } from './media-name.js';
import { encodeMeta } from './meta.js';
import { makePrivateDir } from './private-dir.js';
import { prepareSourceCollection } from './source-collection.js';
import type { Progress } from './types.js';
import { syncDir, temporaryNameFor } from './write-file.js';
import { ZipWriter } from './zip-writer.js';
import { ZstdEncoder, zstdCompressSmall } from './zstd.js';
import type { PackJob, PackResult } from './media-jobs.js';
import { mediaWorkersFor, openMediaRunner, type MediaRunner } from './media-pool.js';

export interface WriteColpkgArgs {
  collectionPath: string;
  /** The collection's media folder; omitted = a package without media (like Anki's backups). */
  mediaDir?: string;
  /**
   * Which of the media folder's files go into the package (default: all). An import adds the
   * package's files and keeps the ones already there, so a package for a target that has most
   * media already can carry only what it lacks.
   */
  mediaFilter?(name: string, size: number): boolean;
  out: string;
  /** latest (default) or legacy2 ("Support older Anki versions", for AnkiDroid ≤ 2.20). */
  format?: 'latest' | 'legacy2';
  onProgress?(p: Progress): void;
  /** Parent of the private work folder (default: the OS temp folder). */
  tmpDir?: string;
  /** Worker threads for media (default: one per core, none for less than 32 MB of media). */
  mediaWorkers?: number;
  /** Compute the package's sha256 as it is written (default true; Anki's exporter computes none). */
  sha256?: boolean;
}

export interface WriteColpkgResult {
  bytes: number;
  /** The package's sha256 (hex); '' when `sha256: false` was asked for. */
  sha256: string;
  media: number;
  /** Worker threads that packed the media (0: the calling thread). */
  mediaWorkers: number;
}

const READ_CHUNK = 1 << 20;
/** Left-over temporary files of our own atomic writes (write-file.ts). */
const OUR_TEMP_FILE = /^\..+\.tmp-[0-9a-f]{12}$/;
const ZSTD_LEVEL = 3; // zstd's default, which is what Anki's level 0 means

export async function writeColpkg(a: WriteColpkgArgs): Promise<WriteColpkgResult> {
  const latest = (a.format ?? 'latest') === 'latest';
  const work = await makePrivateDir(a.tmpDir);
  const tmpOut = temporaryNameFor(a.out);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let runner: MediaRunner | undefined;
  try {
    const source = await prepareSourceCollection(a.collectionPath, latest ? 18 : 11, work.path);
    const media = a.mediaDir ? (await listMedia(a.mediaDir)).filter((m) => a.mediaFilter?.(m.name, m.size) ?? true) : [];
    const smallBytes = media.reduce((n, m) => n + (m.size <= SMALL_FILE ? m.size : 0), 0);
    runner = openMediaRunner({ workers: mediaWorkersFor(smallBytes, a.mediaWorkers) });

    try {
      fh = await open(tmpOut, 'wx+', 0o644); // + : the writer re-reads large entries to hash them
    } catch (e) {
      throw makeError(GeneralErrors.IO, { operation: 'create', path: tmpOut, reason: (e as Error).message }, e);
    }
    const zip = new ZipWriter(fh, new Date(), { sha256: a.sha256 ?? true });
    const encoder = new ZstdEncoder(ZSTD_LEVEL);
    const total = media.length + 1;
    // Small media files are read, hashed, compressed and CRC-32'd by the runner (worker threads
    // for a big folder), a bounded number ahead of the zip writer; they start now, while the
    // collection is compressed.
    const packer = new MediaPacker(runner, media, a.mediaDir ?? '', latest ? ZSTD_LEVEL : null);
    packer.fill();
    a.onProgress?.({ phase: 'collection', done: 0, total });
    await zip.addEntry('meta', encodeMeta(latest ? 3 : 2));
    if (latest) {
      await zip.addEntry('collection.anki21b', encoder.encode(readFile(source.file), source.size > 10 * 2 ** 20 ? 2 : 0), {
        sizeHint: source.size + 1024,
      });
    } else {
      await zip.addEntry('collection.anki21', readFile(source.file), { method: 8, sizeHint: source.size });
    }
    await zip.addEntry('collection.anki2', dummyCollectionBytes());
    a.onProgress?.({ phase: 'media', done: 1, total });

    const entries: Array<{ name: string; size: number; sha1: Buffer }> = [];
    for (const [i, m] of media.entries()) {
      const packed = await packer.take(i);
      if (packed) {
        // The worker's buffer goes out as it is; it returns to the workers once written.
        await zip.addStored(String(i), Buffer.from(packed.data, 0, packed.length), packed.crc32, () => packer.recycle(packed.data));
        entries.push({ name: m.name, size: packed.size, sha1: Buffer.from(packed.sha1, 'hex') });
      } else {
        // A large file streams through this thread (the runner keeps packing the next ones).
        const hash = createHash('sha1');
        let size = 0;
        const hashed = async function* (): AsyncGenerator<Buffer> {
          for await (const chunk of readFile(path.join(a.mediaDir as string, m.name))) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        };
        await zip.addEntry(String(i), latest ? encoder.encode(hashed()) : hashed(), { sizeHint: m.size + 1024 });
        entries.push({ name: m.name, size, sha1: hash.digest() });
      }
      a.onProgress?.({ phase: 'media', done: i + 2, total });
    }
    const map = latest ? zstdCompressSmall(encodeMediaEntries(entries)) : encodeLegacyMediaMap(entries.map((e) => e.name));
    await zip.addEntry('media', map);
    const bytes = await zip.finish();
    await fh.sync();
    await fh.close();
    fh = undefined;
    const sha256 = zip.sha256;
    await rename(tmpOut, a.out);
    await syncDir(path.dirname(a.out));
    a.onProgress?.({ phase: 'done', done: total, total });
    return { bytes, sha256, media: entries.length, mediaWorkers: runner.workers };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmpOut).catch(() => undefined);
    if (e instanceof Error && 'hint' in e) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') throw makeError(GeneralErrors.DISK_FULL, { path: a.out }, e);
    throw makeError(GeneralErrors.IO, { operation: 'write', path: a.out, reason: err.message ?? String(e) }, e);
  } finally {
    await runner?.close();
    await work.remove();
  }
}

/** Bytes of small media files packed ahead of the zip writer (input; output is about the same). */
const AHEAD_BYTES = 32 * 2 ** 20;

type Settled<T> = { value: T } | { error: unknown };

/**
 * Packs the small media files (≤ SMALL_FILE) in order, up to AHEAD_BYTES and a few jobs per
 * worker ahead of the writer; large files are left to the caller (take() gives undefined).
 * Output buffers the writer is done with go back to the workers.
 */
class MediaPacker {
  private readonly results = new Map<number, Promise<Settled<PackResult>>>();
  private next = 0;
  private aheadBytes = 0;
  private readonly spares: ArrayBuffer[] = [];
  private readonly maxJobs: number;

  constructor(
    private readonly runner: MediaRunner,
    private readonly media: ReadonlyArray<{ name: string; size: number }>,
    private readonly dir: string,
    private readonly zstdLevel: number | null,
  ) {
    this.maxJobs = 4 * Math.max(1, runner.workers);
  }

  fill(): void {
    while (this.next < this.media.length && this.results.size < this.maxJobs && this.aheadBytes < AHEAD_BYTES) {
      const i = this.next++;
      const m = this.media[i] as { name: string; size: number };
      if (m.size > SMALL_FILE) continue;
      const spare = this.spares.pop();
      const job: PackJob = { kind: 'pack', file: path.join(this.dir, m.name), listedSize: m.size, zstdLevel: this.zstdLevel, spare };
      this.aheadBytes += m.size;
      // Settled at once, so that a failure is never an unhandled rejection while it waits its turn.
      this.results.set(i, this.runner.run(job, spare ? [spare] : []).then((value) => ({ value }), (error: unknown) => ({ error })));
    }
  }

  /** File i packed, or undefined for a large file (the caller streams it). */
  async take(i: number): Promise<PackResult | undefined> {
    this.fill();
    const p = this.results.get(i);
    if (!p) return undefined;
    const got = await p;
    this.results.delete(i);
    this.aheadBytes -= (this.media[i] as { size: number }).size;
    this.fill();
    if ('error' in got) throw got.error;
    return got.value;
  }

  recycle(buf: ArrayBuffer): void {
    if (this.spares.length < this.maxJobs) this.spares.push(buf);
  }
}

/** Media files up to this size are packed whole, by the media runner (memory: AHEAD_BYTES of them). */
const SMALL_FILE = 8 * 2 ** 20;

async function* readFile(file: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) yield chunk as Buffer;
}

/** Media files to package: regular files with names Anki would accept, in a stable order. */
async function listMedia(dir: string): Promise<Array<{ name: string; size: number }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw makeError(PackageErrors.SOURCE_MEDIA_INVALID, { path: dir, reason: (e as Error).message }, e);
  }
  const out: Array<{ name: string; size: number }> = [];
  for (const name of names.sort()) {
    // Anki's media folder is flat and its checker renames files with unacceptable names; such
    // files (and our own temporary files) are not media Anki would export either.
    if (!isNormalizedMediaName(name) || OUR_TEMP_FILE.test(name)) continue;
    const st = await stat(path.join(dir, name)).catch(() => undefined);
    if (st?.isFile()) out.push({ name, size: st.size });
  }
  return out;
}
