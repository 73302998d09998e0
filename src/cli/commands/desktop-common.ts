/**
 * What the desktop verbs (export, import, backups, restore) share: --profile/--base, the state
 * database in the data folder (XDG_DATA_HOME/ankibridge/state.sqlite, the daemon's file), the
 * journal and backup store on it, and the recovery report printed at start.
 */
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import envPaths from 'env-paths';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { resolveDesktopCollection } from '../../apkg/desktop/profiles.js';
import { openDesktopServices, type DesktopServices } from '../../sync/desktop/services.js';
import type { DesktopTarget } from '../../sync/desktop/replace.js';
import type { CliIO } from '../output.js';

export interface DesktopOpts {
  profile?: string;
  base?: string;
  json?: boolean;
}

export function addDesktopOptions(cmd: Command): Command {
  return cmd
    .option('--profile <name>', 'the Anki profile (default: the one Anki opened last)')
    .option('--base <folder>', "Anki's base folder (default: ANKI_BASE, else the platform's Anki2 folder)")
    .option('--json', 'print the result as JSON');
}

export function resolveTarget(opts: DesktopOpts): DesktopTarget {
  const { profile } = resolveDesktopCollection({ configured: opts.base, profile: opts.profile });
  return { profile: profile.name, collectionPath: profile.collectionPath, mediaDir: profile.mediaDir };
}

export interface CliDesktop extends DesktopServices, Disposable {
  dataDir: string;
}

/** Opens the state database and the services, running recovery first. Dispose to close. */
export function openCliDesktop(): CliDesktop {
  const dataDir = envPaths('ankibridge', { suffix: '' }).data;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(dataDir, 'state.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    // The journal must survive a power cut, not only a crash.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const services = openDesktopServices(db, dataDir);
    return { ...services, dataDir, [Symbol.dispose]: () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Tells the user what recovery did (stderr, so JSON on stdout stays clean). */
export function printRecovered(io: CliIO, d: DesktopServices): void {
  for (const r of d.recovered) io.err(`ankibridge: recovered transaction ${r.txnId} (${r.kind}): ${r.outcome}. ${r.note}`);
}
