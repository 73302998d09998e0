/**
 * The transaction journal (DESIGN.md invariant 6). Every transaction that changes a collection
 * writes a row per step ("begun", then "done") before and after doing it, in the process's state
 * database, so that after a crash the next start knows how far it got and can finish it or roll
 * it back (recover.ts), and say which.
 *
 * Test hook: ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE=n makes the process SIGKILL itself right
 * after its n-th journal write is committed: a crash at every step boundary, on demand.
 * ANKIBRIDGE_TEST_KILL_AFTER_STEP=<step> kills it after the step's work is done but before the
 * journal says so (e.g. after the rename of an install, before "install done").
 */
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

export type TxnState = 'running' | 'committed' | 'failed' | 'rolled-back' | 'finished-on-recovery' | 'rolled-back-on-recovery';
export type StepState = 'begun' | 'done';

export interface TxnRecord {
  id: string;
  kind: string;
  state: TxnState;
  startedAt: number;
  finishedAt: number | null;
  meta: Record<string, unknown>;
  note: string | null;
}

export interface StepRecord {
  seq: number;
  step: string;
  state: StepState;
  at: number;
  data: Record<string, unknown> | null;
}

let journalWrites = 0;
function afterJournalWrite(): void {
  journalWrites += 1;
  const killAt = Number(process.env.ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE);
  if (Number.isInteger(killAt) && killAt > 0 && journalWrites === killAt) process.kill(process.pid, 'SIGKILL');
}

function afterStepWork(step: string): void {
  if (process.env.ANKIBRIDGE_TEST_KILL_AFTER_STEP === step) process.kill(process.pid, 'SIGKILL');
}

export function newTxnId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export class Journal {
  constructor(private readonly db: Database) {}

  begin(kind: string, meta: Record<string, unknown>): string {
    const id = newTxnId();
    this.db
      .prepare('INSERT INTO sync_journal_transactions (id, kind, state, started_at, meta) VALUES (?, ?, ?, ?, ?)')
      .run(id, kind, 'running', Date.now(), JSON.stringify(meta));
    afterJournalWrite();
    return id;
  }

  /** Records a step boundary. Written (and committed) before the caller goes on. */
  step(txnId: string, step: string, state: StepState, data?: Record<string, unknown>): void {
    const next = (this.db.prepare('SELECT coalesce(max(seq), 0) + 1 FROM sync_journal_steps WHERE txn_id = ?').pluck().get(txnId) as number) ?? 1;
    this.db
      .prepare('INSERT INTO sync_journal_steps (txn_id, seq, step, state, at, data) VALUES (?, ?, ?, ?, ?, ?)')
      .run(txnId, next, step, state, Date.now(), data === undefined ? null : JSON.stringify(data));
    afterJournalWrite();
  }

  /** Runs `fn` between a "begun" and a "done" record of `step`; the result goes into "done". */
  run<T extends Record<string, unknown> | void>(txnId: string, step: string, fn: () => T): T {
    this.step(txnId, step, 'begun');
    const out = fn();
    afterStepWork(step);
    this.step(txnId, step, 'done', out === undefined ? undefined : (out as Record<string, unknown>));
    return out;
  }

  async runAsync<T extends Record<string, unknown> | void>(txnId: string, step: string, fn: () => Promise<T>): Promise<T> {
    this.step(txnId, step, 'begun');
    const out = await fn();
    afterStepWork(step);
    this.step(txnId, step, 'done', out === undefined ? undefined : (out as Record<string, unknown>));
    return out;
  }

  finish(txnId: string, state: Exclude<TxnState, 'running'>, note: string): void {
    this.db.prepare('UPDATE sync_journal_transactions SET state = ?, finished_at = ?, note = ? WHERE id = ?').run(state, Date.now(), note, txnId);
    afterJournalWrite();
  }

  get(txnId: string): TxnRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sync_journal_transactions WHERE id = ?').get(txnId) as TxnRow | undefined;
    return row && toTxn(row);
  }

  /** Transactions a crash left unfinished, oldest first. */
  unfinished(): TxnRecord[] {
    return (this.db.prepare("SELECT * FROM sync_journal_transactions WHERE state = 'running' ORDER BY started_at, id").all() as TxnRow[]).map(toTxn);
  }

  recent(limit = 50): TxnRecord[] {
    return (this.db.prepare('SELECT * FROM sync_journal_transactions ORDER BY started_at DESC, id DESC LIMIT ?').all(limit) as TxnRow[]).map(toTxn);
  }

  steps(txnId: string): StepRecord[] {
    return (this.db.prepare('SELECT seq, step, state, at, data FROM sync_journal_steps WHERE txn_id = ? ORDER BY seq').all(txnId) as StepRow[]).map((r) => ({
      seq: r.seq,
      step: r.step,
      state: r.state as StepState,
      at: r.at,
      data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
    }));
  }
}

interface TxnRow {
  id: string;
  kind: string;
  state: string;
  started_at: number;
  finished_at: number | null;
  meta: string;
  note: string | null;
}
interface StepRow {
  seq: number;
  step: string;
  state: string;
  at: number;
  data: string | null;
}

function toTxn(r: TxnRow): TxnRecord {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state as TxnState,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    meta: JSON.parse(r.meta) as Record<string, unknown>,
    note: r.note,
  };
}

/** The last record of each step: whether it was begun, done, and what it produced. */
export function stepStatus(steps: StepRecord[]): Map<string, { state: StepState; data: Record<string, unknown> | null }> {
  const out = new Map<string, { state: StepState; data: Record<string, unknown> | null }>();
  for (const s of steps) out.set(s.step, { state: s.state, data: s.data ?? out.get(s.step)?.data ?? null });
  return out;
}
