import type { Migration } from './migrations.js';

/** The daemon's own tables: key/value state (pause, scheduler) and the job history. */
export const DAEMON_MIGRATIONS: Migration[] = [
  {
    owner: 'daemon',
    version: 1,
    name: 'kv and job history',
    up(db) {
      db.exec(`
        CREATE TABLE daemon_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
        CREATE TABLE daemon_job_history (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          collection TEXT NOT NULL,
          origin TEXT NOT NULL,
          state TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER,
          result TEXT,
          error TEXT
        );
        CREATE INDEX daemon_job_history_finished ON daemon_job_history (finished_at DESC);
      `);
    },
  },
];
