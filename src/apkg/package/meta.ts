/**
 * The `meta` entry of a package: protobuf PackageMetadata { Version version = 1 }.
 * Versions (facts: docs/anki-package-formats.md §2.1): 1 legacy (collection.anki2),
 * 2 legacy (collection.anki21), 3 latest (collection.anki21b, zstd). 0 or anything unknown is
 * "too new" — exactly how Anki itself reads it.
 */
import { readFields, varintField } from './protobuf.js';

export const PACKAGE_VERSION = { legacy1: 1, legacy2: 2, latest: 3 } as const;
export type KnownPackageVersion = (typeof PACKAGE_VERSION)[keyof typeof PACKAGE_VERSION];

/** Returns the version number; throws a plain Error if the bytes are not a protobuf message. */
export function decodeMetaVersion(bytes: Uint8Array): number {
  let version = 0;
  for (const f of readFields(bytes)) {
    if (f.field === 1) {
      if (f.wireType !== 0 || f.varint === undefined) throw new Error('version is not a varint');
      version = f.varint;
    }
  }
  return version;
}

export function isKnownVersion(v: number): v is KnownPackageVersion {
  return v === 1 || v === 2 || v === 3;
}

export function encodeMeta(version: KnownPackageVersion): Buffer {
  return varintField(1, version);
}

/** The zip entry that holds the collection for each version. */
export function collectionEntryName(version: KnownPackageVersion): string {
  return version === 3 ? 'collection.anki21b' : version === 2 ? 'collection.anki21' : 'collection.anki2';
}
