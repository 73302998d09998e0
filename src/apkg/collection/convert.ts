/**
 * Schema conversion of a collection file: 11 (JSON in `col`) <-> 18 (own tables, protobuf
 * configs). The source is never touched: it is copied to `<out>.tmp-<random>` next to the
 * output, converted there in one transaction, checked, fsynced and renamed over `out`.
 *
 * upgradeToSchema18 does what Anki's Rust core does when it opens an older file (steps of
 * rslib/src/storage/upgrades/mod.rs: 14 config/deck options/tags tables, 15 note types and
 * decks, 16 deck option ease fix, 17 tag rows with a collapsed flag, 18 graves keyed by
 * (oid, type)); downgradeToSchema11 does what Anki's close(V11) does for a legacy export.
 *
 * The source must be a closed collection file: a `-wal` file beside it is not read (a package's
 * extracted collection never has one; for a live profile, checkpoint or copy with the package
 * reader first).
 */
import { chmodSync, closeSync, copyFileSync, existsSync, openSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { CollectionErrors } from '../../errors/codes/collection.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { openCollectionDb, readSqliteHeader, type CollectionDb } from '../sqlite.js';
import { validateCollection } from './schema.js';
import { decodeMessage, encodeMessage } from './protobuf.js';
import { DeckCommon, DeckConfigConfig, DeckKindContainer, FieldConfig, NotetypeConfig, TemplateConfig } from './proto-specs.js';
import { deckConfigFromJson, deckConfigToJson, deckFromJson, humanDeckName, notetypeFromJson, upgradeInitialEase, type Json } from './legacy-json.js';
import { readConfig, readDeckConfigParts, readDeckConfigs, readDecks, readNotetypes, readTags } from './objects.js';
import { readLegacyCol } from './model.js';
import { parseJsonLossless, stringifyJsonLossless } from './json.js';
import { fsyncDir, fsyncFile } from '../fs-durable.js';

// Table definitions of schema 14..18 (the on-disk format Anki expects; from its upgrade scripts).
const SCHEMA14_TABLES = `
CREATE TABLE deck_config (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
CREATE TABLE config (KEY text NOT NULL PRIMARY KEY, usn integer NOT NULL, mtime_secs integer NOT NULL, val blob NOT NULL) without rowid;
`;
const SCHEMA15_TABLES = `
CREATE TABLE fields (ntid integer NOT NULL, ord integer NOT NULL, name text NOT NULL COLLATE unicase, config blob NOT NULL, PRIMARY KEY (ntid, ord)) without rowid;
CREATE UNIQUE INDEX idx_fields_name_ntid ON fields (name, ntid);
CREATE TABLE templates (ntid integer NOT NULL, ord integer NOT NULL, name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL, PRIMARY KEY (ntid, ord)) without rowid;
CREATE UNIQUE INDEX idx_templates_name_ntid ON templates (name, ntid);
CREATE INDEX idx_templates_usn ON templates (usn);
CREATE TABLE notetypes (id integer NOT NULL PRIMARY KEY, name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
CREATE UNIQUE INDEX idx_notetypes_name ON notetypes (name);
CREATE INDEX idx_notetypes_usn ON notetypes (usn);
CREATE TABLE decks (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL, common blob NOT NULL, kind blob NOT NULL);
CREATE UNIQUE INDEX idx_decks_name ON decks (name);
CREATE INDEX idx_notes_mid ON notes (mid);
CREATE INDEX idx_cards_odid ON cards (odid) WHERE odid != 0;
`;
const SCHEMA17_TAGS = `CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer NOT NULL, collapsed boolean NOT NULL, config blob NULL) without rowid;`;
const SCHEMA18_GRAVES = `
ALTER TABLE graves RENAME TO graves_old;
CREATE TABLE graves (oid integer NOT NULL, type integer NOT NULL, usn integer NOT NULL, PRIMARY KEY (oid, type)) WITHOUT ROWID;
INSERT OR IGNORE INTO graves (oid, type, usn) SELECT oid, type, usn FROM graves_old;
DROP TABLE graves_old;
CREATE INDEX idx_graves_pending ON graves (usn);
`;
const SCHEMA11_GRAVES = `
ALTER TABLE graves RENAME TO graves_old;
CREATE TABLE graves (usn integer NOT NULL, oid integer NOT NULL, type integer NOT NULL);
INSERT INTO graves (usn, oid, type) SELECT usn, oid, type FROM graves_old;
DROP TABLE graves_old;
`;
const SCHEMA11_DROP = `
DROP TABLE IF EXISTS config; DROP TABLE IF EXISTS deck_config; DROP TABLE IF EXISTS tags; DROP TABLE IF EXISTS fields;
DROP TABLE IF EXISTS templates; DROP TABLE IF EXISTS notetypes; DROP TABLE IF EXISTS decks;
DROP INDEX IF EXISTS idx_cards_odid; DROP INDEX IF EXISTS idx_notes_mid;
`;

/** usn Anki gives a change made on a client (not a sync server): "not yet synced". */
const CLIENT_USN = -1;

export interface ConvertOptions {
  /**
   * How the source is checked before conversion: 'full' (default) runs `pragma integrity_check`
   * (as Anki does on a colpkg import); 'quick' runs `quick_check`, for a source the caller has
   * already validated in full (e.g. a package it just opened). Triggers, views, virtual tables,
   * schema and tables are checked either way.
   */
  check?: 'full' | 'quick';
}

export function upgradeToSchema18(srcFile: string, outFile: string, opts: ConvertOptions = {}): void {
  convert(srcFile, outFile, 18, opts, (db, ver) => upgradeSteps(db, ver));
}

export function downgradeToSchema11(srcFile: string, outFile: string, opts: ConvertOptions = {}): void {
  convert(srcFile, outFile, 11, opts, (db, ver) => downgradeSteps(db, ver));
}

// ---------------------------------------------------------------------------------------------

function convert(srcFile: string, outFile: string, to: 11 | 18, opts: ConvertOptions, steps: (db: CollectionDb, ver: number) => void): void {
  if (!existsSync(srcFile)) throw makeError(GeneralErrors.FILE_NOT_FOUND, { path: srcFile });
  if (existsSync(outFile) && realpathSync(outFile) === realpathSync(srcFile)) {
    throw makeError(CollectionErrors.OUTPUT_IS_SOURCE, { path: srcFile });
  }
  readSqliteHeader(srcFile); // NOT_SQLITE before anything is written
  const tmp = `${outFile}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    copyFileSync(srcFile, tmp);
    chmodSync(tmp, 0o644); // the copy keeps the source's mode, which may be read-only
    toRollbackJournal(tmp);
    const db = openCollectionDb(tmp, { untrusted: true });
    try {
      // Anki's 40 MB page cache (its connections use it): the full check and the rewrite of
      // every table read and write each page several times; the default 2 MB cache rereads them.
      db.pragma('cache_size = -40960');
      const { ver } = validateCollection(db, { check: opts.check ?? 'full' });
      db.pragma('journal_mode = DELETE');
      db.pragma('foreign_keys = OFF');
      try {
        db.transaction(() => steps(db, ver)).exclusive();
      } catch (e) {
        if (e instanceof Error && 'hint' in e) throw e;
        throw makeError(CollectionErrors.CONVERT_FAILED, { path: srcFile, to, reason: e instanceof Error ? e.message : String(e) }, e);
      }
      // the source passed the check above; a quick_check of the result (page and record
      // structure, not every index entry) guards our own writes at a fraction of the cost
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw makeError(CollectionErrors.CONVERT_FAILED, { path: srcFile, to, reason: `quick_check after conversion: ${String(check)}` });
    } finally {
      db.close();
    }
    fsyncFile(tmp);
    renameSync(tmp, outFile);
    fsyncDir(path.dirname(path.resolve(outFile)));
  } catch (e) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-journal`, { force: true });
    throw fsError(e, outFile);
  }
}

/** File-system failures (no space, no folder, no permission) as catalogued errors. */
function fsError(e: unknown, file: string): unknown {
  if (e instanceof Error && 'hint' in e) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return makeError(GeneralErrors.DISK_FULL, { path: file }, e);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return makeError(GeneralErrors.IO, { operation: 'write', path: file, reason: (e as Error).message }, e);
  }
  return e;
}

/**
 * A WAL-mode header (bytes 18/19 = 2) on a copy made without its -wal file is switched to
 * rollback mode (1/1), which is what `journal_mode = DELETE` writes; the copy is then one
 * self-contained file and no -wal/-shm is created beside the output.
 */
function toRollbackJournal(file: string): void {
  if (!readSqliteHeader(file).wal) return;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.from([1, 1]), 0, 2, 18);
  } finally {
    closeSync(fd);
  }
}


// ---------------------------------------------------------------------------------------------
// upgrade

function upgradeSteps(db: CollectionDb, ver: number): void {
  if (ver === 18) return;
  const nowSecs = Math.floor(Date.now() / 1000);
  const legacy = readLegacyCol(db);
  const resetEaseConfigs: number[] = [];

  if (ver < 14) {
    db.exec(SCHEMA14_TABLES);
    db.exec('CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer NOT NULL) without rowid;');
    const addTag = db.prepare('INSERT OR IGNORE INTO tags (tag, usn) VALUES (?, ?)');
    for (const [tag, usn] of Object.entries(legacy.tags)) addTag.run(tag, Number(usn) | 0);
    // config keys get usn 0 and mtime 0, as in Anki's upgrade
    const addConfig = db.prepare('INSERT INTO config (KEY, usn, mtime_secs, val) VALUES (?, 0, 0, ?)');
    for (const [key, value] of Object.entries(legacy.conf)) addConfig.run(key, Buffer.from(stringifyJsonLossless(value), 'utf8'));
    db.exec("UPDATE col SET conf = '', tags = '', dconf = ''");
  }

  if (ver < 15) {
    db.exec(SCHEMA15_TABLES);
    writeNotetypesFromJson(db, legacy.models);
    writeDecksFromJson(db, legacy.decks, nowSecs);
    // deck options: JSON (col.dconf at 11, the deck_config blob at 14) -> protobuf
    const sources: Array<[Json, string | undefined]> =
      ver < 14
        ? Object.entries(legacy.dconf).map(([k, v]): [Json, string] => [v, k])
        : (db.prepare('SELECT config FROM deck_config').pluck().all() as Buffer[]).map((b): [Json, undefined] => [parseJsonLossless(b.toString('utf8')) as Json, undefined]);
    db.exec('DELETE FROM deck_config');
    const add = db.prepare('INSERT INTO deck_config (id, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?)');
    for (const [json, key] of sources) {
      const p = deckConfigFromJson(json, key);
      const [ease, reset] = upgradeInitialEase(p.config.initialEase as number);
      p.config.initialEase = ease;
      if (reset) resetEaseConfigs.push(p.id);
      add.run(p.id, p.name, p.mtimeSecs, p.usn, encodeMessage(DeckConfigConfig, p.config));
    }
    db.exec("UPDATE col SET models = '', decks = ''");
    // Anki's schema-15 step ends with ANALYZE (statistics for its query planner); sampled
    // statistics are as good for that and several times cheaper on large collections
    db.pragma('analysis_limit = 1000');
    db.exec('ANALYZE');
  } else if (ver === 15) {
    // schema 15 stored the starting ease x100
    const update = db.prepare('UPDATE deck_config SET config = ? WHERE id = ?');
    for (const p of readDeckConfigParts(db)) {
      let ease = Math.fround((p.config.initialEase as number) / 100);
      if (ease <= Math.fround(1.3)) {
        ease = 2.5;
        resetEaseConfigs.push(p.id);
      }
      p.config.initialEase = ease;
      update.run(encodeMessage(DeckConfigConfig, p.config), p.id);
    }
  }
  if (resetEaseConfigs.length > 0) fixLowCardEases(db, resetEaseConfigs);

  if (ver < 17) {
    const tags = db.prepare('SELECT tag, usn FROM tags').all() as Array<{ tag: string; usn: number }>;
    db.exec('DROP TABLE tags');
    db.exec(SCHEMA17_TAGS);
    // a tag of an upgraded collection starts collapsed (Anki: collapsed = !expanded, expanded = false)
    const add = db.prepare('INSERT OR REPLACE INTO tags (tag, usn, collapsed) VALUES (?, ?, 1)');
    for (const t of tags) add.run(t.tag, t.usn);
  }
  if (ver < 18) db.exec(SCHEMA18_GRAVES);
  db.exec('UPDATE col SET ver = 18');
}

/** Inserts a name into a unique unicase index, adding `suffix` until it is unique, as Anki does. */
function insertUnique(insert: (name: string) => void, name: string, suffix: string): string {
  for (let candidate = name; ; candidate += suffix) {
    try {
      insert(candidate);
      return candidate;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw e;
    }
  }
}

/** Unicase-equal names get `suffix` until unique (Anki's ensure_names_unique for fields/templates). */
function uniqueNames(db: CollectionDb, names: string[], suffix: string): string[] {
  const seen: string[] = [];
  const equal = db.prepare('SELECT ? = ? COLLATE unicase').pluck();
  for (const n of names) {
    let candidate = n;
    while (seen.some((s) => equal.get(s, candidate) === 1)) candidate += suffix;
    seen.push(candidate);
  }
  return seen;
}

function writeNotetypesFromJson(db: CollectionDb, models: Record<string, Json>): void {
  const addNt = db.prepare('INSERT INTO notetypes (id, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?)');
  const addField = db.prepare('INSERT INTO fields (ntid, ord, name, config) VALUES (?, ?, ?, ?)');
  const addTemplate = db.prepare('INSERT INTO templates (ntid, ord, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?, ?)');
  const entries = Object.entries(models).sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const [key, json] of entries) {
    const nt = notetypeFromJson(json);
    let ntid = Number(key);
    if (!Number.isSafeInteger(ntid)) throw new Error(`note type key ${key} is not a number`);
    if (ntid === 0) {
      // Anki gives a note type with id 0 a random id
      ntid = (randomBytes(4).readUInt32LE(0) >>> 1) || 1;
      nt.id = ntid;
    }
    const fieldNames = uniqueNames(db, nt.fields.map((f) => f.name.normalize('NFC')), '+');
    const templateNames = uniqueNames(db, nt.templates.map((t) => t.name.normalize('NFC')), '+');
    insertUnique((name) => addNt.run(nt.id, name, nt.mtimeSecs, nt.usn, encodeMessage(NotetypeConfig, nt.config)), nt.name.normalize('NFC'), '_');
    nt.fields.forEach((f, ord) => addField.run(ntid, ord, fieldNames[ord], encodeMessage(FieldConfig, f.config)));
    nt.templates.forEach((t, ord) => addTemplate.run(ntid, ord, templateNames[ord], t.mtimeSecs, t.usn, encodeMessage(TemplateConfig, t.config)));
  }
}

function writeDecksFromJson(db: CollectionDb, decks: Record<string, Json>, nowSecs: number): void {
  const add = db.prepare('INSERT INTO decks (id, name, mtime_secs, usn, common, kind) VALUES (?, ?, ?, ?, ?, ?)');
  const list = Object.values(decks).sort((a, b) => Number(a.id) - Number(b.id));
  for (const json of list) {
    const d = deckFromJson(json);
    // a name Anki had to normalise, or make unique, marks the deck as changed
    let modified = humanDeckName(d.name) !== String(json.name);
    const common = encodeMessage(DeckCommon, d.common);
    const kind = encodeMessage(DeckKindContainer, d.kind);
    insertUnique((name) => {
      const changed = modified || name !== d.name;
      add.run(d.id, name, changed ? nowSecs : d.mtimeSecs, changed ? CLIENT_USN : d.usn, common, kind);
      modified = changed;
    }, d.name, '_');
  }
}

/** Cards left with a low ease by the schema-15 default-ease bug get 2500 again (Anki's fix_low_ease.sql). */
function fixLowCardEases(db: CollectionDb, configIds: number[]): void {
  const configs = new Set(configIds);
  // read from the decks table itself: during an upgrade col.ver still names the old schema
  const affected = (db.prepare('SELECT id, kind FROM decks').all() as Array<{ id: number; kind: Uint8Array }>)
    .filter((d) => {
      const normal = decodeMessage(DeckKindContainer, d.kind).normal as { configId: number } | undefined;
      return normal !== undefined && configs.has(normal.configId);
    })
    .map((d) => d.id);
  if (affected.length === 0) return;
  const list = affected.join(',');
  db.prepare(`UPDATE cards SET factor = 2500, usn = ? WHERE factor != 0 AND factor <= 2000 AND (did IN (${list}) OR odid IN (${list}))`).run(CLIENT_USN);
}

// ---------------------------------------------------------------------------------------------
// downgrade

function downgradeSteps(db: CollectionDb, ver: number): void {
  if (ver === 11) return;
  const byId = (items: Json[]) => stringifyJsonLossless(Object.fromEntries(items.map((o) => [String(o.id), o])));
  // schema 15 stored the starting ease x100
  const dconf =
    ver === 15
      ? byId(readDeckConfigParts(db).map((p) => deckConfigToJson({ ...p, config: { ...p.config, initialEase: Math.fround((p.config.initialEase as number) / 100) } })))
      : byId(readDeckConfigs(db));
  const decks = ver >= 15 ? byId(readDecks(db)) : stringifyJsonLossless(readLegacyCol(db).decks);
  const models = ver >= 15 ? byId(readNotetypes(db)) : stringifyJsonLossless(readLegacyCol(db).models);
  const conf = stringifyJsonLossless(readConfig(db));
  const tags = stringifyJsonLossless(Object.fromEntries(readTags(db).map((t) => [t.tag, t.usn])));
  if (ver >= 18) db.exec(SCHEMA11_GRAVES);
  db.exec(SCHEMA11_DROP);
  db.prepare('UPDATE col SET ver = 11, conf = ?, models = ?, decks = ?, dconf = ?, tags = ?').run(conf, models, decks, dconf, tags);
}
