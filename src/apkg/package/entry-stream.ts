/**
 * The decoded bytes of one package entry, as an async generator: zip data (CRC-checked), then
 * zstd-decoded for the latest format, with a hard output limit, then (for media) checked against
 * the size and sha1 the media map recorded. Every failure is a catalogued error.
 */
import { createHash } from 'node:crypto';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import type { PackageLimits } from './limits.js';
import type { ZipEntryInfo, ZipReader } from './zip-reader.js';
import { ZstdDataError, ZstdLimitError, zstdDecode, zstdDecompressExact } from './zstd.js';

/** Most bytes an entry may decode to: its own limit, and never more than maxRatio × its size. */
export function decodedLimit(entry: ZipEntryInfo, own: number, limits: PackageLimits): number {
  return Math.min(own, Math.max(limits.ratioFloorBytes, entry.uncompressedSize * limits.maxRatio));
}

export async function* decodedEntry(
  zip: ZipReader,
  entry: ZipEntryInfo,
  zstd: boolean,
  maxBytes: number,
  onTooBig: () => Error,
): AsyncGenerator<Buffer> {
  if (!zstd) {
    yield* zip.read(entry);
    return;
  }
  try {
    yield* zstdDecode(zip.read(entry), maxBytes);
  } catch (e) {
    if (e instanceof ZstdLimitError) throw onTooBig();
    if (e instanceof ZstdDataError) {
      throw makeError(PackageErrors.COMPRESSED_DATA_CORRUPT, { path: zip.path, entry: entry.name, reason: e.message }, e);
    }
    throw e;
  }
}

/** Entries up to this size are read and decoded whole (see decodedSmallEntry). */
export const SMALL_ENTRY = 8 * 2 ** 20;

/** The same as decodedEntry for an entry of at most SMALL_ENTRY bytes, in one read and one decode. */
export async function* decodedSmallEntry(
  zip: ZipReader,
  entry: ZipEntryInfo,
  zstd: boolean,
  maxBytes: number,
  onTooBig: () => Error,
): AsyncGenerator<Buffer> {
  const raw = await zip.readWhole(entry);
  if (!zstd) {
    yield raw;
    return;
  }
  try {
    yield zstdDecompressExact(raw, maxBytes);
  } catch (e) {
    if (e instanceof ZstdLimitError) throw onTooBig();
    if (e instanceof ZstdDataError) {
      throw makeError(PackageErrors.COMPRESSED_DATA_CORRUPT, { path: zip.path, entry: entry.name, reason: e.message }, e);
    }
    throw e;
  }
}

/** Passes data through, then checks its length and (if known) sha1 against the media map. */
export async function* verifiedMedia(
  source: AsyncIterable<Buffer>,
  pkgPath: string,
  name: string,
  size: number,
  sha1?: string,
): AsyncGenerator<Buffer> {
  const hash = sha1 ? createHash('sha1') : undefined;
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    if (bytes > size) throw makeError(PackageErrors.MEDIA_MISMATCH, { path: pkgPath, name, what: 'size' });
    hash?.update(chunk);
    yield chunk;
  }
  if (bytes !== size) throw makeError(PackageErrors.MEDIA_MISMATCH, { path: pkgPath, name, what: 'size' });
  if (hash && hash.digest('hex') !== sha1) throw makeError(PackageErrors.MEDIA_MISMATCH, { path: pkgPath, name, what: 'checksum (sha1)' });
}
