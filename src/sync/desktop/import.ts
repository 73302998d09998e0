/**
 * `ankibridge import <package>`: replaces the desktop collection with a collection package, the
 * way Anki's own "import collection package" does, guarded: refused while Anki Desktop has the
 * collection open, refused without `force` when the package lacks reviews or edits the desktop
 * has (saying what would be lost), and always backed up first (replace.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPackage } from '../../apkg/package/index.js';
import { addPackageMedia } from '../../apkg/desktop/media-import.js';
import { probeCollection } from '../../apkg/desktop/probe.js';
import { snapshotDesktopCollection } from '../../apkg/desktop/snapshot.js';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { compareForLoss, type LossReport } from './loss.js';
import { DESKTOP_IMPORT, replaceDesktopCollection, type DesktopDeps, type DesktopTarget, type ReplaceResult } from './replace.js';

export interface ImportResult extends ReplaceResult {
  package: { path: string; format: string; kind: string };
  loss: LossReport;
  forced: boolean;
}

export async function importIntoDesktop(a: { target: DesktopTarget; packagePath: string; force?: boolean; deps: DesktopDeps; tmpDir?: string }): Promise<ImportResult> {
  const probe = probeCollection(a.target.collectionPath);
  if (probe.state === 'open') throw makeError(DesktopErrors.ANKI_OPEN, { path: a.target.collectionPath, operation: 'replaced' });
  const work = mkdtempSync(path.join(a.tmpDir ?? tmpdir(), 'ankibridge-import-'));
  try {
    await using pkg = await openPackage(a.packagePath, { tmpDir: work });
    if (pkg.fileKind === 'apkg') throw makeError(DesktopErrors.NOT_A_COLLECTION_PACKAGE, { path: a.packagePath });
    const snap = snapshotDesktopCollection({ collectionPath: a.target.collectionPath, mediaDir: a.target.mediaDir, outDir: path.join(work, 'desktop') });
    const loss = compareForLoss(snap.collectionPath, pkg.collectionPath);
    rmSync(path.join(work, 'desktop'), { recursive: true, force: true });
    if (loss.sentence !== null && !a.force) {
      throw makeError(DesktopErrors.WOULD_LOSE_WORK, {
        package: path.basename(a.packagePath),
        lost: loss.sentence,
        reviewsMissing: loss.reviewsMissing,
        notesNewer: loss.notesNewer,
      });
    }
    const r = await replaceDesktopCollection(
      DESKTOP_IMPORT,
      a.target,
      {
        collectionPath: pkg.collectionPath,
        describe: `package ${a.packagePath}`,
        markImported: true,
        expectCollectionSha256: snap.sha256,
        media: { mode: 'add', add: (dir) => addPackageMedia(pkg, dir) },
      },
      a.deps,
    );
    return { ...r, package: { path: a.packagePath, format: pkg.format, kind: pkg.fileKind }, loss, forced: a.force === true && loss.sentence !== null };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
