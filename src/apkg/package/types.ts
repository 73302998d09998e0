import type { Readable } from 'node:stream';
import type { MediaEntryInfo } from './media-map.js';
import type { PackageLimits } from './limits.js';

export type { MediaEntryInfo } from './media-map.js';
export type { PackageLimits } from './limits.js';

/** legacy1: collection.anki2; legacy2: collection.anki21; latest: collection.anki21b (zstd). */
export type PackageFormat = 'legacy1' | 'legacy2' | 'latest' | 'collection-file';

export interface Progress {
  phase: string;
  done: number;
  total: number;
}

export interface ExtractMediaOptions {
  /** Leave a file that is already there with the same content (sha1, or size for legacy). */
  skipExistingSameContent?: boolean;
  onProgress?(p: Progress): void;
  /** fsync the written files and the folder before returning (default true). */
  durable?: boolean;
  /** Worker threads for media (default: one per core, none for less than 32 MB of media). */
  mediaWorkers?: number;
}

export interface ExtractedMedia {
  written: string[];
  skipped: string[];
  /** Worker threads that did the work (0: the calling thread). */
  mediaWorkers?: number;
}

export interface OpenedPackage extends AsyncDisposable {
  /** What openPackage's `media` option extracted (undefined without it). */
  readonly extracted?: ExtractedMedia;
  readonly format: PackageFormat;
  /** colpkg: a whole collection (replaces on import); apkg: a deck package (merges); anki2: a bare collection file. */
  readonly fileKind: 'colpkg' | 'apkg' | 'anki2';
  /** The package's version number from `meta` (1..3), 0 for a bare collection file. */
  readonly version: number;
  /** The collection, extracted (zstd-decoded) into a private temp folder; schema as in the package. */
  readonly collectionPath: string;
  readonly media: readonly MediaEntryInfo[];
  /** A media file's bytes, decoded; fails at the end if size or sha1 do not match the map. */
  openMedia(entry: MediaEntryInfo): Promise<Readable>;
  /** Writes every media file into `toDir` (each atomically; a bad one is never left behind). */
  extractMedia(toDir: string, opts?: ExtractMediaOptions): Promise<ExtractedMedia>;
  /** Closes the package and removes the temp folder. */
  dispose(): Promise<void>;
}

export interface OpenPackageOptions {
  /** Parent of the private temp folder (default: the OS temp folder). */
  tmpDir?: string;
  limits?: Partial<PackageLimits>;
  /**
   * Also extract the media into `to` (as extractMedia would): the files are written under
   * temporary names while the collection is unpacked and checked, and get their names only once
   * it passed — a package refused for its collection leaves nothing behind. The result is in
   * `extracted`.
   */
  media?: ExtractMediaOptions & { to: string };
}
