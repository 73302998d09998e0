/**
 * The pair's state from the three fingerprints (DESIGN.md table). Pure: the caller settles a
 * pending push first (settlePending) and then classifies.
 */
import { sameContent, type Fingerprint } from '../../apkg/collection/fingerprint.js';
import type { PairRecord } from './pair-store.js';

export type PairState = 'in-step' | 'desktop-ahead' | 'phone-ahead' | 'both-changed' | 'first-meeting' | 'cannot-merge' | 'waiting-for-import';

export interface Classification {
  state: PairState;
  desktopChanged: boolean;
  phoneChanged: boolean;
  /** Set when a schema change (scm) on a side rules out a merge. */
  schemaChanged: 'desktop' | 'phone' | null;
}

export function classify(pair: PairRecord, desktop: Fingerprint, phone: Fingerprint): Classification {
  if (!pair.base) {
    const same = sameContent(desktop, phone);
    return { state: same ? 'in-step' : 'first-meeting', desktopChanged: !same, phoneChanged: !same, schemaChanged: null };
  }
  const base = pair.base.fingerprint;
  const desktopChanged = !sameContent(desktop, base);
  const phoneChanged = !sameContent(phone, base);
  // A pushed package the phone has not imported yet: the phone still shows the base.
  if (pair.pending && (!phoneChanged || phone.digest === pair.pending.phoneDigest)) {
    return { state: 'waiting-for-import', desktopChanged, phoneChanged, schemaChanged: null };
  }
  const schemaChanged =
    pair.desktopScm !== null && desktop.scm !== pair.desktopScm ? 'desktop' : pair.phoneScm !== null && phone.scm !== pair.phoneScm ? 'phone' : null;
  if (desktopChanged && phoneChanged) {
    if (sameContent(desktop, phone)) return { state: 'in-step', desktopChanged, phoneChanged, schemaChanged: null };
    return { state: schemaChanged ? 'cannot-merge' : 'both-changed', desktopChanged, phoneChanged, schemaChanged };
  }
  if (desktopChanged) return { state: 'desktop-ahead', desktopChanged, phoneChanged, schemaChanged };
  if (phoneChanged) return { state: 'phone-ahead', desktopChanged, phoneChanged, schemaChanged };
  return { state: 'in-step', desktopChanged, phoneChanged, schemaChanged };
}

/** Whether the phone now holds what was pushed (then the base moves to it). */
export function pendingArrived(pair: PairRecord, phone: Fingerprint): boolean {
  return pair.pending !== null && sameContent(pair.pending.fingerprint, phone);
}
