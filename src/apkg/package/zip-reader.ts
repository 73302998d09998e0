/**
 * Reading the zip container with yauzl: the central directory is read once (lazily, entry by
 * entry, with names checked and sizes bounded), then entries are streamed on demand. yauzl does
 * not check CRC-32s, so every entry we read is checked here (zlib.crc32, native speed).
 * All yauzl/zlib failures become catalogued PACKAGE errors.
 */
import { createReadStream, read as fsRead } from 'node:fs';
import { Readable } from 'node:stream';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { crc32 } from './crc32.js';
import yauzl from 'yauzl';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { unsafeEntryNameReason } from './entry-name.js';
import type { PackageLimits } from './limits.js';
import { readWholeEntrySync, zipError, type ZipEntryLocation } from './zip-entry.js';

export { zipError } from './zip-entry.js';

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  method: number;
  /** The yauzl entry, to open a stream. */
  raw: yauzl.Entry;
}

export class ZipReader {
  private constructor(
    readonly path: string,
    private readonly zip: yauzl.ZipFile,
    readonly entries: ReadonlyMap<string, ZipEntryInfo>,
    private readonly fh: FileHandle,
    private readonly fileSize: number,
  ) {}

  static async open(path: string, limits: PackageLimits): Promise<ZipReader> {
    let fh: FileHandle;
    let fileSize: number;
    try {
      fh = await openFile(path, 'r');
    } catch (e) {
      throw zipError(path, e);
    }
    let zip: yauzl.ZipFile | undefined;
    try {
      fileSize = (await fh.stat()).size;
      try {
        zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
          yauzl.fromRandomAccessReader(
            new WindowedReader(fh.fd),
            fileSize,
            { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true },
            (err, z) => (err || !z ? reject(err ?? new Error('no zip')) : resolve(z)),
          ),
        );
      } catch (e) {
        throw zipError(path, e, 'the end of the archive (central directory) is missing');
      }
      if (zip.entryCount > limits.maxEntries) {
        throw makeError(PackageErrors.TOO_MANY_ENTRIES, { path, count: zip.entryCount, limit: limits.maxEntries });
      }
      const entries = await readCentralDirectory(path, zip, limits);
      return new ZipReader(path, zip, entries, fh, fileSize);
    } catch (e) {
      zip?.close();
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  get(name: string): ZipEntryInfo | undefined {
    return this.entries.get(name);
  }

  /**
   * The entry's bytes as stored in the zip after inflating (for Anki's latest format that is
   * still a zstd stream). Size is checked by yauzl against the central directory, CRC-32 here.
   */
  async *read(entry: ZipEntryInfo): AsyncGenerator<Buffer> {
    let stream: Readable;
    try {
      stream = await new Promise<Readable>((resolve, reject) =>
        this.zip.openReadStream(entry.raw, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))),
      );
    } catch (e) {
      throw zipError(this.path, e, undefined, entry.name);
    }
    let crc = 0;
    let bytes = 0;
    try {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        crc = crc32(buf, crc);
        bytes += buf.length;
        yield buf;
      }
    } catch (e) {
      throw zipError(this.path, e, undefined, entry.name);
    } finally {
      stream.destroy();
    }
    if (bytes !== entry.uncompressedSize) {
      throw makeError(PackageErrors.TRUNCATED, { path: this.path, reason: `entry ${entry.name} ended after ${bytes} of ${entry.uncompressedSize} bytes` });
    }
    if (crc !== entry.crc32) {
      throw makeError(PackageErrors.ZIP_CORRUPT, { path: this.path, reason: `checksum (CRC-32) of entry ${entry.name} does not match` });
    }
  }

  /** Reads a small entry fully into memory (meta, media map), refusing more than `max` bytes. */
  async readSmall(entry: ZipEntryInfo, max: number): Promise<Buffer> {
    if (entry.uncompressedSize > max) {
      throw makeError(PackageErrors.ZIP_BOMB, { path: this.path, reason: `entry ${entry.name} declares ${entry.uncompressedSize} bytes, more than ${max}` });
    }
    const parts: Buffer[] = [];
    for await (const chunk of this.read(entry)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /**
   * A small entry's bytes (inflated if deflated, CRC-checked) with two reads and no streams:
   * media files are mostly small, and per-file stream set-up would dominate. Bounded by the
   * caller (only for entries up to a few MB).
   */
  async readWhole(entry: ZipEntryInfo): Promise<Buffer> {
    return readWholeEntrySync(this.fh.fd, this.fileSize, this.path, this.location(entry));
  }

  /** The entry as plain data, for reading it elsewhere (a media worker) through `fd`. */
  location(entry: ZipEntryInfo): ZipEntryLocation {
    return {
      name: entry.name,
      localHeaderOffset: entry.raw.relativeOffsetOfLocalHeader,
      compressedSize: entry.compressedSize,
      uncompressedSize: entry.uncompressedSize,
      crc32: entry.crc32,
      method: entry.method,
    };
  }

  /** The open file's descriptor and size (valid until close()). */
  get fd(): number {
    return this.fh.fd;
  }

  get size(): number {
    return this.fileSize;
  }

  async close(): Promise<void> {
    this.zip.close();
    await this.fh.close().catch(() => undefined);
  }
}

async function readCentralDirectory(path: string, zip: yauzl.ZipFile, limits: PackageLimits): Promise<Map<string, ZipEntryInfo>> {
  const entries = new Map<string, ZipEntryInfo>();
  let declaredTotal = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (e: unknown): void => {
      zip.removeAllListeners('entry');
      reject(e);
    };
    zip.on('error', (e: unknown) => fail(zipError(path, e)));
    zip.on('end', () => resolve());
    zip.on('entry', (raw: yauzl.Entry) => {
      try {
        const nameBuf = raw.fileName as unknown as Buffer;
        const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, nameBuf, raw.extraFields, true);
        const unsafe = unsafeEntryNameReason(name);
        if (unsafe) throw makeError(PackageErrors.ZIP_SLIP, { path, entry: JSON.stringify(name), reason: unsafe });
        if (entries.has(name)) throw makeError(PackageErrors.DUPLICATE_ENTRY, { path, entry: name });
        if (raw.isEncrypted()) throw makeError(PackageErrors.UNSUPPORTED_ENTRY, { path, entry: name, reason: 'encrypted' });
        if (raw.compressionMethod !== 0 && raw.compressionMethod !== 8) {
          throw makeError(PackageErrors.UNSUPPORTED_ENTRY, { path, entry: name, reason: `compression method ${raw.compressionMethod}` });
        }
        checkDeclaredSize(path, name, raw.compressedSize, raw.uncompressedSize, limits);
        declaredTotal += raw.uncompressedSize;
        if (declaredTotal > limits.maxTotalBytes) {
          throw makeError(PackageErrors.ZIP_BOMB, { path, reason: `entries declare more than ${limits.maxTotalBytes} bytes in total` });
        }
        entries.set(name, {
          name,
          compressedSize: raw.compressedSize,
          uncompressedSize: raw.uncompressedSize,
          crc32: raw.crc32,
          method: raw.compressionMethod,
          raw,
        });
        zip.readEntry();
      } catch (e) {
        fail(e);
      }
    });
    zip.readEntry();
  });
  return entries;
}

function checkDeclaredSize(path: string, name: string, compressed: number, uncompressed: number, limits: PackageLimits): void {
  const biggest = Math.max(limits.maxCollectionBytes, limits.maxMediaFileBytes);
  if (uncompressed > biggest) {
    throw makeError(PackageErrors.ZIP_BOMB, { path, reason: `entry ${name} declares ${uncompressed} bytes, more than ${biggest}` });
  }
  if (uncompressed > limits.ratioFloorBytes && uncompressed > compressed * limits.maxRatio) {
    throw makeError(PackageErrors.ZIP_BOMB, { path, reason: `entry ${name} would expand ${Math.round(uncompressed / Math.max(compressed, 1))} times` });
  }
}

/**
 * yauzl's access to the package, through our descriptor. yauzl reads the central directory
 * with two small reads per entry; here they are served from a window read ahead (one read per
 * WINDOW bytes instead of a thread-pool round trip per read: 2,000 media entries cost ~130 ms
 * before). Entry data streams straight from the file.
 */
const WINDOW = 256 * 1024;
/** Piece size of an entry's data stream. */
const STREAM_CHUNK = 256 * 1024;

class WindowedReader extends yauzl.RandomAccessReader {
  private win: Buffer = Buffer.alloc(0);
  private winAt = 0;

  constructor(private readonly fd: number) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // Not fs.createReadStream: destroying one closes its descriptor, and this one is shared.
    const fd = this.fd;
    let pos = start;
    return new Readable({
      highWaterMark: STREAM_CHUNK,
      read(): void {
        const n = Math.min(STREAM_CHUNK, end - pos);
        if (n <= 0) {
          this.push(null);
          return;
        }
        const buf = Buffer.allocUnsafe(n);
        fsRead(fd, buf, 0, n, pos, (err, got) => {
          if (err) return this.destroy(err);
          if (got === 0) return this.push(null); // the file ended early: yauzl counts the bytes
          pos += got;
          this.push(got < n ? buf.subarray(0, got) : buf);
        });
      },
    });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    if (position >= this.winAt && position + length <= this.winAt + this.win.length) {
      this.win.copy(buffer, offset, position - this.winAt, position - this.winAt + length);
      process.nextTick(callback, null, length);
      return;
    }
    const win = Buffer.allocUnsafe(Math.max(length, WINDOW));
    fsRead(this.fd, win, 0, win.length, position, (err, n) => {
      if (err) return callback(err);
      this.win = win.subarray(0, n);
      this.winAt = position;
      const got = Math.min(n, length);
      win.copy(buffer, offset, 0, got);
      callback(null, got);
    });
  }

  override close(callback: (err: Error | null) => void): void {
    // The descriptor belongs to the ZipReader, which closes it.
    setImmediate(callback, null);
  }
}

/** The first bytes of a file, to tell a zip from an SQLite file from anything else. */
export async function readMagic(path: string, n = 16): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: n - 1 })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
