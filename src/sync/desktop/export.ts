/** `ankibridge export`: the desktop collection as a .colpkg, from a consistent snapshot. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeColpkg } from '../../apkg/package/index.js';
import { snapshotDesktopCollection } from '../../apkg/desktop/snapshot.js';
import { verifyCollectionFile } from '../backup/store.js';
import type { CollectionSummary } from '../../apkg/collection/summary.js';
import type { DesktopTarget } from './replace.js';

export interface ExportResult {
  out: string;
  format: 'latest' | 'legacy2';
  bytes: number;
  sha256: string;
  media: number;
  summary: CollectionSummary;
}

export async function exportDesktopCollection(a: { target: DesktopTarget; out: string; legacy?: boolean; tmpDir?: string }): Promise<ExportResult> {
  const work = mkdtempSync(path.join(a.tmpDir ?? tmpdir(), 'ankibridge-export-'));
  try {
    const snap = snapshotDesktopCollection({ collectionPath: a.target.collectionPath, mediaDir: a.target.mediaDir, outDir: work });
    const summary = verifyCollectionFile(snap.collectionPath);
    const format = a.legacy ? 'legacy2' : 'latest';
    const r = await writeColpkg({ collectionPath: snap.collectionPath, mediaDir: a.target.mediaDir, out: a.out, format, tmpDir: work });
    return { out: a.out, format, bytes: r.bytes, sha256: r.sha256, media: r.media, summary };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
