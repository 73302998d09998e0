/**
 * The `media` entry: which zip entry holds which media file.
 * - legacy (versions 1, 2): JSON object {"<entry index>": "<file name>"}; sizes/sha1 unknown.
 * - latest (version 3): zstd(protobuf MediaEntries { repeated MediaEntry { name=1, size=2,
 *   sha1=3, legacy_zip_filename=255 } }); entry i lives in zip entry "i".
 * Facts: docs/anki-package-formats.md §2.3. Every name must be a normalized single component,
 * names must be unique and sha1s exactly 20 bytes — as Anki requires — else a named error.
 */
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';
import { mediaNameProblem } from './media-name.js';
import { bytesField, readFields, varintField } from './protobuf.js';

export interface MediaEntryInfo {
  /** Zip entry name holding the file ("0", "1", …). */
  index: string;
  /** File name in the media folder. */
  name: string;
  /** Uncompressed size in bytes (latest format; legacy: the zip entry's size). */
  size: number;
  /** sha1 of the uncompressed file, hex (latest format only). */
  sha1?: string;
}

export function parseLegacyMediaMap(path: string, bytes: Buffer): Array<Omit<MediaEntryInfo, 'size'>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: `not valid JSON (${(e as Error).message})` }, e);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: 'not a JSON object' });
  }
  const out: Array<Omit<MediaEntryInfo, 'size'>> = [];
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(key)) {
      throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: `entry key ${JSON.stringify(key).slice(0, 40)} is not a number` });
    }
    if (typeof value !== 'string') {
      throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: `the name for entry ${key} is not a string` });
    }
    out.push({ index: key, name: value });
  }
  checkNames(path, out);
  return out;
}

export function parseMediaEntries(path: string, bytes: Buffer): MediaEntryInfo[] {
  const out: MediaEntryInfo[] = [];
  try {
    let i = 0;
    for (const f of readFields(bytes)) {
      if (f.field !== 1) continue;
      if (f.wireType !== 2 || !f.bytes) throw new Error('entries field is not a message');
      let name = '';
      let size = 0;
      let sha1: Uint8Array = new Uint8Array(0);
      let legacyIndex: number | undefined;
      for (const g of readFields(f.bytes)) {
        if (g.field === 1 && g.bytes) name = new TextDecoder('utf-8', { fatal: true }).decode(g.bytes);
        else if (g.field === 2 && g.varint !== undefined) size = g.varint;
        else if (g.field === 3 && g.bytes) sha1 = g.bytes;
        else if (g.field === 255 && g.varint !== undefined) legacyIndex = g.varint;
      }
      if (size > 0xffffffff) throw new Error(`size of entry ${i} is out of range`);
      if (sha1.length !== 20) {
        throw makeError(PackageErrors.MEDIA_SHA1_INVALID, { path, name, length: sha1.length });
      }
      out.push({ index: String(legacyIndex ?? i), name, size, sha1: Buffer.from(sha1).toString('hex') });
      i++;
    }
  } catch (e) {
    if (e instanceof Error && 'hint' in e) throw e;
    throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: (e as Error).message }, e);
  }
  checkNames(path, out);
  return out;
}

function checkNames(path: string, entries: ReadonlyArray<{ index: string; name: string }>): void {
  const names = new Set<string>();
  const indexes = new Set<string>();
  for (const e of entries) {
    if (mediaNameProblem(e.name) !== null) throw makeError(PackageErrors.MEDIA_NAME_INVALID, { path, name: e.name.slice(0, 200) });
    if (names.has(e.name)) throw makeError(PackageErrors.MEDIA_DUPLICATE_NAME, { path, name: e.name });
    if (indexes.has(e.index)) throw makeError(PackageErrors.MEDIA_MAP_INVALID, { path, reason: `entry ${e.index} is listed twice` });
    names.add(e.name);
    indexes.add(e.index);
  }
}

export function encodeMediaEntries(entries: ReadonlyArray<{ name: string; size: number; sha1: Buffer }>): Buffer {
  return Buffer.concat(
    entries.map((e) =>
      bytesField(1, Buffer.concat([bytesField(1, Buffer.from(e.name, 'utf8')), varintField(2, e.size), bytesField(3, e.sha1)])),
    ),
  );
}

export function encodeLegacyMediaMap(names: readonly string[]): Buffer {
  const obj: Record<string, string> = {};
  names.forEach((n, i) => (obj[String(i)] = n));
  return Buffer.from(JSON.stringify(obj), 'utf8');
}
