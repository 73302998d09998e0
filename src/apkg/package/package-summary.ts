/**
 * What `ankibridge inspect` shows: the collection summary (COLLECTION room) plus what the
 * package itself says — its format and its media.
 */
import { openCollectionDb } from '../sqlite.js';
import { summarizeCollection, type CollectionSummary } from '../collection/summary.js';
import type { OpenedPackage, PackageFormat } from './types.js';

export interface PackageSummary extends CollectionSummary {
  file: string;
  format: PackageFormat;
  fileKind: OpenedPackage['fileKind'];
  /** Package version from `meta` (1..3), 0 for a bare collection file. */
  version: number;
  media: { count: number; bytes: number };
}

export function summarizeOpenedPackage(file: string, pkg: OpenedPackage): PackageSummary {
  const db = openCollectionDb(pkg.collectionPath, { readonly: true });
  let summary: CollectionSummary;
  try {
    summary = summarizeCollection(db);
  } finally {
    db.close();
  }
  return {
    file,
    format: pkg.format,
    fileKind: pkg.fileKind,
    version: pkg.version,
    ...summary,
    media: { count: pkg.media.length, bytes: pkg.media.reduce((n, m) => n + m.size, 0) },
  };
}
