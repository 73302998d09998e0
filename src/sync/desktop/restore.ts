/** `ankibridge restore <id>`: puts a backup back as the desktop collection (the current one is backed up first). */
import { DESKTOP_RESTORE, replaceDesktopCollection, type DesktopDeps, type DesktopTarget, type ReplaceResult } from './replace.js';
import { probeCollection } from '../../apkg/desktop/probe.js';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';

export async function restoreDesktopBackup(a: { backupId: string; target: DesktopTarget; deps: DesktopDeps }): Promise<ReplaceResult & { restoredFrom: string }> {
  const rec = a.deps.backups.verify(a.backupId);
  const probe = probeCollection(a.target.collectionPath);
  if (probe.state === 'open') throw makeError(DesktopErrors.ANKI_OPEN, { path: a.target.collectionPath, operation: 'replaced' });
  const r = await replaceDesktopCollection(
    DESKTOP_RESTORE,
    a.target,
    { collectionPath: rec.collectionPath, describe: `backup ${rec.id}`, markImported: false, media: { mode: 'exact', backupId: rec.id } },
    a.deps,
  );
  return { ...r, restoredFrom: rec.id };
}
