/**
 * writeColpkg: a collection (and optionally its media folder) as a .colpkg that Anki and
 * AnkiDroid import. Layout as current Anki writes it (docs/anki-package-formats.md §2.2):
 * meta, the collection (latest: zstd `collection.anki21b`; legacy: deflated `collection.anki21`),
 * the dummy `collection.anki2`, media `0..n` (latest: each its own zstd stream), and the media
 * map. The package is written under a temporary name, fsynced and renamed: a reader sees the
 * old file or the new one. Media are streamed one file at a time: memory does not grow with them.
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
}

export interface WriteColpkgResult {
  bytes: number;
  sha256: string;
  media: number;
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
  try {
    const source = await prepareSourceCollection(a.collectionPath, latest ? 18 : 11, work.path);
    const media = a.mediaDir ? (await listMedia(a.mediaDir)).filter((m) => a.mediaFilter?.(m.name, m.size) ?? true) : [];

    try {
      fh = await open(tmpOut, 'wx+', 0o644); // + : the writer re-reads large entries to hash them
    } catch (e) {
      throw makeError(GeneralErrors.IO, { operation: 'create', path: tmpOut, reason: (e as Error).message }, e);
    }
    const zip = new ZipWriter(fh);
    const encoder = new ZstdEncoder(ZSTD_LEVEL);
    const total = media.length + 1;
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
    // Small files (most media) are read whole, one file ahead, so that reading the next file
    // overlaps hashing and compressing this one; large files stream.
    const mediaDir = a.mediaDir as string;
    // Two read buffers, used in turn: file i+1 is read while file i is hashed, compressed and
    // copied into the zip writer's own buffers (addEntry returns only after that copy).
    const readBuffers: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
    // A read-ahead never rejects on its own (that would be an unhandled rejection if the loop
    // stopped first); its failure is rethrown when it is used.
    const readAhead = (i: number): Promise<{ data: Buffer | null } | { error: unknown }> => {
      const m = media[i];
      if (!m || m.size > SMALL_FILE) return Promise.resolve({ data: null });
      return readSmallFile(path.join(mediaDir, m.name), m.size, readBuffers, i % 2).then((data) => ({ data }), (error: unknown) => ({ error }));
    };
    let pending = readAhead(0);
    for (const [i, m] of media.entries()) {
      const got = await pending;
      pending = readAhead(i + 1);
      if ('error' in got) throw got.error;
      const whole = got.data;
      if (whole) {
        const sha1 = createHash('sha1').update(whole).digest();
        await zip.addEntry(String(i), latest ? encoder.compressToScratch(whole) : whole);
        entries.push({ name: m.name, size: whole.length, sha1 });
      } else {
        const hash = createHash('sha1');
        let size = 0;
        const hashed = async function* (): AsyncGenerator<Buffer> {
          for await (const chunk of readFile(path.join(mediaDir, m.name))) {
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
    return { bytes, sha256, media: entries.length };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmpOut).catch(() => undefined);
    if (e instanceof Error && 'hint' in e) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') throw makeError(GeneralErrors.DISK_FULL, { path: a.out }, e);
    throw makeError(GeneralErrors.IO, { operation: 'write', path: a.out, reason: err.message ?? String(e) }, e);
  } finally {
    await work.remove();
  }
}

/** Media files up to this size are read whole (memory: two of them at a time). */
const SMALL_FILE = 8 * 2 ** 20;

/**
 * A whole small file in one read, sized as it was listed (one byte more, to notice growth; a
 * file that changed since is read to its end, whatever its size now).
 */
async function readSmallFile(file: string, listedSize: number, pool: Buffer[], slot: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    let buf = pool[slot] as Buffer;
    if (buf.length < listedSize + 1) {
      buf = Buffer.allocUnsafe(Math.max(listedSize + 1, 64 * 1024));
      pool[slot] = buf;
    }
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
        pool[slot] = buf;
      }
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

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
