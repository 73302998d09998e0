/**
 * USB sync for one desktop profile and one phone: read both sides, settle a pending push, classify,
 * build the decision, and run the guarded transactions (transactions.ts). Every decision and every
 * transaction goes into the history with both sides' summaries.
 */
import type { Database } from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { snapshotDesktopCollection } from '../../apkg/desktop/snapshot.js';
import type { BackupStore } from '../backup/store.js';
import type { Journal } from '../journal/journal.js';
import type { DesktopTarget } from '../desktop/replace.js';
import type { DeviceTransport } from '../../usb/transport.js';
import { recoverPending } from '../../usb/safe-write.js';
import { PairStore, type PairRecord, type PhoneIdentity } from './pair-store.js';
import { classify, pendingArrived, type Classification } from './pair-state.js';
import { readPhone, type PhoneRead } from './read-phone.js';
import { lossIfReplaced, readSide, sinceBase, type Loss, type SideRead } from './side.js';
import { buildDecision, type DecisionView } from './decision.js';
import { ensureUsbSyncSchema } from './schema.js';

export interface UsbSyncDeps {
  db: Database;
  journal: Journal;
  backups: BackupStore;
  pairs: PairStore;
  /** Parent for private work folders (default: the OS temp folder). */
  tmpDir?: string;
}

export interface Connection {
  target: DesktopTarget;
  phone: PhoneIdentity;
  transport: DeviceTransport;
}

/** Both sides read, the pair settled and classified. Dispose when done (temp copies). */
export interface Sides extends AsyncDisposable {
  pair: PairRecord;
  desktop: SideRead & { sha256: string; describe: string };
  phone: PhoneRead;
  cls: Classification;
  work: string;
  pullLoss: Loss;
  pushLoss: Loss;
  /** Set when a pending push was found imported on this read (the base moved). */
  settled: boolean;
}

export function usbSyncDeps(db: Database, dataDir: string, shared: { journal: Journal; backups: BackupStore }, tmpDir?: string): UsbSyncDeps {
  ensureUsbSyncSchema(db);
  return { db, ...shared, pairs: new PairStore(db, path.join(dataDir, 'usb-sync')), ...(tmpDir === undefined ? {} : { tmpDir }) };
}

export async function readSides(deps: UsbSyncDeps, c: Connection): Promise<Sides> {
  const work = mkdtempSync(path.join(deps.tmpDir ?? tmpdir(), 'ankibridge-usbsync-'));
  let phone: PhoneRead | undefined;
  try {
    const snap = snapshotDesktopCollection({ collectionPath: c.target.collectionPath, mediaDir: c.target.mediaDir, outDir: path.join(work, 'desktop') });
    const desktop = { ...readSide(snap.collectionPath), sha256: snap.sha256, describe: `collection of profile "${c.target.profile}"` };
    // A package write a crash or an unplug interrupted is finished or removed first (safe-write.ts).
    if (await c.transport.stat('Download')) await recoverPending(c.transport, 'Download');
    phone = await readPhone(c.transport, path.join(work, 'phone'));
    let pair = deps.pairs.ensure(c.target.profile, c.phone);
    let settled = false;
    if (pendingArrived(pair, phone.fingerprint) && pair.pending) {
      // The phone imported what we pushed: both sides have held it; it is the new base.
      deps.pairs.moveBase(pair.id, {
        collection: pair.pending.snapshot, fingerprint: pair.pending.fingerprint,
        desktopScm: pair.desktopScm, phoneScm: phone.fingerprint.scm,
      });
      deps.pairs.record({ pairId: pair.id, kind: 'import-seen', state: 'base-moved', txnId: pair.pending.txnId, desktop: desktop.summary, phone: phone.summary, note: `The phone imported the package pushed at ${new Date(pair.pending.pushedAt).toISOString()}; that is the new base.` });
      pair = deps.pairs.get(pair.id) as PairRecord;
      settled = true;
    }
    if (!pair.base && classify(pair, desktop.fingerprint, phone.fingerprint).state === 'in-step') {
      // A first meeting of two equal collections: agreeing on a base changes no collection.
      deps.pairs.moveBase(pair.id, { collection: desktop.collectionPath, fingerprint: desktop.fingerprint, desktopScm: desktop.fingerprint.scm, phoneScm: phone.fingerprint.scm });
      pair = deps.pairs.get(pair.id) as PairRecord;
    }
    const cls = classify(pair, desktop.fingerprint, phone.fingerprint);
    const pullLoss = lossIfReplaced(desktop.collectionPath, phone.collectionPath, 'on this computer');
    const pushLoss = lossIfReplaced(phone.collectionPath, desktop.collectionPath, 'on the phone');
    const p = phone;
    return {
      pair, desktop, phone: p, cls, work, pullLoss, pushLoss, settled,
      async [Symbol.asyncDispose]() {
        await p.dispose();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await phone?.dispose();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

export function decisionOf(s: Sides, c: Connection, deviceId: string): DecisionView {
  const base = s.pair.base ? { newestRevlogId: s.pair.base.fingerprint.newestRevlogId, at: s.pair.base.at } : null;
  return buildDecision({
    deviceId,
    deviceLabel: c.phone.label,
    digestPair: `${s.desktop.fingerprint.digest.slice(0, 8)}.${s.phone.fingerprint.digest.slice(0, 8)}`,
    state: s.cls.state,
    baseAt: s.pair.base?.at ?? null,
    desktop: { summary: s.desktop.summary, since: sinceBase(s.desktop.collectionPath, base), source: s.desktop.describe },
    phone: { summary: s.phone.summary, since: sinceBase(s.phone.collectionPath, base), source: s.phone.describe },
    pullLoss: s.pullLoss,
    pushLoss: s.pushLoss,
    schemaChanged: s.cls.schemaChanged,
    collection: 'desktop',
  });
}

/** Reads both sides, records the decision in the history, and returns it. */
export async function inspect(deps: UsbSyncDeps, c: Connection, deviceId: string): Promise<DecisionView> {
  await using s = await readSides(deps, c);
  const d = decisionOf(s, c, deviceId);
  deps.pairs.record({ pairId: s.pair.id, kind: 'decision', state: d.state, txnId: null, desktop: s.desktop.summary, phone: s.phone.summary, note: `${d.headline}. Phone read from the ${s.phone.describe}.` });
  return d;
}
