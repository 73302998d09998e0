/**
 * Limits that keep a hostile package from filling the disk or memory. Defaults are far above
 * what Anki makes for real collections (AnkiWeb caps a collection at a few hundred MB and media
 * files at 100 MB for sync) and far below what a decompression bomb needs.
 */
export interface PackageLimits {
  /** Most zip entries a package may have. */
  maxEntries: number;
  /** Largest collection after decompression, bytes. */
  maxCollectionBytes: number;
  /** Largest single media file after decompression, bytes. */
  maxMediaFileBytes: number;
  /** Largest total of everything after decompression, bytes. */
  maxTotalBytes: number;
  /** Largest `meta` / media map entry, bytes (they are read into memory). */
  maxSmallEntryBytes: number;
  /** Highest ratio uncompressed / compressed tolerated for data above `ratioFloorBytes`. */
  maxRatio: number;
  /** Entries smaller than this are never judged by ratio (an empty SQLite page compresses 1000:1). */
  ratioFloorBytes: number;
}

export const DEFAULT_LIMITS: PackageLimits = {
  maxEntries: 500_000,
  maxCollectionBytes: 8 * 2 ** 30,
  maxMediaFileBytes: 4 * 2 ** 30,
  maxTotalBytes: 256 * 2 ** 30,
  maxSmallEntryBytes: 64 * 2 ** 20,
  maxRatio: 2000,
  ratioFloorBytes: 64 * 2 ** 20,
};

export function resolveLimits(partial?: Partial<PackageLimits>): PackageLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
