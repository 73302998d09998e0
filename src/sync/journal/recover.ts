/**
 * Recovery after a crash: every transaction the journal shows as still running is handed to the
 * handler registered for its kind, which finishes it or rolls it back (it looks at the journal
 * and at the files themselves), and the journal records which, with a sentence for the user.
 */
import { Journal, type StepRecord, type TxnRecord } from './journal.js';

export type RecoveryOutcome = 'finished' | 'rolled-back';

export interface RecoveryResult {
  txnId: string;
  kind: string;
  outcome: RecoveryOutcome | 'failed';
  note: string;
}

export type RecoveryHandler = (txn: TxnRecord, steps: StepRecord[]) => { outcome: RecoveryOutcome; note: string };

export function recoverUnfinished(journal: Journal, handlers: Readonly<Record<string, RecoveryHandler>>): RecoveryResult[] {
  const results: RecoveryResult[] = [];
  for (const txn of journal.unfinished()) {
    const handler = handlers[txn.kind];
    if (!handler) continue; // another room's transaction: its own recovery handles it
    try {
      const r = handler(txn, journal.steps(txn.id));
      journal.finish(txn.id, r.outcome === 'finished' ? 'finished-on-recovery' : 'rolled-back-on-recovery', r.note);
      results.push({ txnId: txn.id, kind: txn.kind, outcome: r.outcome, note: r.note });
    } catch (e) {
      // Left 'running' so the next start tries again; reported now.
      results.push({ txnId: txn.id, kind: txn.kind, outcome: 'failed', note: `recovery failed: ${(e as Error).message}` });
    }
  }
  return results;
}
