/**
 * The three USB transactions, each journaled step by step (src/sync/journal) and guarded
 * (DESIGN.md invariants 1, 3, 6):
 *
 *   usb-pull   stage-phone (phone's copy kept durably in the pair folder) → desktop-replace (the
 *              desktop room's journaled replace: lock, verified backup, stage, media, install) → base
 *   usb-push   stage-desktop → backup-phone (the phone's collection, verified, in the backup store)
 *              → package (.colpkg in the phone's format) → upload (the USB room's safe write: temp
 *              name, read back, rename or copy-verify) → pending ("waiting for import")
 *   usb-merge  stage (base/desktop/phone) → merge → backup-phone → desktop-replace → package →
 *              upload → pending
 *
 * The base moves only when both sides are known to hold the same content: after a pull at once
 * (the phone holds it, the desktop now too); after a push or merge only when a later plug-in
 * shows the phone holds the package (service.ts readSides).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { mergeCollections } from '../../apkg/merge/index.js';
import { writeColpkg } from '../../apkg/package/index.js';
import { addPackageMedia } from '../../apkg/desktop/media-import.js';
import { copyFileDurable } from '../../apkg/desktop/durable-copy.js';
import { safeWrite, fileSource, recoverPending } from '../../usb/safe-write.js';
import { makeError } from '../../errors/define.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import { isAnkibridgeError } from '../../errors/index.js';
import { DESKTOP_IMPORT, replaceDesktopCollection, type MediaPlan } from '../desktop/replace.js';
import { listPhoneMedia, phoneMediaSource } from './phone-media.js';
import { readSide } from './side.js';
import { PUSH_PREFIX } from './read-phone.js';
import { readSides, type Connection, type Sides, type UsbSyncDeps } from './service.js';

export const USB_PULL = 'usb-pull';
export const USB_PUSH = 'usb-push';
export const USB_MERGE = 'usb-merge';

export interface TxnOptions {
  /** The person confirmed the overwrite the guard named. */
  confirm?: boolean;
  /** Package format for the phone; default: what the phone's AnkiDroid reads (read-phone.ts). */
  format?: 'latest' | 'legacy2';
  progress?(p: { step: string; message: string }): void;
}

export interface TxnResult {
  txnId: string;
  kind: string;
  state: string;
  /** For people: what happened, and for a push the exact taps on the phone. */
  message: string;
  backups: string[];
  phonePath?: string;
  lost: string | null;
  [key: string]: unknown;
}

export function pushedName(profile: string): string {
  return `${PUSH_PREFIX}${profile.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 60)}.colpkg`;
}

export function importTaps(file: string, dir: string): string {
  return `On the phone: open AnkiDroid → tap ⋮ (top right) → Import → choose "${file}" in ${dir} → tap Replace. Plug the phone in again afterwards so ankibridge can see it was imported.`;
}

function guard(s: Sides, direction: 'pull' | 'push', confirm: boolean, profile: string): string | null {
  const loss = direction === 'pull' ? s.pullLoss : s.pushLoss;
  const overwrittenChanged = direction === 'pull' ? s.cls.desktopChanged : s.cls.phoneChanged;
  if (s.cls.state === 'in-step') throw makeError(UsbSyncErrors.NOTHING_TO_DO, { reason: 'the desktop and the phone hold the same collection' });
  if (s.cls.state === 'first-meeting' && !confirm) {
    throw makeError(UsbSyncErrors.FIRST_MEETING, { profile, detail: loss.sentence ?? `the ${direction === 'pull' ? 'desktop' : 'phone'} collection would be replaced` });
  }
  if (overwrittenChanged && loss.sentence !== null && !confirm) throw makeError(UsbSyncErrors.GUARD_REFUSED, { lost: loss.sentence });
  return overwrittenChanged || s.cls.state === 'first-meeting' ? loss.sentence : null;
}

/** The phone's media for the desktop replace: the package's, or the live collection's media folder (phone-media.ts). */
function phoneMedia(c: Connection, s: Sides): MediaPlan {
  const pkg = s.phone.pkg;
  if (pkg) return { mode: 'add', add: (to) => addPackageMedia(pkg, to) };
  const dir = s.phone.mediaPath;
  if (dir) return { mode: 'add', add: async (to) => addPackageMedia(await phoneMediaSource(c.transport, dir), to) };
  return { mode: 'add', add: async () => ({ written: [], skipped: [] }) };
}

/**
 * Which desktop media files the package for the phone carries: those the phone's live media
 * folder lacks or holds with another size (AnkiDroid's colpkg import adds them to its
 * collection.media and keeps the rest); every file when the phone's folder is not visible.
 */
async function mediaForPhone(c: Connection, s: Sides): Promise<((name: string, size: number) => boolean) | undefined> {
  if (!s.phone.mediaPath) return undefined;
  const have = new Map((await listPhoneMedia(c.transport, s.phone.mediaPath)).map((e) => [e.name, e.size] as const));
  return (name, size) => have.get(name) !== size;
}

function wrap(kind: string, step: string, e: unknown): Error {
  if (isAnkibridgeError(e)) return e;
  return makeError(UsbSyncErrors.TRANSACTION_FAILED, { kind, step, reason: (e as Error).message }, e);
}

export async function pull(deps: UsbSyncDeps, c: Connection, o: TxnOptions = {}): Promise<TxnResult> {
  await using s = await readSides(deps, c, { purpose: 'transaction' });
  const lost = guard(s, 'pull', o.confirm === true, c.target.profile);
  const dir = deps.pairs.dirOf(s.pair.id);
  mkdirSync(dir, { recursive: true });
  const txnId = deps.journal.begin(USB_PULL, { pairId: s.pair.id, profile: c.target.profile, collectionPath: c.target.collectionPath, phone: s.phone.describe, phoneDigest: s.phone.fingerprint.digest, confirmed: o.confirm === true, lost });
  const incoming = path.join(dir, `incoming-${txnId}.anki2`);
  let step = 'stage-phone';
  try {
    deps.journal.run(txnId, 'stage-phone', () => ({ incoming, bytes: copyFileDurable(s.phone.collectionPath, incoming).bytes }));
    step = 'desktop-replace';
    o.progress?.({ step, message: 'Backing up and replacing the desktop collection' });
    const r = await deps.journal.runAsync(txnId, 'desktop-replace', async () => {
      const rep = await replaceDesktopCollection(
        DESKTOP_IMPORT,
        c.target,
        {
          collectionPath: incoming,
          describe: `the phone ${c.phone.label} (${USB_PULL} ${txnId})`,
          markImported: true,
          expectCollectionSha256: s.desktop.sha256,
          media: phoneMedia(c, s),
        },
        deps,
      );
      return { desktopTxn: rep.txnId, backupId: rep.backup.id, mediaAdded: rep.media.written };
    });
    step = 'base';
    deps.journal.run(txnId, 'base', () => {
      const now = readSide(c.target.collectionPath);
      deps.pairs.moveBase(s.pair.id, { collection: incoming, fingerprint: s.phone.fingerprint, desktopScm: now.fingerprint.scm, phoneScm: s.phone.fingerprint.scm });
    });
    rmSync(incoming, { force: true });
    const message = `The desktop collection of "${c.target.profile}" now equals the phone's (${s.phone.describe}); the previous one is backup ${r.backupId}.`;
    deps.journal.finish(txnId, 'committed', message);
    deps.pairs.record({ pairId: s.pair.id, kind: 'pull', state: 'committed', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note: lost ? `${message} Confirmed: ${lost}.` : message });
    return { txnId, kind: USB_PULL, state: 'committed', message, backups: [r.backupId], lost };
  } catch (e) {
    rmSync(incoming, { force: true });
    // The desktop replace rolls itself back; nothing else was changed.
    deps.journal.finish(txnId, step === 'stage-phone' ? 'failed' : 'rolled-back', `${step} failed: ${(e as Error).message}. The desktop collection is the one from before.`);
    deps.pairs.record({ pairId: s.pair.id, kind: 'pull', state: 'rolled-back', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note: (e as Error).message });
    throw wrap('pull', step, e);
  }
}

async function upload(deps: UsbSyncDeps, c: Connection, s: Sides, txnId: string, collection: string, format: 'latest' | 'legacy2'): Promise<{ phonePath: string; bytes: number; sha256: string; method: string }> {
  const work = s.work;
  const pkgFile = path.join(work, `push-${txnId}.colpkg`);
  const written = deps.journal.runAsync(txnId, 'package', async () => {
    const mediaFilter = await mediaForPhone(c, s);
    const w = await writeColpkg({
      collectionPath: collection, out: pkgFile, format, tmpDir: work,
      ...(existsSync(c.target.mediaDir) ? { mediaDir: c.target.mediaDir } : {}),
      ...(mediaFilter ? { mediaFilter } : {}),
    });
    return { bytes: w.bytes, sha256: w.sha256, format, media: w.media };
  });
  await written;
  const phoneDir = 'Download';
  const phonePath = `${phoneDir}/${pushedName(c.target.profile)}`;
  const r = await deps.journal.runAsync(txnId, 'upload', async () => {
    if (!(await c.transport.stat(phoneDir))) await c.transport.mkdir(phoneDir);
    // A package write an unplug or a crash interrupted is finished or removed first (safe-write.ts).
    else await recoverPending(c.transport, phoneDir);
    const w = await safeWrite(c.transport, phonePath, await fileSource(pkgFile));
    return { phonePath, bytes: w.size, sha256: w.sha256, method: w.method };
  });
  rmSync(pkgFile, { force: true });
  return r;
}

function backupPhone(deps: UsbSyncDeps, s: Sides, c: Connection, txnId: string, reason: 'pre-overwrite' | 'pre-merge'): string {
  return deps.journal.run(txnId, 'backup-phone', () => ({
    backupId: deps.backups.create({ collectionPath: s.phone.collectionPath, source: 'phone', label: c.phone.label, reason }).id,
  })).backupId;
}

export async function push(deps: UsbSyncDeps, c: Connection, o: TxnOptions = {}): Promise<TxnResult> {
  await using s = await readSides(deps, c, { purpose: 'transaction' });
  if (s.cls.state === 'waiting-for-import' && !s.cls.desktopChanged) {
    throw makeError(UsbSyncErrors.NOTHING_TO_DO, { reason: 'the package is already on the phone, waiting to be imported there' });
  }
  const lost = guard(s, 'push', o.confirm === true, c.target.profile);
  const format = o.format ?? s.phone.phoneFormat;
  const dir = deps.pairs.dirOf(s.pair.id);
  mkdirSync(dir, { recursive: true });
  const txnId = deps.journal.begin(USB_PUSH, { pairId: s.pair.id, profile: c.target.profile, phone: s.phone.describe, format, confirmed: o.confirm === true, lost });
  const outgoing = path.join(dir, `outgoing-${txnId}.anki2`);
  let step = 'stage-desktop';
  try {
    deps.journal.run(txnId, 'stage-desktop', () => ({ outgoing, bytes: copyFileDurable(s.desktop.collectionPath, outgoing).bytes }));
    step = 'backup-phone';
    const backupId = backupPhone(deps, s, c, txnId, 'pre-overwrite');
    step = 'upload';
    o.progress?.({ step, message: 'Writing the package to the phone' });
    const up = await upload(deps, c, s, txnId, outgoing, format);
    step = 'pending';
    deps.journal.run(txnId, 'pending', () => {
      deps.pairs.setPending(s.pair.id, { fingerprint: s.desktop.fingerprint, snapshot: outgoing, phonePath: up.phonePath, phoneDigest: s.phone.fingerprint.digest, phoneFacts: s.phone.facts, pushedAt: Date.now(), txnId });
    });
    const { dir: d, file } = splitPath(up.phonePath);
    const message = `The desktop collection was written to the phone as ${up.phonePath} (${format} format). ${importTaps(file, d)}`;
    deps.journal.finish(txnId, 'committed', message);
    deps.pairs.record({ pairId: s.pair.id, kind: 'push', state: 'waiting-for-import', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note: lost ? `${message} Confirmed: ${lost}.` : message });
    return { txnId, kind: USB_PUSH, state: 'committed', message, backups: [backupId], phonePath: up.phonePath, lost, format };
  } catch (e) {
    if (step !== 'pending') rmSync(outgoing, { force: true });
    deps.journal.finish(txnId, step === 'stage-desktop' ? 'failed' : 'rolled-back', `${step} failed: ${(e as Error).message}. The phone's collection was not changed (a half-written package is cleaned up at the next plug-in).`);
    deps.pairs.record({ pairId: s.pair.id, kind: 'push', state: 'rolled-back', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note: (e as Error).message });
    throw wrap('push', step, e);
  }
}

export async function merge(deps: UsbSyncDeps, c: Connection, o: TxnOptions = {}): Promise<TxnResult> {
  await using s = await readSides(deps, c, { purpose: 'transaction' });
  const base = s.pair.base;
  if (!base) throw makeError(UsbSyncErrors.NO_BASE, { profile: c.target.profile });
  if (s.cls.state === 'in-step') throw makeError(UsbSyncErrors.NOTHING_TO_DO, { reason: 'the desktop and the phone hold the same collection' });
  if (s.cls.state === 'cannot-merge') throw makeError(UsbSyncErrors.CANNOT_MERGE, { reason: `the ${s.cls.schemaChanged ?? 'desktop'} made a schema change since the last sync` });
  const format = o.format ?? s.phone.phoneFormat;
  const dir = deps.pairs.dirOf(s.pair.id);
  const txnId = deps.journal.begin(USB_MERGE, { pairId: s.pair.id, profile: c.target.profile, collectionPath: c.target.collectionPath, phone: s.phone.describe, format });
  const merged = path.join(dir, `merged-${txnId}.anki2`);
  let step = 'merge';
  try {
    const report = deps.journal.run(txnId, 'merge', () => {
      const phoneCopy = path.join(s.work, 'merge-phone.anki2');
      copyFileSync(s.phone.collectionPath, phoneCopy);
      const r = mergeCollections({
        base: base.snapshot, desktop: s.desktop.collectionPath, phone: phoneCopy, out: merged,
        expectedScm: { ...(s.pair.desktopScm === null ? {} : { desktop: s.pair.desktopScm }), ...(s.pair.phoneScm === null ? {} : { phone: s.pair.phoneScm }) },
      });
      return { merged, desktopReviews: r.desktop.reviewsMade, phoneReviews: r.phone.reviewsMade, conflicts: r.conflictCount };
    });
    step = 'backup-phone';
    const phoneBackup = backupPhone(deps, s, c, txnId, 'pre-merge');
    step = 'desktop-replace';
    o.progress?.({ step, message: 'Backing up and replacing the desktop collection with the merge' });
    const rep = await deps.journal.runAsync(txnId, 'desktop-replace', async () => {
      const r = await replaceDesktopCollection(
        DESKTOP_IMPORT,
        c.target,
        {
          collectionPath: merged, describe: `the merge with ${c.phone.label} (${USB_MERGE} ${txnId})`, markImported: true,
          expectCollectionSha256: s.desktop.sha256,
          media: phoneMedia(c, s),
        },
        deps,
      );
      const now = readSide(c.target.collectionPath);
      deps.pairs.setDesktopScm(s.pair.id, now.fingerprint.scm);
      return { desktopTxn: r.txnId, backupId: r.backup.id, desktopDigest: now.fingerprint.digest };
    });
    step = 'upload';
    o.progress?.({ step, message: 'Writing the merged collection to the phone' });
    const up = await upload(deps, c, s, txnId, merged, format);
    step = 'pending';
    const mergedSide = readSide(merged);
    deps.journal.run(txnId, 'pending', () => {
      deps.pairs.setPending(s.pair.id, { fingerprint: mergedSide.fingerprint, snapshot: merged, phonePath: up.phonePath, phoneDigest: s.phone.fingerprint.digest, phoneFacts: s.phone.facts, pushedAt: Date.now(), txnId });
    });
    const { dir: d, file } = splitPath(up.phonePath);
    const message = `Merged: ${report.desktopReviews} reviews from this computer and ${report.phoneReviews} from the phone kept (${report.conflicts} conflicts settled as Anki's sync would). The desktop holds the merge (previous: backup ${rep.backupId}); the phone gets it as ${up.phonePath}. ${importTaps(file, d)}`;
    deps.journal.finish(txnId, 'committed', message);
    deps.pairs.record({ pairId: s.pair.id, kind: 'merge', state: 'waiting-for-import', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note: message });
    return { txnId, kind: USB_MERGE, state: 'committed', message, backups: [rep.backupId, phoneBackup], phonePath: up.phonePath, lost: null, format };
  } catch (e) {
    const desktopDone = deps.journal.steps(txnId).some((x) => x.step === 'desktop-replace' && x.state === 'done');
    if (!desktopDone) rmSync(merged, { force: true });
    const note = desktopDone
      ? `${step} failed: ${(e as Error).message}. The desktop holds the merge; the phone was not changed and will be offered the merge again at the next plug-in.`
      : `${step} failed: ${(e as Error).message}. Both collections are the ones from before.`;
    deps.journal.finish(txnId, desktopDone ? 'failed' : 'rolled-back', note);
    deps.pairs.record({ pairId: s.pair.id, kind: 'merge', state: desktopDone ? 'desktop-only' : 'rolled-back', txnId, desktop: s.desktop.summary, phone: s.phone.summary, note });
    throw wrap('merge', step, e);
  }
}

function splitPath(p: string): { dir: string; file: string } {
  const i = p.lastIndexOf('/');
  return { dir: i < 0 ? 'the phone’s main folder' : p.slice(0, i), file: i < 0 ? p : p.slice(i + 1) };
}
