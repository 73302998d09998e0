import Database, { type Database as Db } from 'better-sqlite3';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { runMigrations, type Migration } from './migrations.js';

/** The daemon's SQLite state store, opened in WAL mode and migrated to the newest schema. */
export class StateStore {
  readonly db: Db;

  private constructor(
    readonly path: string,
    db: Db,
  ) {
    this.db = db;
  }

  static open(path: string, migrations: Migration[]): { store: StateStore; applied: Array<{ owner: string; version: number; name: string }> } {
    let db: Db | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const existed = existsSync(path);
      db = new Database(path);
      chmodSync(path, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const pending = pendingCount(db, migrations);
      if (existed && pending > 0) {
        // A copy before changing the schema, so a failed migration never costs the user their state.
        db.pragma('wal_checkpoint(TRUNCATE)');
        copyFileSync(path, `${path}.pre-migration`);
      }
      const applied = runMigrations(db, migrations);
      return { store: new StateStore(path, db), applied };
    } catch (e) {
      db?.close();
      if ((e as { code?: string }).code?.startsWith('ANKIBRIDGE_ERR_')) throw e;
      throw makeError(DaemonErrors.STATE_DB_FAILED, { path, reason: (e as Error).message }, e);
    }
  }

  getKv<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM daemon_kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  setKv(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO daemon_kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(key, JSON.stringify(value), Date.now());
  }

  deleteKv(key: string): void {
    this.db.prepare('DELETE FROM daemon_kv WHERE key = ?').run(key);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function pendingCount(db: Db, migrations: Migration[]): number {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!hasTable) return migrations.length;
  const rows = db.prepare('SELECT owner, version FROM schema_migrations').all() as Array<{ owner: string; version: number }>;
  const done = new Set(rows.map((r) => `${r.owner}#${r.version}`));
  return migrations.filter((m) => !done.has(`${m.owner}#${m.version}`)).length;
}
