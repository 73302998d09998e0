/**
 * After a crash or an unplug: each unfinished USB transaction is finished or rolled back, and the
 * journal says which (invariant 6). Runs after the desktop room's own recovery (openDesktopServices),
 * because a pull or merge contains a desktop replace whose outcome decides ours.
 */
import { existsSync, rmSync } from 'node:fs';
import { stepStatus, type Journal, type StepRecord, type TxnRecord } from '../journal/journal.js';
import { recoverUnfinished, type RecoveryHandler, type RecoveryResult } from '../journal/recover.js';
import { DESKTOP_IMPORT } from '../desktop/replace.js';
import { readSide } from './side.js';
import type { UsbSyncDeps } from './service.js';
import { USB_MERGE, USB_PULL, USB_PUSH } from './transactions.js';

/** The desktop replace started inside our transaction, and whether it put the new file in place. */
function innerReplace(journal: Journal, txnId: string): TxnRecord | undefined {
  return journal.recent(500).find((t) => t.kind === DESKTOP_IMPORT && String(t.meta['source'] ?? '').includes(txnId));
}

function innerInstalled(journal: Journal, txn: TxnRecord, steps: StepRecord[]): boolean {
  if (stepStatus(steps).get('desktop-replace')?.state === 'done') return true;
  const inner = innerReplace(journal, txn.id);
  if (!inner) return false;
  if (inner.state === 'running') throw new Error(`the desktop replace ${inner.id} inside it is not settled yet (Anki Desktop may have the collection open)`);
  return inner.state === 'committed' || inner.state === 'finished-on-recovery';
}

export function usbRecoveryHandlers(deps: UsbSyncDeps): Record<string, RecoveryHandler> {
  const pull: RecoveryHandler = (txn, steps) => {
    const m = txn.meta as { pairId: string; collectionPath: string; profile: string };
    const st = stepStatus(steps);
    const incoming = String(st.get('stage-phone')?.data?.['incoming'] ?? '');
    if (st.get('base')?.state === 'done') {
      rmSync(incoming, { force: true });
      return { outcome: 'finished', note: `The interrupted copy phone → desktop into "${m.profile}" had finished; the desktop equals the phone.` };
    }
    if (innerInstalled(deps.journal, txn, steps) && incoming && existsSync(incoming)) {
      const phone = readSide(incoming);
      const desktop = readSide(m.collectionPath);
      deps.pairs.moveBase(m.pairId, { collection: incoming, fingerprint: phone.fingerprint, desktopScm: desktop.fingerprint.scm, phoneScm: phone.fingerprint.scm });
      rmSync(incoming, { force: true });
      deps.pairs.record({ pairId: m.pairId, kind: 'recovery', state: 'finished', txnId: txn.id, desktop: desktop.summary, phone: phone.summary, note: 'pull finished after a crash' });
      return { outcome: 'finished', note: `The interrupted copy phone → desktop into "${m.profile}" was finished: the desktop collection is the phone's (the previous one is in the backups).` };
    }
    if (incoming) rmSync(incoming, { force: true });
    deps.pairs.record({ pairId: m.pairId, kind: 'recovery', state: 'rolled-back', txnId: txn.id, desktop: null, phone: null, note: 'pull rolled back after a crash' });
    return { outcome: 'rolled-back', note: `The interrupted copy phone → desktop into "${m.profile}" was rolled back: the desktop collection is the one from before; nothing changed on the phone.` };
  };

  const pushLike =
    (what: string): RecoveryHandler =>
    (txn, steps) => {
      const m = txn.meta as { pairId: string; profile: string; collectionPath?: string };
      const st = stepStatus(steps);
      const snapshot = String(st.get('stage-desktop')?.data?.['outgoing'] ?? st.get('merge')?.data?.['merged'] ?? '');
      if (st.get('pending')?.state === 'done') return { outcome: 'finished', note: `The interrupted ${what} had finished; the package waits to be imported on the phone.` };
      const desktopHasMerge = txn.kind === USB_MERGE && innerInstalled(deps.journal, txn, steps);
      if (desktopHasMerge && m.collectionPath) deps.pairs.setDesktopScm(m.pairId, readSide(m.collectionPath).fingerprint.scm);
      const upload = st.get('upload');
      if (upload?.state === 'done' && snapshot && existsSync(snapshot)) {
        const side = readSide(snapshot);
        deps.pairs.setPending(m.pairId, { fingerprint: side.fingerprint, snapshot, phonePath: String(upload.data?.['phonePath'] ?? ''), pushedAt: txn.startedAt, txnId: txn.id });
        deps.pairs.record({ pairId: m.pairId, kind: 'recovery', state: 'finished', txnId: txn.id, desktop: null, phone: null, note: `${what} finished after a crash` });
        return { outcome: 'finished', note: `The interrupted ${what} was finished: the package is on the phone (verified) and waits to be imported there.` };
      }
      if (desktopHasMerge) {
        deps.pairs.record({ pairId: m.pairId, kind: 'recovery', state: 'finished', txnId: txn.id, desktop: null, phone: null, note: 'merge finished on the desktop only' });
        if (snapshot) rmSync(snapshot, { force: true });
        return { outcome: 'finished', note: `The interrupted ${what} was finished on the desktop (it holds the merge; its previous collection is in the backups). The phone was not changed; the merge is offered again at the next plug-in.` };
      }
      if (snapshot) rmSync(snapshot, { force: true });
      deps.pairs.record({ pairId: m.pairId, kind: 'recovery', state: 'rolled-back', txnId: txn.id, desktop: null, phone: null, note: `${what} rolled back after a crash` });
      return { outcome: 'rolled-back', note: `The interrupted ${what} was rolled back: both collections are the ones from before (a half-written package on the phone is removed at the next plug-in).` };
    };
  return { [USB_PULL]: pull, [USB_PUSH]: pushLike('copy desktop → phone'), [USB_MERGE]: pushLike('merge') };
}

export function recoverUsbSync(deps: UsbSyncDeps): RecoveryResult[] {
  return recoverUnfinished(deps.journal, usbRecoveryHandlers(deps));
}
