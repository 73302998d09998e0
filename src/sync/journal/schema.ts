import type { Database } from 'better-sqlite3';

/** Same shape as the daemon's Migration (src/daemon/state/migrations.ts); sync may not import daemon. */
export interface RoomMigration {
  owner: string;
  version: number;
  name: string;
  up(db: Database): void;
}

const DDL = `
  CREATE TABLE IF NOT EXISTS sync_journal_transactions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,            -- running | committed | failed | rolled-back | finished-on-recovery | rolled-back-on-recovery
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    meta TEXT NOT NULL,             -- JSON: what the transaction works on (paths, package, backup id)
    note TEXT                       -- what happened at the end, for a person
  );
  CREATE INDEX IF NOT EXISTS sync_journal_transactions_state ON sync_journal_transactions (state);
  CREATE TABLE IF NOT EXISTS sync_journal_steps (
    txn_id TEXT NOT NULL REFERENCES sync_journal_transactions (id),
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    state TEXT NOT NULL,            -- begun | done
    at INTEGER NOT NULL,
    data TEXT,                      -- JSON: what the step produced (a backup id, a staged path)
    PRIMARY KEY (txn_id, seq)
  );
`;

/** The journal's tables, for the daemon's migration registry (owner 'sync-journal'). */
export const JOURNAL_MIGRATIONS: RoomMigration[] = [
  { owner: 'sync-journal', version: 1, name: 'transactions and steps', up: (db) => db.exec(DDL) },
];

/** Creates the journal's tables if missing (for callers without the daemon's registry, e.g. the CLI). */
export function ensureJournalSchema(db: Database): void {
  db.exec(DDL);
}
