/**
 * The pair's state from the three fingerprints (DESIGN.md table). Pure: the caller settles a
 * pending push first (settlePending) and then classifies.
 */
import { sameFacts } from '../../apkg/collection/fingerprint.js';
import type { PairRecord } from './pair-store.js';
import { sameSide, type SideRead } from './side.js';

export type PairState = 'in-step' | 'desktop-ahead' | 'phone-ahead' | 'both-changed' | 'first-meeting' | 'cannot-merge' | 'waiting-for-import';

export interface Classification {
  state: PairState;
  desktopChanged: boolean;
  phoneChanged: boolean;
  /** Set when a schema change (scm) on a side rules out a merge. */
  schemaChanged: 'desktop' | 'phone' | null;
}

/**
 * Sides are compared by their facts first and by their digests only when the facts agree
 * (side.ts sameSide), so a side that plainly changed is never digested here.
 */
export function classify(pair: PairRecord, desktop: SideRead, phone: SideRead): Classification {
  if (!pair.base) {
    const same = sameSide(desktop, phone);
    return { state: same ? 'in-step' : 'first-meeting', desktopChanged: !same, phoneChanged: !same, schemaChanged: null };
  }
  const base = pair.base.fingerprint;
  const desktopChanged = !sameSide(desktop, base);
  const phoneChanged = !sameSide(phone, base);
  // A pushed package the phone has not imported yet: the phone still shows what it held then.
  if (pair.pending && (!phoneChanged || stillAsWhenSent(pair, phone))) {
    return { state: 'waiting-for-import', desktopChanged, phoneChanged, schemaChanged: null };
  }
  const schemaChanged =
    pair.desktopScm !== null && desktop.facts.scm !== pair.desktopScm ? 'desktop' : pair.phoneScm !== null && phone.facts.scm !== pair.phoneScm ? 'phone' : null;
  if (desktopChanged && phoneChanged) {
    if (sameSide(desktop, phone)) return { state: 'in-step', desktopChanged, phoneChanged, schemaChanged: null };
    return { state: schemaChanged ? 'cannot-merge' : 'both-changed', desktopChanged, phoneChanged, schemaChanged };
  }
  if (desktopChanged) return { state: 'desktop-ahead', desktopChanged, phoneChanged, schemaChanged };
  if (phoneChanged) return { state: 'phone-ahead', desktopChanged, phoneChanged, schemaChanged };
  return { state: 'in-step', desktopChanged, phoneChanged, schemaChanged };
}

function stillAsWhenSent(pair: PairRecord, phone: SideRead): boolean {
  const p = pair.pending;
  if (!p?.phoneDigest) return false;
  if (p.phoneFacts && !sameFacts(p.phoneFacts, phone.facts)) return false;
  return phone.fingerprint.digest === p.phoneDigest;
}

/** Whether the phone now holds what was pushed (then the base moves to it). */
export function pendingArrived(pair: PairRecord, phone: SideRead): boolean {
  return pair.pending !== null && sameSide(phone, pair.pending.fingerprint);
}
