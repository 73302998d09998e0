/**
 * USB sync for one desktop profile and one phone: read both sides, settle a pending push, classify,
 * build the decision, and run the guarded transactions (transactions.ts). Every decision and every
 * transaction goes into the history with both sides' summaries.
 */
import type { Database } from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { BackupStore } from '../backup/store.js';
import type { Journal } from '../journal/journal.js';
import type { DesktopTarget } from '../desktop/replace.js';
import type { DeviceTransport } from '../../usb/transport.js';
import { PairStore, phoneKey, type PairRecord, type PhoneIdentity } from './pair-store.js';
import { classify, pendingArrived, type Classification } from './pair-state.js';
import { readPhone, type PhoneRead } from './read-phone.js';
import { lossIfReplaced, NO_LOSS, sideSinceBase, type Loss, type SideRead } from './side.js';
import { SideCache, type DesktopSide, type Held } from './side-cache.js';
import { buildDecision, type DecisionView } from './decision.js';
import { ensureUsbSyncSchema } from './schema.js';
import { timed, type Trace } from './trace.js';

export interface UsbSyncDeps {
  db: Database;
  journal: Journal;
  backups: BackupStore;
  pairs: PairStore;
  /** Sides read before, kept while unchanged (side-cache.ts). */
  sides: SideCache;
  /** Parent for private work folders (default: the OS temp folder). */
  tmpDir?: string;
  /** Told how long each stage of reading both sides took (logs, the lab's timing report). */
  trace?: Trace;
}


export interface Connection {
  target: DesktopTarget;
  phone: PhoneIdentity;
  transport: DeviceTransport;
}

/** Both sides read, the pair settled and classified. Dispose when done (temp copies). */
export interface Sides extends AsyncDisposable {
  pair: PairRecord;
  desktop: DesktopSide;
  phone: PhoneRead;
  cls: Classification;
  work: string;
  /** What a pull / push would lose; only worked out where the guard asks (the overwritten side changed, or a first meeting). */
  pullLoss: Loss;
  pushLoss: Loss;
  /** Set when a pending push was found imported on this read (the base moved). */
  settled: boolean;
}

export function usbSyncDeps(db: Database, dataDir: string, shared: { journal: Journal; backups: BackupStore }, tmpDir?: string): UsbSyncDeps {
  ensureUsbSyncSchema(db);
  // Cached copies beside the work folders (same file system: a phone read is moved into the cache).
  const parent = tmpDir ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const sides = new SideCache(mkdtempSync(path.join(parent, 'ankibridge-usbsync-cache-')));
  return { db, ...shared, pairs: new PairStore(db, path.join(dataDir, 'usb-sync')), sides, ...(tmpDir === undefined ? {} : { tmpDir }) };
}

export interface ReadSidesOptions {
  /** 'decision' (default): a quick check of the phone's copy; 'transaction': SQLite's full integrity check first. */
  purpose?: 'decision' | 'transaction';
}

export async function readSides(deps: UsbSyncDeps, c: Connection, o: ReadSidesOptions = {}): Promise<Sides> {
  const work = mkdtempSync(path.join(deps.tmpDir ?? tmpdir(), 'ankibridge-usbsync-'));
  let phone: PhoneRead | undefined;
  let desk: Held<DesktopSide> | undefined;
  try {
    const tr = deps.trace;
    desk = await timed(tr, 'desktop', () => deps.sides.desktop(c.target));
    const desktop = desk.side;
    phone = await readPhone(c.transport, path.join(work, 'phone'), {
      ...(tr ? { trace: tr } : {}),
      check: o.purpose === 'transaction' ? 'full' : 'quick',
      cache: { sides: deps.sides, phone: phoneKey(c.phone) },
    });
    let pair = deps.pairs.ensure(c.target.profile, c.phone);
    let settled = false;
    if (pendingArrived(pair, phone) && pair.pending) {
      // The phone imported what we pushed: both sides have held it; it is the new base.
      deps.pairs.moveBase(pair.id, {
        collection: pair.pending.snapshot, fingerprint: pair.pending.fingerprint,
        desktopScm: pair.desktopScm, phoneScm: phone.facts.scm,
      });
      deps.pairs.record({ pairId: pair.id, kind: 'import-seen', state: 'base-moved', txnId: pair.pending.txnId, desktop: desktop.summary, phone: phone.summary, note: `The phone imported the package pushed at ${new Date(pair.pending.pushedAt).toISOString()}; that is the new base.` });
      pair = deps.pairs.get(pair.id) as PairRecord;
      settled = true;
    }
    let cls = timed(tr, 'classify', () => classify(pair, desktop, phone as PhoneRead));
    if (cls.state === 'in-step' && (!pair.base || cls.desktopChanged)) {
      // Both sides hold the same content (a first meeting of equal collections, or the same
      // changes made on both): agreeing on it as the base changes no collection.
      deps.pairs.moveBase(pair.id, { collection: desktop.collectionPath, fingerprint: desktop.fingerprint, desktopScm: desktop.facts.scm, phoneScm: phone.facts.scm });
      pair = deps.pairs.get(pair.id) as PairRecord;
      cls = classify(pair, desktop, phone);
    }
    const first = cls.state === 'first-meeting';
    const p = phone;
    const pullLoss = first || cls.desktopChanged ? timed(tr, 'loss-pull', () => lossIfReplaced(desktop.collectionPath, p.collectionPath, 'on this computer')) : NO_LOSS;
    const pushLoss = first || cls.phoneChanged ? timed(tr, 'loss-push', () => lossIfReplaced(p.collectionPath, desktop.collectionPath, 'on the phone')) : NO_LOSS;
    const d = desk;
    return {
      pair, desktop, phone: p, cls, work, pullLoss, pushLoss, settled,
      async [Symbol.asyncDispose]() {
        await p.dispose();
        d.release();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await phone?.dispose();
    desk?.release();
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/** A short tag of a side's content for the decision id: its facts, and its digest once known. */
function contentTag(s: SideRead): string {
  return createHash('sha256')
    .update(JSON.stringify(s.facts))
    .update(s.digested ? s.fingerprint.digest : '')
    .digest('hex')
    .slice(0, 8);
}

export function decisionOf(s: Sides, c: Connection, deviceId: string): DecisionView {
  const base = s.pair.base ? { newestRevlogId: s.pair.base.fingerprint.newestRevlogId, at: s.pair.base.at } : null;
  return buildDecision({
    deviceId,
    deviceLabel: c.phone.label,
    digestPair: `${contentTag(s.desktop)}.${contentTag(s.phone)}`,
    state: s.cls.state,
    baseAt: s.pair.base?.at ?? null,
    desktop: { summary: s.desktop.summary, since: sideSinceBase(s.desktop, base), source: s.desktop.describe },
    phone: { summary: s.phone.summary, since: sideSinceBase(s.phone, base), source: s.phone.describe },
    pullLoss: s.pullLoss,
    pushLoss: s.pushLoss,
    schemaChanged: s.cls.schemaChanged,
    collection: 'desktop',
  });
}

/** Reads both sides, records the decision in the history, and returns it. */
export async function inspect(deps: UsbSyncDeps, c: Connection, deviceId: string): Promise<DecisionView> {
  await using s = await readSides(deps, c);
  const d = timed(deps.trace, 'decision', () => decisionOf(s, c, deviceId));
  deps.pairs.record({ pairId: s.pair.id, kind: 'decision', state: d.state, txnId: null, desktop: s.desktop.summary, phone: s.phone.summary, note: `${d.headline}. Phone read from the ${s.phone.describe}.` });
  return d;
}
