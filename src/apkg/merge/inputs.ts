/**
 * Getting the three collections ready for the merge: the result starts as a private copy of the
 * desktop collection, and the base and the phone are attached to that connection read-only, so
 * that the merge is set-based SQL across the three files (fast, bounded memory).
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { makeError } from '../../errors/define.js';
import { MergeErrors } from '../../errors/codes/merge.js';
import { openCollectionDb, readSqliteHeader, translateSqliteError, type CollectionDb } from '../sqlite.js';
import type { Side } from './types.js';

export type Role = 'base' | Side;
/** Schema names the inputs get on the merge connection: main = result (desktop copy). */
export const SCHEMA_OF: Record<Role, string> = { desktop: 'main', base: 'o', phone: 'p' };

export interface ColRow {
  crt: number;
  mod: number;
  scm: number;
  ver: number;
  usn: number;
  ls: number;
}

function hasLiveWal(file: string): boolean {
  const wal = `${file}-wal`;
  return existsSync(wal) && statSync(wal).size > 0;
}

/**
 * A copy of `file` at `to` with everything in it: a WAL sidecar is copied along and
 * checkpointed into the copy, which is then switched to rollback mode (one self-contained file).
 */
export function selfContainedCopy(file: string, to: string): void {
  readSqliteHeader(file); // named error if it is not an SQLite file at all
  copyFileSync(file, to);
  if (hasLiveWal(file)) copyFileSync(`${file}-wal`, `${to}-wal`);
  const db = new Database(to, { fileMustExist: true });
  try {
    db.pragma('trusted_schema = OFF');
    db.pragma('journal_mode = DELETE');
  } catch (e) {
    throw translateSqliteError(e, file);
  } finally {
    db.close();
  }
}

export function attach(db: CollectionDb, file: string, role: Exclude<Role, 'desktop'>): void {
  // `file` is always our own private copy (better-sqlite3 is built without URI filenames, so an
  // attachment cannot be made read-only or immutable; a copy keeps the user's file untouched).
  try {
    db.prepare('ATTACH DATABASE ? AS ' + SCHEMA_OF[role]).run(file);
  } catch (e) {
    throw translateSqliteError(e, file);
  }
}

/** Anki never creates triggers or views; a file with one was crafted, so it is refused. */
export function refuseCode(db: CollectionDb, role: Role): void {
  const s = SCHEMA_OF[role];
  const row = db.prepare(`SELECT type, name FROM ${s}.sqlite_master WHERE type IN ('trigger','view') LIMIT 1`).get() as
    | { type: string; name: string }
    | undefined;
  if (row) throw makeError(MergeErrors.UNSAFE_INPUT, { side: role, kind: row.type, name: row.name });
}

export function readCol(db: CollectionDb, role: Role, file: string): ColRow {
  try {
    const row = db.prepare(`SELECT crt, mod, scm, ver, usn, ls FROM ${SCHEMA_OF[role]}.col LIMIT 1`).get() as ColRow | undefined;
    if (!row) throw new Error('the col table has no row');
    return row;
  } catch (e) {
    throw translateSqliteError(e, file);
  }
}

export function openResult(file: string): CollectionDb {
  return openCollectionDb(file);
}
