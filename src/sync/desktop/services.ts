/**
 * The desktop side's services on one state database: the journal, the backup store, and the
 * recovery that runs at every start before anything else touches the desktop collection.
 */
import type { Database } from 'better-sqlite3';
import path from 'node:path';
import { BackupStore } from '../backup/store.js';
import { ensureBackupSchema } from '../backup/schema.js';
import { Journal } from '../journal/journal.js';
import { ensureJournalSchema } from '../journal/schema.js';
import { recoverUnfinished, type RecoveryResult } from '../journal/recover.js';
import { desktopRecoveryHandlers, type DesktopDeps } from './replace.js';

export interface DesktopServices extends DesktopDeps {
  /** What recovery did at start (empty when the last run ended cleanly). */
  recovered: RecoveryResult[];
}

/** `dataDir/backups` holds the backup store. Schemas are created if the daemon's migrations did not yet. */
export function openDesktopServices(db: Database, dataDir: string): DesktopServices {
  ensureJournalSchema(db);
  ensureBackupSchema(db);
  const journal = new Journal(db);
  const backups = new BackupStore(db, path.join(dataDir, 'backups'));
  const deps = { journal, backups };
  const recovered = recoverUnfinished(journal, desktopRecoveryHandlers(deps));
  return { ...deps, recovered };
}
