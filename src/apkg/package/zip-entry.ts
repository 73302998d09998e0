/**
 * Reading one small zip entry whole, synchronously, from an open file descriptor: local header,
 * data, inflate (bounded by the declared size), size and CRC-32 checks. No yauzl and no streams,
 * so that it runs the same on the main thread (ZipReader.readWhole) and in a media worker
 * (media-jobs.ts), where a synchronous read is the cheapest way to get a few MB.
 * Every failure is a catalogued PACKAGE error.
 */
import { readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import type { AnkibridgeError } from '../../errors/ankibridge-error.js';

/** Where an entry is and what the central directory says about it (plain data: crosses threads). */
export interface ZipEntryLocation {
  name: string;
  localHeaderOffset: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** 0 stored, 8 deflate (others are refused when the central directory is read). */
  method: number;
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns the count. */
export function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * The entry's bytes as stored in the zip after inflating (for the latest format still a zstd
 * stream), checked against the declared size and CRC-32. For entries of a few MB only.
 * `scratch(n)` may lend a buffer of at least n bytes to read into (a stored entry's result then
 * lives in it: valid until the buffer is lent again).
 */
export function readWholeEntrySync(fd: number, fileSize: number, zipPath: string, entry: ZipEntryLocation, scratch?: (size: number) => Buffer): Buffer {
  const head = Buffer.alloc(30);
  const at = entry.localHeaderOffset;
  if (readFully(fd, head, 30, at) !== 30 || head.readUInt32LE(0) !== 0x04034b50) {
    throw makeError(PackageErrors.ZIP_CORRUPT, { path: zipPath, reason: `local header of entry ${entry.name} is missing` });
  }
  const dataStart = at + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
  if (dataStart + entry.compressedSize > fileSize) {
    throw makeError(PackageErrors.TRUNCATED, { path: zipPath, reason: `entry ${entry.name} runs past the end of the file` });
  }
  const raw = scratch ? scratch(entry.compressedSize).subarray(0, entry.compressedSize) : Buffer.allocUnsafe(entry.compressedSize);
  if (readFully(fd, raw, raw.length, dataStart) !== entry.compressedSize) {
    throw makeError(PackageErrors.TRUNCATED, { path: zipPath, reason: `entry ${entry.name} ended early` });
  }
  let data = raw;
  if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw makeError(PackageErrors.ZIP_BOMB, { path: zipPath, reason: `entry ${entry.name} holds more data than declared` }, e);
      }
      throw zipError(zipPath, e, undefined, entry.name);
    }
  }
  if (data.length !== entry.uncompressedSize) {
    throw makeError(data.length > entry.uncompressedSize ? PackageErrors.ZIP_BOMB : PackageErrors.TRUNCATED, {
      path: zipPath,
      reason: `entry ${entry.name} holds ${data.length} bytes, its header says ${entry.uncompressedSize}`,
    });
  }
  if ((crc32(data) >>> 0) !== entry.crc32) {
    throw makeError(PackageErrors.ZIP_CORRUPT, { path: zipPath, reason: `checksum (CRC-32) of entry ${entry.name} does not match` });
  }
  return data;
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
