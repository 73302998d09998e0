/**
 * Reading the zip container with yauzl: the central directory is read once (lazily, entry by
 * entry, with names checked and sizes bounded), then entries are streamed on demand. yauzl does
 * not check CRC-32s, so every entry we read is checked here (zlib.crc32, native speed).
 * All yauzl/zlib failures become catalogued PACKAGE errors.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import type { AnkibridgeError } from '../../errors/ankibridge-error.js';
import { unsafeEntryNameReason } from './entry-name.js';
import type { PackageLimits } from './limits.js';

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
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
        yauzl.open(
          path,
          { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true },
          (err, z) => (err || !z ? reject(err ?? new Error('no zip')) : resolve(z)),
        ),
      );
    } catch (e) {
      throw zipError(path, e, 'the end of the archive (central directory) is missing');
    }
    try {
      if (zip.entryCount > limits.maxEntries) {
        throw makeError(PackageErrors.TOO_MANY_ENTRIES, { path, count: zip.entryCount, limit: limits.maxEntries });
      }
      const entries = await readCentralDirectory(path, zip, limits);
      const fh = await openFile(path, 'r');
      return new ZipReader(path, zip, entries, fh, (await fh.stat()).size);
    } catch (e) {
      zip.close();
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
    const head = Buffer.alloc(30);
    const at = entry.raw.relativeOffsetOfLocalHeader;
    let got = (await this.fh.read(head, 0, 30, at)).bytesRead;
    if (got !== 30 || head.readUInt32LE(0) !== 0x04034b50) {
      throw makeError(PackageErrors.ZIP_CORRUPT, { path: this.path, reason: `local header of entry ${entry.name} is missing` });
    }
    const dataStart = at + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    if (dataStart + entry.compressedSize > this.fileSize) {
      throw makeError(PackageErrors.TRUNCATED, { path: this.path, reason: `entry ${entry.name} runs past the end of the file` });
    }
    const raw = Buffer.allocUnsafe(entry.compressedSize);
    got = entry.compressedSize === 0 ? 0 : (await this.fh.read(raw, 0, raw.length, dataStart)).bytesRead;
    if (got !== entry.compressedSize) {
      throw makeError(PackageErrors.TRUNCATED, { path: this.path, reason: `entry ${entry.name} ended early` });
    }
    let data = raw;
    if (entry.method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw makeError(PackageErrors.ZIP_BOMB, { path: this.path, reason: `entry ${entry.name} holds more data than declared` }, e);
        }
        throw zipError(this.path, e, undefined, entry.name);
      }
    }
    if (data.length !== entry.uncompressedSize) {
      throw makeError(data.length > entry.uncompressedSize ? PackageErrors.ZIP_BOMB : PackageErrors.TRUNCATED, {
        path: this.path,
        reason: `entry ${entry.name} holds ${data.length} bytes, its header says ${entry.uncompressedSize}`,
      });
    }
    if ((crc32(data) >>> 0) !== entry.crc32) {
      throw makeError(PackageErrors.ZIP_CORRUPT, { path: this.path, reason: `checksum (CRC-32) of entry ${entry.name} does not match` });
    }
    return data;
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

/** Maps a yauzl / zlib / fs failure onto the catalogue. */
export function zipError(path: string, e: unknown, missingEndReason?: string, entry?: string): AnkibridgeError {
  if (e instanceof Error && 'hint' in e) return e as AnkibridgeError;
  const msg = e instanceof Error ? e.message : String(e);
  const where = entry ? `entry ${entry}: ${msg}` : msg;
  if (/too many bytes in the stream/i.test(msg)) {
    return makeError(PackageErrors.ZIP_BOMB, { path, reason: `${where} (more data than declared)` }, e);
  }
  if (/end of central directory record signature not found/i.test(msg)) {
    return makeError(PackageErrors.TRUNCATED, { path, reason: missingEndReason ?? msg }, e);
  }
  if (/unexpected EOF|overflows file bounds|not enough bytes|unexpected end of file|exceeds|truncated/i.test(msg)) {
    return makeError(PackageErrors.TRUNCATED, { path, reason: where }, e);
  }
  if (/unsupported compression|encrypt|multi-disk/i.test(msg)) {
    return makeError(PackageErrors.UNSUPPORTED_ENTRY, { path, entry: entry ?? '(archive)', reason: msg }, e);
  }
  return makeError(PackageErrors.ZIP_CORRUPT, { path, reason: where }, e);
}

/** The first bytes of a file, to tell a zip from an SQLite file from anything else. */
export async function readMagic(path: string, n = 16): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: n - 1 })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
