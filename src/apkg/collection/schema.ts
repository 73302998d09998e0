/**
 * Which schema a collection file has, and whether it is whole enough to read.
 *
 * Anki's Rust core opens schema 11..18 (rslib/src/storage/upgrades/mod.rs, SCHEMA_MIN/MAX_VERSION)
 * and upgrades older ones on open. 12 and 13 were development versions no release wrote; a
 * newer Anki might one day write > 18 (the AnkiDroid fixture "schema250" is such a file).
 */
import type { CollectionDb } from '../sqlite.js';
import { translateSqliteError, UNSAFE_SCHEMA_SQL } from '../sqlite.js';
import { makeError } from '../../errors/define.js';
import { CollectionErrors } from '../../errors/codes/collection.js';

export const SCHEMA_MIN = 11;
export const SCHEMA_MAX = 18;

export interface SchemaInfo {
  ver: number;
}

/** Tables each schema must have (from Anki's schema11.sql and schema14/15/18 upgrade scripts). */
export function requiredTables(ver: number): string[] {
  const tables = ['col', 'notes', 'cards', 'revlog', 'graves'];
  if (ver >= 14) tables.push('deck_config', 'config', 'tags');
  if (ver >= 15) tables.push('fields', 'templates', 'notetypes', 'decks');
  return tables;
}

function fileOf(db: CollectionDb): string {
  return db.name;
}

/** Reads col.ver; a named error for a version we cannot read. */
export function detectSchema(db: CollectionDb): SchemaInfo {
  const file = fileOf(db);
  let row: { ver: unknown } | undefined;
  try {
    const hasCol = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'col'").get();
    if (!hasCol) throw makeError(CollectionErrors.MISSING_TABLE, { path: file, ver: 'unknown', table: 'col' });
    row = db.prepare('SELECT ver FROM col LIMIT 1').get() as { ver: unknown } | undefined;
  } catch (e) {
    throw translateSqliteError(e, file);
  }
  if (!row) throw makeError(CollectionErrors.CORRUPT, { path: file, reason: 'the col table has no row' });
  const ver = row.ver;
  if (typeof ver !== 'number' || !Number.isInteger(ver)) {
    throw makeError(CollectionErrors.CORRUPT, { path: file, reason: `col.ver is not a number (${String(ver)})` });
  }
  if (ver > SCHEMA_MAX) throw makeError(CollectionErrors.SCHEMA_TOO_NEW, { path: file, ver, max: SCHEMA_MAX });
  if (ver < SCHEMA_MIN) throw makeError(CollectionErrors.SCHEMA_TOO_OLD, { path: file, ver });
  if (ver === 12 || ver === 13) throw makeError(CollectionErrors.SCHEMA_UNSUPPORTED, { path: file, ver });
  return { ver };
}

export interface ValidateOptions {
  /**
   * 'full' runs `pragma integrity_check` (what Anki runs on a colpkg import); 'quick' runs
   * `quick_check` (no index-vs-table cross check; O(n) instead of O(n log n)). Default 'full'.
   */
  check?: 'full' | 'quick';
}

/**
 * Checks that a collection is whole: SQLite's integrity check passes, the schema is one we read,
 * all tables of that schema exist, there is exactly one col row, and there are no triggers,
 * views or virtual tables (Anki never makes them; in a file from outside they could run code).
 * Run it with the unicase collation loaded (openCollectionDb does), or the check of the
 * schema-18 name indexes fails with "no such collation sequence".
 */
export function validateCollection(db: CollectionDb, opts: ValidateOptions = {}): SchemaInfo {
  const file = fileOf(db);
  try {
    const unsafe = db.prepare(UNSAFE_SCHEMA_SQL).get() as { type: string; name: string } | undefined;
    if (unsafe) throw makeError(CollectionErrors.UNSAFE_SCHEMA, { path: file, kind: unsafe.type, name: unsafe.name });
    const pragma = opts.check === 'quick' ? 'quick_check' : 'integrity_check';
    const result = db.pragma(`${pragma}(20)`, { simple: false }) as Array<Record<string, string>>;
    const lines = result.map((r) => Object.values(r)[0] ?? '');
    if (!(lines.length === 1 && lines[0] === 'ok')) {
      throw makeError(CollectionErrors.CORRUPT, { path: file, reason: `${pragma} reports: ${lines.join('; ').slice(0, 500)}` });
    }
  } catch (e) {
    throw translateSqliteError(e, file);
  }
  const info = detectSchema(db);
  const present = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).map((n) => n.toLowerCase()),
  );
  for (const table of requiredTables(info.ver)) {
    if (!present.has(table)) throw makeError(CollectionErrors.MISSING_TABLE, { path: file, ver: info.ver, table });
  }
  const cols = db.prepare('SELECT count(*) FROM col').pluck().get() as number;
  if (cols !== 1) throw makeError(CollectionErrors.CORRUPT, { path: file, reason: `the col table has ${cols} rows instead of 1` });
  if (info.ver < 15) checkLegacyJson(db, file, info.ver);
  return info;
}

/** Schema 11 keeps decks, note types, deck options and config as JSON text in col. */
function checkLegacyJson(db: CollectionDb, file: string, ver: number): void {
  const row = db.prepare('SELECT conf, models, decks, dconf, tags FROM col').get() as Record<string, unknown>;
  const columns = ver >= 14 ? ['models', 'decks'] : ['conf', 'models', 'decks', 'dconf', 'tags'];
  for (const column of columns) {
    const text = row[column];
    let parsed: unknown;
    try {
      parsed = typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw makeError(CollectionErrors.CORRUPT, { path: file, reason: `col.${column} is not a JSON object` });
    }
  }
}
