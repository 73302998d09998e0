/**
 * The desktop side as a daemon plugin (shape of src/daemon/plugins.ts DaemonPlugin, declared
 * here structurally because sync may not import daemon): the journal's and the backup store's
 * migrations, the BackupsProvider, and the 'restore' job. The daemon adds it with one line:
 *
 *   desktopSyncPlugin({ dataDir: paths.dataDir, stateDb: paths.stateDb })
 *
 * and calls `recoverAtStart()` after its store is migrated (invariant 6: on start, finish or roll
 * back what a crash interrupted, and say which). The plugin keeps its own connection to the same
 * state database (WAL mode, so it and the daemon's connection work side by side).
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { makeError } from '../../errors/define.js';
import { BackupErrors } from '../../errors/codes/backup.js';
import { BACKUP_MIGRATIONS } from '../backup/schema.js';
import { JOURNAL_MIGRATIONS, type RoomMigration } from '../journal/schema.js';
import type { RecoveryResult } from '../journal/recover.js';
import { profileMediaDir } from './replace.js';
import { restoreDesktopBackup } from './restore.js';
import { openDesktopServices, type DesktopServices } from './services.js';

export interface DesktopPluginPaths {
  dataDir: string;
  stateDb: string;
}

export interface RestoreJobContext {
  readonly params: { backupId: string };
  progress(p: { step?: string; message?: string; fraction?: number }): void;
  readonly signal: AbortSignal;
}

export function desktopSyncPlugin(paths: DesktopPluginPaths) {
  let db: Database.Database | undefined;
  let services: DesktopServices | undefined;
  const open = (): DesktopServices => {
    if (!services) {
      db = new Database(paths.stateDb);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      services = openDesktopServices(db, paths.dataDir);
    }
    return services;
  };
  const migrations: RoomMigration[] = [...JOURNAL_MIGRATIONS, ...BACKUP_MIGRATIONS];
  return {
    name: 'desktop backups and journal',
    migrations,
    /** Runs recovery (once) and returns what it did, for the daemon's log and events. */
    recoverAtStart(): RecoveryResult[] {
      return open().recovered;
    },
    providers: {
      backups: {
        async listBackups(opts: { collection?: string; limit: number }) {
          return open()
            .backups.list()
            .filter((b) => opts.collection === undefined || `${b.source}` === opts.collection || b.label === opts.collection)
            .slice(0, opts.limit)
            .map((b) => ({ id: b.id, collection: b.source, createdAt: new Date(b.createdAt).toISOString(), sizeBytes: b.collectionBytes + b.media.bytes, reason: b.reason }));
        },
        async hasBackup(id: string) {
          try {
            open().backups.get(id);
            return true;
          } catch {
            return false;
          }
        },
      },
    },
    jobHandlers: [
      {
        kind: 'restore' as const,
        description: 'Restore a backup as the desktop collection (the current one is backed up first).',
        paramsSchema: {
          type: 'object',
          // `confirm`: POST /api/v1/backups/:id/restore passes the person's acknowledgement along.
          properties: { backupId: { type: 'string', minLength: 1, maxLength: 100 }, confirm: { type: 'boolean' } },
          required: ['backupId'],
          additionalProperties: false,
        },
        collectionOf: () => 'desktop',
        async run(ctx: RestoreJobContext) {
          const s = open();
          const rec = s.backups.get(ctx.params.backupId);
          if (rec.originPath === null || !existsSync(rec.originPath)) {
            throw makeError(BackupErrors.DAMAGED, { id: rec.id, reason: 'the collection it was taken from is no longer there' });
          }
          ctx.progress({ step: 'restore', message: `Restoring backup ${rec.id}` });
          const r = await restoreDesktopBackup({
            backupId: rec.id,
            target: { profile: rec.label, collectionPath: rec.originPath, mediaDir: profileMediaDir(rec.originPath) },
            deps: s,
          });
          return { restored: rec.id, previousBackup: r.backup.id, txnId: r.txnId, mediaRestored: r.media.restored, mediaTrashed: r.media.trashed };
        },
      },
    ],
    close(): void {
      db?.close();
      db = undefined;
      services = undefined;
    },
  };
}
