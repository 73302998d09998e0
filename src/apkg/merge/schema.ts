/**
 * The merge works on schema 18 (what Anki and AnkiDroid write today). Older inputs are
 * converted into the merge's scratch folder first; the input file itself is never touched.
 */
import Database from 'better-sqlite3';
import { makeError } from '../../errors/define.js';
import { MergeErrors } from '../../errors/codes/merge.js';
import { readSqliteHeader, translateSqliteError } from '../sqlite.js';
import { detectSchema } from '../collection/schema.js';
import { upgradeToSchema18 } from '../collection/convert.js';
import path from 'node:path';
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

/**
 * Returns a schema-18 file with the content of `file` (the file itself when it already is;
 * else a conversion in `scratch`, made by the collection engineer's upgradeToSchema18, which
 * does what Anki does when it opens an older file).
 */
export function ensureSchema18(file: string, role: Role, scratch: string): string {
  const ver = schemaVersion(file);
  if (ver === 18) return file;
  if (ver < 11 || ver > 18) throw makeError(MergeErrors.UNSUPPORTED_SCHEMA, { side: role, ver });
  const out = path.join(scratch, `${role}-schema18.anki2`);
  upgradeToSchema18(file, out);
  return out;
}
