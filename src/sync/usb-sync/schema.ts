/**
 * USB sync's tables in the daemon's state database (owner 'usb-sync', registered with the
 * daemon's migration registry through the plugin): one row per pair (desktop profile, phone) with
 * its base, and the history of every decision and transaction with both sides' summaries.
 */
import type { Database } from 'better-sqlite3';
import type { RoomMigration } from '../journal/schema.js';

const V1 = `
  CREATE TABLE IF NOT EXISTS usb_sync_pairs (
    id TEXT PRIMARY KEY,             -- sha256(profile | phone identity), short
    profile TEXT NOT NULL,           -- desktop profile name
    phone_id TEXT NOT NULL,          -- USB serial + MTP device info, as one string
    phone_label TEXT NOT NULL,
    base_fingerprint TEXT,           -- JSON Fingerprint of the base, null before the first agreement
    base_snapshot TEXT,              -- path of the base collection file in the data folder
    base_at INTEGER,                 -- ms when both sides last agreed
    desktop_scm INTEGER,             -- desktop's scm when it was last known equal to the base
    phone_scm INTEGER,               -- phone's scm when it was last known equal to the base (null: not yet seen after a push)
    pending TEXT,                    -- JSON: the package pushed and not yet seen imported on the phone
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS usb_sync_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,              -- decision | pull | push | merge | recovery
    state TEXT NOT NULL,             -- the pair state (decision) or the outcome (transaction)
    txn_id TEXT,
    desktop_summary TEXT,            -- JSON CollectionSummary
    phone_summary TEXT,
    note TEXT
  );
  CREATE INDEX IF NOT EXISTS usb_sync_history_pair ON usb_sync_history (pair_id, seq);
`;

export const USB_SYNC_MIGRATIONS: RoomMigration[] = [{ owner: 'usb-sync', version: 1, name: 'pairs and history', up: (db) => db.exec(V1) }];

/** For callers without the daemon's registry (CLI without a daemon, tests). */
export function ensureUsbSyncSchema(db: Database): void {
  db.exec(V1);
}
