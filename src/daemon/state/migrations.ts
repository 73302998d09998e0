import type { Database } from 'better-sqlite3';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';

/**
 * A numbered schema change owned by one room. Each room numbers its own migrations from 1 and
 * never edits one that has shipped; it adds the next number instead. Table names should start with
 * the owner (`sync_journal_...`, `backups_...`) so rooms never collide.
 */
export interface Migration {
  /** The room or feature owning the tables, e.g. 'daemon', 'sync-journal', 'backups', 'history'. */
  owner: string;
  /** 1, 2, 3 … within the owner; applied in this order, each once. */
  version: number;
  name: string;
  up(db: Database): void;
}

/** Where rooms register their migrations before the daemon opens the store. */
export class MigrationRegistry {
  private readonly list: Migration[] = [];

  register(...migrations: Migration[]): void {
    for (const m of migrations) {
      if (!/^[a-z][a-z0-9-]*$/.test(m.owner) || !Number.isInteger(m.version) || m.version < 1) {
        throw makeError(DaemonErrors.MIGRATION_CONFLICT, { owner: m.owner, version: m.version });
      }
      if (this.list.some((x) => x.owner === m.owner && x.version === m.version)) {
        throw makeError(DaemonErrors.MIGRATION_CONFLICT, { owner: m.owner, version: m.version });
      }
      this.list.push(m);
    }
  }

  all(): Migration[] {
    return [...this.list].sort((a, b) => (a.owner === b.owner ? a.version - b.version : a.owner < b.owner ? -1 : 1));
  }
}

/** Applies every migration not yet recorded, each in its own transaction. Returns what it applied. */
export function runMigrations(db: Database, migrations: Migration[]): Array<{ owner: string; version: number; name: string }> {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL,
    PRIMARY KEY (owner, version))`);
  const applied = new Set(
    (db.prepare('SELECT owner, version FROM schema_migrations').all() as Array<{ owner: string; version: number }>).map(
      (r) => `${r.owner}#${r.version}`,
    ),
  );
  const record = db.prepare('INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES (?, ?, ?, ?)');
  const done: Array<{ owner: string; version: number; name: string }> = [];
  for (const m of migrations) {
    if (applied.has(`${m.owner}#${m.version}`)) continue;
    db.transaction(() => {
      m.up(db);
      record.run(m.owner, m.version, m.name, Date.now());
    })();
    done.push({ owner: m.owner, version: m.version, name: m.name });
  }
  return done;
}
