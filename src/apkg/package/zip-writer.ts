/**
 * A small streaming zip writer for packages. Entries are written one after another; each local
 * header is written first with placeholder CRC/sizes and patched in place once the data is
 * written, so no data descriptors are needed (the most widely readable layout: Anki's Rust zip
 * reader, Python's zipfile, old AnkiDroid's Java ZipFile). ZIP64 records are added only when a
 * size or offset needs them. CRC-32 is zlib's native one. Memory: a bounded number of writes in
 * flight, nothing else.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { createDeflateRaw } from 'node:zlib';
import { crc32 } from './crc32.js';
import { pipeline, Readable } from 'node:stream';

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/** Entries whose size might reach 4 GiB get a ZIP64 field reserved in their local header. */
const ZIP64_RESERVE_ABOVE = 0xf0000000;
const MAX_IN_FLIGHT = 16 * 2 ** 20;
/** Entries up to this size (after compression) are held in memory until complete. */
const BUFFER_LIMIT = 8 * 2 ** 20;
/**
 * Size of one write. Measured here: writes up to 512 KB cost ~0.25 s of kernel time per GB,
 * writes of 1 MB and more 1.1–1.4 s (the copy into the page cache runs from cold cache).
 */
const BATCH_BYTES = 256 * 1024;
/** Stored data at least this large is written from its own buffer rather than copied into a batch. */
const DIRECT_BYTES = 64 * 1024;

interface WrittenEntry {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  offset: number;
  zip64Local: boolean;
}

export interface AddEntryOptions {
  /** 0 stored (default), 8 deflate. */
  method?: 0 | 8;
  /** Upper bound of the entry's size if known (decides whether a ZIP64 field is reserved). */
  sizeHint?: number;
}

export class ZipWriter {
  private pos = 0;
  private inFlight = 0;
  private pending: Array<Promise<void>> = [];
  private failure: unknown;
  private readonly entries: WrittenEntry[] = [];
  private readonly dosTime: number;
  private readonly dosDate: number;
  /** The archive's sha256, unless the caller does not want it (it costs ~0.6 s of CPU per GB). */
  private readonly hash: Hash | undefined;
  private digest: string | undefined;
  /** Start of a streamed entry whose bytes are hashed only once it is complete and patched. */
  private unhashedFrom: number | null = null;
  private cur: Buffer = Buffer.allocUnsafe(BATCH_BYTES);
  private curLen = 0;
  private readonly spare: Buffer[] = [];

  constructor(private readonly fh: FileHandle, now = new Date(), opts: { sha256?: boolean } = {}) {
    this.hash = (opts.sha256 ?? true) ? createHash('sha256') : undefined;
    this.dosTime = (now.getHours() << 11) | (now.getMinutes() << 5) | Math.floor(now.getSeconds() / 2);
    this.dosDate = ((Math.max(now.getFullYear(), 1980) - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  }

  get bytesWritten(): number {
    return this.pos;
  }

  /**
   * Adds an entry whose (uncompressed) data comes from `data`; returns its uncompressed size.
   * Entries up to BUFFER_LIMIT are held in memory until complete, so their local header is
   * written once with its final CRC and sizes and the archive's sha256 is computed as the bytes
   * go out; larger entries stream with a header patched afterwards and are re-read for the hash.
   */
  async addEntry(name: string, data: AsyncIterable<Buffer> | Buffer, opts: AddEntryOptions = {}): Promise<number> {
    const method = opts.method ?? 0;
    const nameBuf = Buffer.from(name, 'utf8');
    let crc = 0;
    let uncompressed = 0;
    const source: AsyncIterable<Buffer> = Buffer.isBuffer(data) ? ([data] as unknown as AsyncIterable<Buffer>) : data;
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        uncompressed += chunk.length;
        yield chunk;
      }
    };
    // pipeline (not pipe) so that a failing source also fails the deflate stream we read from.
    const payload: AsyncIterable<Buffer> =
      method === 8 ? pipeline(Readable.from(counted()), createDeflateRaw({ level: 6 }), () => undefined) : counted();

    const offset = this.pos;
    const held: Buffer[] = [];
    let heldBytes = 0;
    let streaming = false;
    let zip64Local = false;
    for await (const raw of payload) {
      const chunk = raw as Buffer;
      if (streaming) {
        await this.writeBounded(chunk);
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > BUFFER_LIMIT) {
        // Too big to hold: header with placeholders now, patched when the entry is complete.
        streaming = true;
        zip64Local = (opts.sizeHint ?? Infinity) > ZIP64_RESERVE_ABOVE;
        this.unhashedFrom = offset;
        this.write(localHeader(nameBuf, method, this.dosTime, this.dosDate, zip64Local, 0, 0, 0));
        for (const h of held.splice(0)) await this.writeBounded(h);
      }
    }
    if (!streaming) {
      this.write(localHeader(nameBuf, method, this.dosTime, this.dosDate, false, crc >>> 0, heldBytes, uncompressed));
      for (const h of held) await this.writeBounded(h);
      this.entries.push({ name: nameBuf, method, crc: crc >>> 0, compressedSize: heldBytes, uncompressedSize: uncompressed, offset, zip64Local: false });
      return uncompressed;
    }
    const headerLen = 30 + nameBuf.length + (zip64Local ? 20 : 0);
    const compressed = this.pos - offset - headerLen;
    if (!zip64Local && (compressed > MAX32 || uncompressed > MAX32)) {
      throw new Error(`entry ${name} grew past 4 GiB without a ZIP64 header`);
    }
    // The placeholder header must be written before its patch (both target the same bytes).
    await this.drain();
    const fix = Buffer.alloc(12);
    fix.writeUInt32LE(crc >>> 0, 0);
    fix.writeUInt32LE(zip64Local ? MAX32 : compressed, 4);
    fix.writeUInt32LE(zip64Local ? MAX32 : uncompressed, 8);
    this.writeAt(fix, offset + 14);
    if (zip64Local) {
      const ext = Buffer.alloc(16);
      writeUInt64LE(ext, uncompressed, 0);
      writeUInt64LE(ext, compressed, 8);
      this.writeAt(ext, offset + 30 + nameBuf.length + 4);
    }
    this.entries.push({ name: nameBuf, method, crc: crc >>> 0, compressedSize: compressed, uncompressedSize: uncompressed, offset, zip64Local });
    await this.drain();
    if (this.hash) await this.hashWritten(offset, this.pos);
    this.unhashedFrom = null;
    return uncompressed;
  }

  /**
   * Adds a stored entry whose bytes and CRC-32 are already known (computed by a media worker):
   * header and data go out once, nothing is recomputed here. Data of DIRECT_BYTES or more is
   * written from `data` itself (no copy into the batches); `release` is called once the writer
   * no longer needs `data` (right away for data copied into a batch).
   */
  async addStored(name: string, data: Buffer, crc: number, release?: () => void): Promise<void> {
    if (data.length >= MAX32) throw new Error(`entry ${name} is too large to add whole`);
    const nameBuf = Buffer.from(name, 'utf8');
    const offset = this.pos;
    const header = localHeader(nameBuf, 0, this.dosTime, this.dosDate, false, crc >>> 0, data.length, data.length);
    this.entries.push({ name: nameBuf, method: 0, crc: crc >>> 0, compressedSize: data.length, uncompressedSize: data.length, offset, zip64Local: false });
    if (data.length < DIRECT_BYTES) {
      this.write(header);
      await this.writeBounded(data);
      release?.();
      return;
    }
    // The header (and whatever small bytes wait in the batch) and the data in one writev.
    this.write(header);
    if (this.failure) throw this.failure;
    if (this.unhashedFrom === null) this.hash?.update(data);
    const batch = this.cur;
    const batchLen = this.curLen;
    const at = this.pos - batchLen;
    this.cur = this.spare.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
    this.curLen = 0;
    this.pos += data.length;
    this.track(writevAll(this.fh, [batch.subarray(0, batchLen), data], at), batchLen + data.length, () => {
      this.spare.push(batch);
      release?.();
    });
    while (this.inFlight > MAX_IN_FLIGHT && this.pending.length > 0) await this.pending.shift();
    if (this.failure) throw this.failure;
  }

  /** sha256 of the whole archive (hex); valid after finish(); '' when not computed. */
  get sha256(): string {
    return this.digest ?? '';
  }

  private async hashWritten(from: number, to: number): Promise<void> {
    const hash = this.hash as Hash;
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let at = from; at < to; ) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead <= 0) throw new Error('short read while hashing the package');
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  }

  /** Writes the central directory and end records; waits for every write. */
  async finish(): Promise<number> {
    const cdStart = this.pos;
    for (const e of this.entries) this.write(centralHeader(e, this.dosTime, this.dosDate));
    const cdSize = this.pos - cdStart;
    const count = this.entries.length;
    if (count >= MAX16 || cdStart >= MAX32 || cdSize >= MAX32) {
      const zip64EndOffset = this.pos;
      const rec = Buffer.alloc(56);
      rec.writeUInt32LE(0x06064b50, 0);
      writeUInt64LE(rec, 44, 4);
      rec.writeUInt16LE(45, 12);
      rec.writeUInt16LE(45, 14);
      writeUInt64LE(rec, count, 24);
      writeUInt64LE(rec, count, 32);
      writeUInt64LE(rec, cdSize, 40);
      writeUInt64LE(rec, cdStart, 48);
      this.write(rec);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      writeUInt64LE(loc, zip64EndOffset, 8);
      loc.writeUInt32LE(1, 16);
      this.write(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
    end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
    this.write(end);
    await this.drain();
    this.digest = this.hash?.digest('hex');
    return this.pos;
  }

  /** Waits for every write in flight and rethrows the first failure. */
  async drain(): Promise<void> {
    this.flushBatch();
    while (this.pending.length > 0) await this.pending.shift();
    if (this.failure) throw this.failure;
  }

  /**
   * Sequential bytes are copied into a fixed BATCH_BYTES buffer and written one full buffer at a
   * time: few, large writes (headers and small media would otherwise cost a thread-pool round
   * trip each) and a handful of reused buffers instead of one allocation per chunk (the garbage
   * collector was a large part of an export's time).
   */
  private write(buf: Buffer): void {
    if (this.unhashedFrom === null) this.hash?.update(buf);
    let from = 0;
    while (from < buf.length) {
      const n = Math.min(buf.length - from, BATCH_BYTES - this.curLen);
      buf.copy(this.cur, this.curLen, from, from + n);
      this.curLen += n;
      from += n;
      this.pos += n;
      if (this.curLen === BATCH_BYTES) this.flushBatch();
    }
  }

  private flushBatch(): void {
    if (this.curLen === 0) return;
    if (this.failure) throw this.failure;
    const buf = this.cur;
    const bytes = this.curLen;
    this.cur = this.spare.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
    this.curLen = 0;
    this.track(writeAll(this.fh, buf, bytes, this.pos - bytes), bytes, () => this.spare.push(buf));
  }

  /** Writes, then waits only for the oldest writes until the bytes in flight are under the cap. */
  private async writeBounded(buf: Buffer): Promise<void> {
    this.write(buf);
    while (this.inFlight + this.curLen > MAX_IN_FLIGHT && this.pending.length > 0) await this.pending.shift();
    if (this.failure) throw this.failure;
  }

  private writeAt(buf: Buffer, at: number): void {
    if (this.failure) throw this.failure;
    this.track(writeAll(this.fh, buf, buf.length, at), buf.length);
  }

  /** Counts a write in flight until it ends; its failure fails the writer. */
  private track(write: Promise<void>, bytes: number, done?: () => void): void {
    this.inFlight += bytes;
    const p = write
      .then(
        () => undefined,
        (e: unknown) => {
          this.failure ??= e;
        },
      )
      .finally(() => {
        this.inFlight -= bytes;
        done?.();
      });
    this.pending.push(p);
  }
}

function localHeader(name: Buffer, method: number, time: number, date: number, zip64: boolean, crc: number, compressed: number, uncompressed: number): Buffer {
  const extraLen = zip64 ? 20 : 0;
  const h = Buffer.alloc(30 + name.length + extraLen);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(0x0800, 6); // names are UTF-8
  h.writeUInt16LE(method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt32LE(crc, 14);
  h.writeUInt32LE(zip64 ? MAX32 : compressed, 18);
  h.writeUInt32LE(zip64 ? MAX32 : uncompressed, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extraLen, 28);
  name.copy(h, 30);
  if (zip64) {
    h.writeUInt16LE(0x0001, 30 + name.length);
    h.writeUInt16LE(16, 32 + name.length);
  }
  return h;
}

function centralHeader(e: WrittenEntry, time: number, date: number): Buffer {
  const big: number[] = [];
  if (e.uncompressedSize >= MAX32 || e.zip64Local) big.push(e.uncompressedSize);
  if (e.compressedSize >= MAX32 || e.zip64Local) big.push(e.compressedSize);
  const bigOffset = e.offset >= MAX32;
  if (bigOffset) big.push(e.offset);
  const extraLen = big.length ? 4 + 8 * big.length : 0;
  const h = Buffer.alloc(46 + e.name.length + extraLen);
  const zip64 = big.length > 0;
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE((3 << 8) | (zip64 ? 45 : 20), 4); // made by: Unix
  h.writeUInt16LE(zip64 ? 45 : 20, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(e.zip64Local || e.compressedSize >= MAX32 ? MAX32 : e.compressedSize, 20);
  h.writeUInt32LE(e.zip64Local || e.uncompressedSize >= MAX32 ? MAX32 : e.uncompressedSize, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extraLen, 30);
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
  h.writeUInt32LE(bigOffset ? MAX32 : e.offset, 42);
  e.name.copy(h, 46);
  if (zip64) {
    let p = 46 + e.name.length;
    h.writeUInt16LE(0x0001, p);
    h.writeUInt16LE(8 * big.length, p + 2);
    p += 4;
    for (const v of big) {
      writeUInt64LE(h, v, p);
      p += 8;
    }
  }
  return h;
}

function writeUInt64LE(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % 2 ** 32, at);
  buf.writeUInt32LE(Math.floor(value / 2 ** 32), at + 4);
}

/** Writes the buffers one after another at `at` with writev, however many calls it takes. */
async function writevAll(fh: FileHandle, bufs: Buffer[], at: number): Promise<void> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await fh.writev(bufs, at);
  if (bytesWritten === total) return;
  if (bytesWritten < 0) throw new Error('the disk accepted no more bytes');
  // A short write (nearly full disk): the rest one buffer at a time.
  let skip = bytesWritten;
  let pos = at + bytesWritten;
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    await writeAll(fh, b.subarray(skip), b.length - skip, pos);
    pos += b.length - skip;
    skip = 0;
  }
}

/** Writes `length` bytes of `buf` at `at`, however many calls it takes. */
async function writeAll(fh: FileHandle, buf: Buffer, length: number, at: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, at + done);
    if (bytesWritten <= 0) throw new Error('the disk accepted no more bytes');
    done += bytesWritten;
  }
}
