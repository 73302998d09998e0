/**
 * Replacing the desktop collection as one journaled transaction (DESIGN.md invariants 1, 2, 4, 6):
 *
 *   lock     our exclusive lock on collection.anki2 (refused with DESKTOP_ANKI_OPEN while Anki
 *            holds it); the -wal is folded into the file first
 *   backup   a verified, protected backup of the collection and its media
 *   stage    the new collection copied beside the old one, checked, marked as imported
 *   media    media added (import: never deleting a file) or made equal to a backup's (restore)
 *   install  one atomic rename over collection.anki2
 *
 * Each step is journaled "begun" then "done". A failure rolls back at once; a crash is rolled
 * back or finished by recoverDesktopTransaction on the next start, and the journal says which.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { lockCollection } from '../../apkg/desktop/lock.js';
import { probeCollection } from '../../apkg/desktop/probe.js';
import { makeMediaFolderEqual } from '../../apkg/desktop/media-folder.js';
import { installStagedCollection, stageCollection, stagedPathFor } from '../../apkg/desktop/replace-steps.js';
import { isDiskFull } from '../../apkg/desktop/durable-copy.js';
import { hashFileSync } from '../../apkg/fs-durable.js';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { isAnkibridgeError } from '../../errors/index.js';
import type { BackupRecord, BackupStore } from '../backup/store.js';
import { stepStatus, type Journal, type StepRecord, type TxnRecord } from '../journal/journal.js';
import type { RecoveryHandler } from '../journal/recover.js';

export const DESKTOP_IMPORT = 'desktop-import';
export const DESKTOP_RESTORE = 'desktop-restore';
export type DesktopTxnKind = typeof DESKTOP_IMPORT | typeof DESKTOP_RESTORE;

export interface DesktopTarget {
  profile: string;
  collectionPath: string;
  mediaDir: string;
}

export type MediaPlan =
  /** Add the package's files; existing files are never deleted. */
  | { mode: 'add'; add(toDir: string): Promise<{ written: string[]; skipped: string[] }> }
  /** Make the folder hold exactly a backup's files (restore). */
  | { mode: 'exact'; backupId: string };

export interface ReplacementSource {
  /** The collection file to install (a package's private extract, or a backup's file). Never modified. */
  collectionPath: string;
  /** For the journal and messages: "package /x/y.colpkg", "backup 2026…". */
  describe: string;
  /** Set scm/mod to now as Anki's colpkg import does (true for packages, false for our backups). */
  markImported: boolean;
  media: MediaPlan;
  /**
   * sha256 of collection.anki2 when the caller looked at it (e.g. for the loss check). Checked
   * again under our lock: if Anki changed it in between, the replace stops (DESKTOP_LOCK_LOST).
   */
  expectCollectionSha256?: string;
}

export interface DesktopDeps {
  journal: Journal;
  backups: BackupStore;
}

export interface ReplaceResult {
  txnId: string;
  backup: BackupRecord;
  media: { written: number; skipped: number; restored: number; trashed: number };
}

interface TxnMeta {
  collectionPath: string;
  mediaDir: string;
  profile: string;
  source: string;
  [key: string]: unknown;
}

export async function replaceDesktopCollection(kind: DesktopTxnKind, target: DesktopTarget, source: ReplacementSource, deps: DesktopDeps): Promise<ReplaceResult> {
  const { journal, backups } = deps;
  const meta: TxnMeta = { collectionPath: target.collectionPath, mediaDir: target.mediaDir, profile: target.profile, source: source.describe };
  const txnId = journal.begin(kind, meta);
  const staged = stagedPathFor(target.collectionPath, txnId);
  let step = 'lock';
  let lock: ReturnType<typeof lockCollection> | undefined;
  let backup: BackupRecord | undefined;
  try {
    journal.run(txnId, 'lock', () => {
      lock = lockCollection(target.collectionPath, 'replace');
      if (source.expectCollectionSha256 !== undefined && hashFileSync(target.collectionPath, 'sha256') !== source.expectCollectionSha256) {
        throw makeError(DesktopErrors.LOCK_LOST, { path: target.collectionPath, operation: 'checking' });
      }
    });
    step = 'backup';
    const { backupId } = journal.run(txnId, 'backup', () => ({
      backupId: backups.create({
        collectionPath: target.collectionPath,
        mediaDir: target.mediaDir,
        source: 'desktop',
        label: target.profile,
        reason: kind === DESKTOP_RESTORE ? 'pre-restore' : 'pre-overwrite',
      }).id,
    }));
    backup = backups.get(backupId);
    step = 'stage';
    journal.run(txnId, 'stage', () => {
      const { bytes } = stageCollection(source.collectionPath, staged, { markImported: source.markImported });
      return { staged, bytes };
    });
    step = 'media';
    const media = { written: 0, skipped: 0, restored: 0, trashed: 0 };
    await journal.runAsync(txnId, 'media', async () => {
      if (source.media.mode === 'add') {
        const r = await source.media.add(target.mediaDir);
        media.written = r.written.length;
        media.skipped = r.skipped.length;
      } else {
        const r = makeMediaFolderEqual(target.mediaDir, backups.get(source.media.backupId).mediaDir, backups.mediaFiles(source.media.backupId));
        media.restored = r.restored.length;
        media.trashed = r.trashed.length;
      }
      return { ...media };
    });
    step = 'install';
    journal.run(txnId, 'install', () => {
      lock?.prepareForSwap();
      installStagedCollection(staged, target.collectionPath);
    });
    journal.finish(txnId, 'committed', `The desktop collection of "${target.profile}" was replaced from ${source.describe}; the previous one is backup ${backup.id}.`);
    return { txnId, backup, media };
  } catch (e) {
    // Not a crash: roll back now, the same way recovery would.
    let note: string;
    try {
      note = rollBack(txnId, meta, journal.steps(txnId), deps);
    } catch (rollbackError) {
      note = `rolling back failed too: ${(rollbackError as Error).message}`;
    }
    journal.finish(txnId, step === 'lock' ? 'failed' : 'rolled-back', `${step} failed: ${(e as Error).message}. ${note}`);
    if (isAnkibridgeError(e)) throw e;
    if (isDiskFull(e)) throw makeError(GeneralErrors.DISK_FULL, { path: step === 'media' ? target.mediaDir : target.collectionPath }, e);
    throw makeError(DesktopErrors.REPLACE_FAILED, { path: target.collectionPath, step: stepWords(step), reason: (e as Error).message }, e);
  } finally {
    lock?.release();
  }
}

function stepWords(step: string): string {
  return (
    { lock: 'locking it', backup: 'backing it up', stage: 'preparing the new collection', media: 'adding media files', install: 'putting the new collection in place' }[step] ??
    step
  );
}

/** Undoes what the steps did: the staged file goes, media go back to the backup's set. Returns a sentence. */
function rollBack(txnId: string, meta: TxnMeta, steps: StepRecord[], deps: DesktopDeps): string {
  const st = stepStatus(steps);
  const staged = stagedPathFor(meta.collectionPath, txnId);
  rmSync(staged, { force: true });
  const backupId = st.get('backup')?.data?.backupId;
  if (st.has('media') && typeof backupId === 'string') {
    const b = deps.backups.get(backupId);
    makeMediaFolderEqual(meta.mediaDir, b.mediaDir, deps.backups.mediaFiles(backupId));
  }
  return `The desktop collection is the one from before${typeof backupId === 'string' ? ` (also kept as backup ${backupId})` : ''}.`;
}

/** Recovery after a crash: finished if the new file was renamed into place, else rolled back. */
export function desktopRecoveryHandler(deps: DesktopDeps): RecoveryHandler {
  return (txn: TxnRecord, steps: StepRecord[]) => {
    const meta = txn.meta as TxnMeta;
    const st = stepStatus(steps);
    const staged = stagedPathFor(meta.collectionPath, txn.id);
    const install = st.get('install');
    // The rename is atomic: once begun, a missing staged file means it happened.
    const installed = install?.state === 'done' || (install?.state === 'begun' && !existsSync(staged) && existsSync(meta.collectionPath));
    const what = txn.kind === DESKTOP_RESTORE ? 'restore' : 'import';
    if (!installed && probeCollection(meta.collectionPath).state === 'open') {
      // Rolling back moves media files; not while Anki Desktop is using them. Left for the next start.
      throw new Error(`Anki Desktop has "${meta.profile}" open; the interrupted ${what} will be rolled back once it is closed`);
    }
    if (installed) {
      return {
        outcome: 'finished',
        note: `The interrupted ${what} into "${meta.profile}" was finished: the desktop collection is the new one (from ${meta.source}).`,
      };
    }
    const sentence = rollBack(txn.id, meta, steps, deps);
    return { outcome: 'rolled-back', note: `The interrupted ${what} into "${meta.profile}" was rolled back. ${sentence}` };
  };
}

export function desktopRecoveryHandlers(deps: DesktopDeps): Record<string, RecoveryHandler> {
  const h = desktopRecoveryHandler(deps);
  return { [DESKTOP_IMPORT]: h, [DESKTOP_RESTORE]: h };
}

export function profileMediaDir(collectionPath: string): string {
  return path.join(path.dirname(collectionPath), 'collection.media');
}
