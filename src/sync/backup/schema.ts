import type { Database } from 'better-sqlite3';
import type { RoomMigration } from '../journal/schema.js';

const DDL = `
  CREATE TABLE IF NOT EXISTS backups_entries (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    source TEXT NOT NULL,           -- 'desktop' | 'phone' | …: whose collection it is
    label TEXT NOT NULL,            -- e.g. the profile name or the phone's name
    reason TEXT NOT NULL,           -- pre-overwrite | pre-merge | pre-restore | manual
    protected INTEGER NOT NULL,     -- 1: never evicted by retention unless the user allows it
    dir TEXT NOT NULL,              -- folder in the store, relative to the store root
    collection_bytes INTEGER NOT NULL,
    collection_sha256 TEXT NOT NULL,
    media_count INTEGER NOT NULL,
    media_bytes INTEGER NOT NULL,
    summary TEXT,                   -- JSON CollectionSummary
    origin_path TEXT,               -- where the collection was when it was backed up
    verified_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS backups_entries_created ON backups_entries (created_at DESC);
`;

/** The backup store's table, for the daemon's migration registry (owner 'backups'). */
export const BACKUP_MIGRATIONS: RoomMigration[] = [{ owner: 'backups', version: 1, name: 'backup entries', up: (db) => db.exec(DDL) }];

export function ensureBackupSchema(db: Database): void {
  db.exec(DDL);
}
