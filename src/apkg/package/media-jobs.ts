/**
 * The per-file work of packing and unpacking media, as plain synchronous functions over plain
 * data, so that it runs unchanged in a media worker (media-worker.ts, two or more in parallel)
 * or on the calling thread (few or small files, see media-pool.ts).
 *
 * pack: read a media file whole, sha1 it, zstd-compress it (latest format) and CRC-32 what goes
 * into the zip — what Anki's exporter does per file (docs/anki-package-formats.md §2.2).
 * unpack: read a small zip entry whole (size and CRC-32 checked), zstd-decode it with a hard
 * output limit, check size and sha1 against the media map, write it under a temporary name
 * (O_EXCL) and rename it into place — or leave the rename to the caller, who fsyncs first.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from './crc32.js';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { isNormalizedMediaName } from './media-name.js';
import { hashFileSync } from '../fs-durable.js';
import { readWholeEntrySync, type ZipEntryLocation } from './zip-entry.js';
import { newZstdDecoder, zstdCompressBound, ZstdDataError, zstdDecompressExact, ZstdEncoder, ZSTD_END_ROOM, ZstdLimitError } from './zstd.js';

export interface PackJob {
  kind: 'pack';
  file: string;
  /** Size when the folder was listed; a file that changed since is read to its end. */
  listedSize: number;
  /** zstd level (latest format), or null to store the bytes as they are (legacy format). */
  zstdLevel: number | null;
  /** A buffer the caller is done with, for the result (saves an allocation per file). */
  spare?: ArrayBuffer;
}

export interface PackResult {
  /** What goes into the zip entry: data.subarray(0, length) of a transferable buffer. */
  data: ArrayBuffer;
  length: number;
  /** Size and sha1 (hex) of the file itself (for the media map). */
  size: number;
  sha1: string;
  /** CRC-32 of the stored bytes (the zip entry's). */
  crc32: number;
}

export interface UnpackJob {
  kind: 'unpack';
  /** The package, open in this process (descriptors are shared by all threads). */
  fd: number;
  fileSize: number;
  zipPath: string;
  entry: ZipEntryLocation;
  /** Latest format: the entry is a zstd stream. */
  zstd: boolean;
  /** The media map's name, size and sha1 (hex) for this file. */
  name: string;
  size: number;
  sha1?: string;
  dir: string;
  mode: number;
  /** Leave a file already there with the same content (sha1, else size) alone. */
  skipExistingSameContent: boolean;
  /**
   * Rename into place here: true; false to return the temporary file (the caller fsyncs and
   * renames it); 'gate' to rename here only once the caller's gate is open (see runList).
   */
  rename: boolean | 'gate';
}

export type UnpackResult = { outcome: 'skipped' } | { outcome: 'written'; tmp?: string };

/**
 * Pieces the work is done in: each piece is read, hashed, compressed and CRC'd while it is in
 * the core's cache (Anki's exporter works the same way, in 64 KB pieces). Whole-file passes
 * and large writes were measured several times slower here when memory bandwidth is shared.
 */
export const PIECE = 128 * 1024;

/** State a thread keeps from one job to the next. */
export class MediaJobState {
  private encoder: ZstdEncoder | undefined;
  private encoderLevel = -1;
  private readBuf: Buffer = Buffer.alloc(0);
  private rawBuf: Buffer = Buffer.alloc(0);
  private outBuf: Buffer = Buffer.alloc(0);
  private readonly suffixPrefix = randomBytes(3).toString('hex');
  private suffixCount = randomBytes(3).readUIntBE(0, 3);
  readonly decoder = newZstdDecoder();

  /** 12 hex digits, different for every call in this thread (and, by the random prefix, likely across threads). */
  uniqueSuffix(): string {
    this.suffixCount = (this.suffixCount + 1) % 0x1000000;
    return this.suffixPrefix + this.suffixCount.toString(16).padStart(6, '0');
  }

  encoderFor(level: number): ZstdEncoder {
    if (!this.encoder || this.encoderLevel !== level) {
      this.encoder = new ZstdEncoder(level);
      this.encoderLevel = level;
    }
    return this.encoder;
  }

  /** A buffer for one piece of input (reused). */
  piece(): Buffer {
    if (this.readBuf.length < PIECE) this.readBuf = Buffer.allocUnsafeSlow(PIECE);
    return this.readBuf;
  }

  /** Scratch for a zip entry's bytes as stored (reused from job to job). */
  raw(size: number): Buffer {
    if (this.rawBuf.length < size) this.rawBuf = Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024));
    return this.rawBuf;
  }

  /** Scratch for decoded bytes (reused from job to job). */
  out(size: number): Buffer {
    if (this.outBuf.length < size) this.outBuf = Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024));
    return this.outBuf;
  }
}

/**
 * Reads a media file to its end (whatever its size now) in pieces; each piece is hashed and
 * handed to `take` at once. Returns the size and sha1 (hex).
 */
function readHashed(file: string, take: (piece: Buffer) => void, piece: Buffer): { size: number; sha1: string } {
  const fd = openSync(file, 'r');
  try {
    const hash = createHash('sha1');
    let size = 0;
    for (;;) {
      const n = readSync(fd, piece, 0, piece.length, size);
      if (n === 0) break;
      const chunk = piece.subarray(0, n);
      hash.update(chunk);
      take(chunk);
      size += n;
    }
    return { size, sha1: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** A growable output buffer that leaves with the result (transferable, never pooled). */
class Output {
  buf: Buffer;
  length = 0;
  crc = 0;

  constructor(capacity: number, spare?: ArrayBuffer) {
    this.buf = spare && spare.byteLength >= capacity ? Buffer.from(spare) : Buffer.allocUnsafeSlow(capacity);
  }

  /** Room for at least `n` more bytes. */
  reserve(n: number): Buffer {
    if (this.buf.length - this.length < n) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    return this.buf.subarray(this.length);
  }

  /** The `n` bytes just put at the end count as written (and into the CRC-32). */
  commit(n: number): void {
    if (n === 0) return;
    this.crc = crc32(this.buf.subarray(this.length, this.length + n), this.crc);
    this.length += n;
  }
}

export function packMediaFile(job: PackJob, state: MediaJobState): { result: PackResult; transfer: ArrayBuffer[] } {
  const piece = state.piece();
  let out: Output;
  let file: { size: number; sha1: string };
  if (job.zstdLevel === null) {
    // Stored as it is.
    out = new Output(job.listedSize + 1, job.spare);
    file = readHashed(job.file, (chunk) => {
      chunk.copy(out.reserve(chunk.length));
      out.commit(chunk.length);
    }, piece);
  } else {
    const encoder = state.encoderFor(job.zstdLevel);
    // Room for the whole frame as zstd bounds it, plus its end: no regrowth for an unchanged file.
    out = new Output(zstdCompressBound(job.listedSize) + ZSTD_END_ROOM, job.spare);
    encoder.begin();
    file = readHashed(job.file, (chunk) => {
      for (let src = chunk; src.length > 0; ) {
        const { written, consumed } = encoder.push(out.reserve(zstdCompressBound(src.length)), src);
        out.commit(written);
        src = src.subarray(consumed);
      }
    }, piece);
    for (let more = true; more; ) {
      const r = encoder.end(out.reserve(ZSTD_END_ROOM));
      out.commit(r.written);
      more = r.more;
    }
  }
  const result: PackResult = { data: out.buf.buffer as ArrayBuffer, length: out.length, size: file.size, sha1: file.sha1, crc32: out.crc >>> 0 };
  return { result, transfer: [result.data] };
}

export function unpackMediaEntry(job: UnpackJob, state: MediaJobState, gateOpen: () => boolean = () => false): UnpackResult {
  // Names were checked when the map was read; checked again because this is where they hit the disk.
  if (!isNormalizedMediaName(job.name)) throw makeError(PackageErrors.MEDIA_NAME_INVALID, { path: job.dir, name: job.name });
  const target = path.join(job.dir, job.name);
  if (job.skipExistingSameContent && sameContentSync(target, job.size, job.sha1)) return { outcome: 'skipped' };
  const data = decodeSmallMedia(job, state);
  const { tmp, fd } = createTemporary(target, job.mode, state);
  try {
    // Hashed and written piece by piece while each piece is in the cache; a file whose sha1
    // differs from the map's is removed again below (it never gets its media name).
    const hash = job.sha1 ? createHash('sha1') : undefined;
    let off = 0;
    while (off < data.length) {
      const end = Math.min(off + WRITE_PIECE, data.length);
      hash?.update(data.subarray(off, end));
      while (off < end) {
        const n = writeSync(fd, data, off, end - off);
        if (n <= 0) throw Object.assign(new Error(`short write (${off} of ${data.length} bytes)`), { code: 'ENOSPC' });
        off += n;
      }
    }
    if (hash && hash.digest('hex') !== job.sha1) throw makeError(PackageErrors.MEDIA_MISMATCH, { path: job.zipPath, name: job.name, what: 'checksum (sha1)' });
    // What reached the file is what we meant to write (a full disk must not pass silently).
    if (fstatSync(fd).size !== data.length) throw Object.assign(new Error(`${job.name}: size on disk differs from ${data.length} bytes`), { code: 'EIO' });
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    unlinkQuietly(tmp);
    throw e;
  }
  if (job.rename === false || (job.rename === 'gate' && !gateOpen())) return { outcome: 'written', tmp };
  try {
    renameSync(tmp, target);
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
  return { outcome: 'written' };
}

/** A small media entry decoded and checked against the media map's size (the sha1 is the caller's); valid until the state's next job. */
function decodeSmallMedia(job: Pick<UnpackJob, 'fd' | 'fileSize' | 'zipPath' | 'entry' | 'zstd' | 'name' | 'size' | 'sha1'>, state: MediaJobState): Buffer {
  const mismatch = (what: string): Error => makeError(PackageErrors.MEDIA_MISMATCH, { path: job.zipPath, name: job.name, what });
  const raw = readWholeEntrySync(job.fd, job.fileSize, job.zipPath, job.entry, (n) => state.raw(n));
  let data = raw;
  if (job.zstd) {
    try {
      data = zstdDecompressExact(raw, job.size, state.out(job.size + 1), state.decoder);
    } catch (e) {
      if (e instanceof ZstdLimitError) throw mismatch('size');
      if (e instanceof ZstdDataError) throw makeError(PackageErrors.COMPRESSED_DATA_CORRUPT, { path: job.zipPath, entry: job.entry.name, reason: e.message }, e);
      throw e;
    }
  }
  if (data.length !== job.size) throw mismatch('size');
  return data;
}

/** Same test as Anki's colpkg import: sha1 when the map has one, else the size. */
export function sameContentSync(file: string, size: number, sha1: string | undefined): boolean {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size !== size) return false;
    return !sha1 || hashFileSync(file, 'sha1') === sha1;
  } catch {
    return false;
  }
}

/**
 * A new file `.<name>.tmp-<12 hex>` beside the target (named as write-file.ts names its
 * temporary files), created exclusively (O_EXCL): the suffix is this thread's random prefix and
 * a counter (a random draw per file cost more than small files' writing), and a name that
 * exists already is skipped.
 */
function createTemporary(target: string, mode: number, state: MediaJobState): { tmp: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${state.uniqueSuffix()}`);
    try {
      return { tmp, fd: openSync(tmp, 'wx', mode) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 16) throw e;
    }
  }
}

/** One piece of a media file hashed and written while it is in the cache. */
const WRITE_PIECE = PIECE;

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

export type MediaJob = PackJob | UnpackJob;
export type MediaJobResult<J extends MediaJob> = J extends PackJob ? PackResult : UnpackResult;

/** Runs one job; `transfer` lists the buffers a worker hands over with the result. */
export function runMediaJob(job: MediaJob, state: MediaJobState): { result: PackResult | UnpackResult; transfer: ArrayBuffer[] } {
  if (job.kind === 'pack') return packMediaFile(job, state);
  return { result: unpackMediaEntry(job, state), transfer: [] };
}
