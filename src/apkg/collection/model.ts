/**
 * Typed readers for the rows of an Anki collection, for schema 11 and 14..18.
 *
 * Notes, cards, revlog and graves have the same columns in every schema (graves changes column
 * order and key at 18; rows are read by name). Where the schemas differ — decks, deck options,
 * note types, tags and config live as JSON in `col` at schema 11 and in their own tables later —
 * there are two layers:
 *  - raw readers (`readLegacyCol`, `readDeckRows`, `readNotetypeRows`, ...) that return exactly
 *    what is stored, for code that copies rows;
 *  - schema-independent readers in ./objects.ts (`readDecks`, `readNotetypes`, `readDeckConfigs`,
 *    `readTags`, `readConfig`) that return the schema-11 JSON shapes (the shapes the sync
 *    protocol uses) whichever schema the file has.
 * Every reader expects a connection from openCollectionDb (unicase loaded).
 */
import type { CollectionDb } from '../sqlite.js';
import { parseJsonLossless } from './json.js';

/** A note (`notes` table). `tags` is space-separated with a leading and trailing space; fields are joined by \x1f. */
export interface NoteRow {
  id: number;
  guid: string;
  mid: number;
  /** Modification time in seconds. */
  mod: number;
  usn: number;
  tags: string;
  flds: string;
  /** Sort field; integer affinity, so a numeric first field comes back as a number. */
  sfld: string | number;
  csum: number;
  flags: number;
  data: string;
}

/** A card (`cards` table). */
export interface CardRow {
  id: number;
  nid: number;
  did: number;
  ord: number;
  /** Modification time in seconds. */
  mod: number;
  usn: number;
  type: number;
  queue: number;
  due: number;
  ivl: number;
  factor: number;
  reps: number;
  lapses: number;
  left: number;
  odue: number;
  odid: number;
  flags: number;
  /** JSON text (FSRS memory state, original position, ...); '' or '{}' when empty. */
  data: string;
}

/** One review (`revlog` table); `id` is the review time in ms. */
export interface RevlogRow {
  id: number;
  cid: number;
  usn: number;
  ease: number;
  ivl: number;
  lastIvl: number;
  factor: number;
  time: number;
  type: number;
}

/** A deletion record (`graves`): type 0 card, 1 note, 2 deck. */
export interface GraveRow {
  oid: number;
  type: number;
  usn: number;
}

export const GRAVE_CARD = 0;
export const GRAVE_NOTE = 1;
export const GRAVE_DECK = 2;

/** The single `col` row. At schema >= 15 the JSON columns are empty strings. */
export interface ColRow {
  id: number;
  /** Collection creation time in seconds (day boundary of the scheduler). */
  crt: number;
  /** Last modification in ms. */
  mod: number;
  /** Last schema change in ms; a change means the next sync must be a full one. */
  scm: number;
  ver: number;
  dty: number;
  usn: number;
  /** Last sync in ms; 0 = never synced. */
  ls: number;
  conf: string;
  models: string;
  decks: string;
  dconf: string;
  tags: string;
}

const NOTE_COLS = 'id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data';
const CARD_COLS = 'id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data';
const REVLOG_COLS = 'id, cid, usn, ease, ivl, lastIvl, factor, time, type';

export function readCol(db: CollectionDb): ColRow {
  return db.prepare('SELECT id, crt, mod, scm, ver, dty, usn, ls, conf, models, decks, dconf, tags FROM col LIMIT 1').get() as ColRow;
}

/** Streams notes in id order (bounded memory for large collections). */
export function iterateNotes(db: CollectionDb): IterableIterator<NoteRow> {
  return db.prepare(`SELECT ${NOTE_COLS} FROM notes ORDER BY id`).iterate() as IterableIterator<NoteRow>;
}
export function readNotes(db: CollectionDb): NoteRow[] {
  return db.prepare(`SELECT ${NOTE_COLS} FROM notes ORDER BY id`).all() as NoteRow[];
}

export function iterateCards(db: CollectionDb): IterableIterator<CardRow> {
  return db.prepare(`SELECT ${CARD_COLS} FROM cards ORDER BY id`).iterate() as IterableIterator<CardRow>;
}
export function readCards(db: CollectionDb): CardRow[] {
  return db.prepare(`SELECT ${CARD_COLS} FROM cards ORDER BY id`).all() as CardRow[];
}

export function iterateRevlog(db: CollectionDb): IterableIterator<RevlogRow> {
  return db.prepare(`SELECT ${REVLOG_COLS} FROM revlog ORDER BY id`).iterate() as IterableIterator<RevlogRow>;
}
export function readRevlog(db: CollectionDb): RevlogRow[] {
  return db.prepare(`SELECT ${REVLOG_COLS} FROM revlog ORDER BY id`).all() as RevlogRow[];
}

/** Graves sorted by (type, oid); schema 11 may hold duplicates, which are kept. */
export function readGraves(db: CollectionDb): GraveRow[] {
  return db.prepare('SELECT oid, type, usn FROM graves ORDER BY type, oid').all() as GraveRow[];
}

/** Splits a note's tags column into tags. */
export function splitTags(tags: string): string[] {
  return tags.split(/[ \u3000]+/).filter((t) => t.length > 0);
}

/** Splits a note's flds column into field values. */
export function splitFields(flds: string): string[] {
  return flds.split('\x1f');
}

// ---------------------------------------------------------------------------------------------
// Schema 11: JSON in col

/** The parsed JSON columns of a schema-11 `col` row (objects keyed by id / tag name). */
export interface LegacyCol {
  conf: Record<string, unknown>;
  models: Record<string, Record<string, unknown>>;
  decks: Record<string, Record<string, unknown>>;
  dconf: Record<string, Record<string, unknown>>;
  tags: Record<string, number>;
}

function parseObject(text: string): Record<string, never> {
  if (text === '') return {};
  const v = parseJsonLossless(text);
  return (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, never>;
}

/** Parses the JSON columns of `col` (empty objects for the columns a newer schema has moved out). */
export function readLegacyCol(db: CollectionDb): LegacyCol {
  const col = readCol(db);
  return {
    conf: parseObject(col.conf),
    models: parseObject(col.models),
    decks: parseObject(col.decks),
    dconf: parseObject(col.dconf),
    tags: parseObject(col.tags),
  };
}

// ---------------------------------------------------------------------------------------------
// Schema 14..18: own tables, protobuf blobs (decoded in ./proto.ts)

/** `decks` row; `name` is the native name with \x1f between levels. */
export interface DeckRow {
  id: number;
  name: string;
  mtime_secs: number;
  usn: number;
  common: Uint8Array;
  kind: Uint8Array;
}
export interface NotetypeRow {
  id: number;
  name: string;
  mtime_secs: number;
  usn: number;
  config: Uint8Array;
}
export interface FieldRow {
  ntid: number;
  ord: number;
  name: string;
  config: Uint8Array;
}
export interface TemplateRow {
  ntid: number;
  ord: number;
  name: string;
  mtime_secs: number;
  usn: number;
  config: Uint8Array;
}
/** `deck_config` row; at schema 14 `config` is JSON text bytes, from 15 a protobuf DeckConfig.Config. */
export interface DeckConfigRow {
  id: number;
  name: string;
  mtime_secs: number;
  usn: number;
  config: Uint8Array;
}
/** `config` row; `val` is JSON bytes. */
export interface ConfigRow {
  key: string;
  usn: number;
  mtime_secs: number;
  val: Uint8Array;
}
/** `tags` row; `collapsed` and `config` exist from schema 17. */
export interface TagRow {
  tag: string;
  usn: number;
  collapsed: number;
  config: Uint8Array | null;
}

export function readDeckRows(db: CollectionDb): DeckRow[] {
  return db.prepare('SELECT id, name, mtime_secs, usn, common, kind FROM decks ORDER BY id').all() as DeckRow[];
}
export function readNotetypeRows(db: CollectionDb): NotetypeRow[] {
  return db.prepare('SELECT id, name, mtime_secs, usn, config FROM notetypes ORDER BY id').all() as NotetypeRow[];
}
export function readFieldRows(db: CollectionDb): FieldRow[] {
  return db.prepare('SELECT ntid, ord, name, config FROM fields ORDER BY ntid, ord').all() as FieldRow[];
}
export function readTemplateRows(db: CollectionDb): TemplateRow[] {
  return db.prepare('SELECT ntid, ord, name, mtime_secs, usn, config FROM templates ORDER BY ntid, ord').all() as TemplateRow[];
}
export function readDeckConfigRows(db: CollectionDb): DeckConfigRow[] {
  return db.prepare('SELECT id, name, mtime_secs, usn, config FROM deck_config ORDER BY id').all() as DeckConfigRow[];
}
export function readConfigRows(db: CollectionDb): ConfigRow[] {
  return db.prepare('SELECT KEY AS key, usn, mtime_secs, val FROM config ORDER BY KEY').all() as ConfigRow[];
}
export function readTagRows(db: CollectionDb): TagRow[] {
  const hasCollapsed = (db.prepare("SELECT name FROM pragma_table_info('tags')").pluck().all() as string[]).includes('collapsed');
  const sql = hasCollapsed
    ? 'SELECT tag, usn, collapsed, config FROM tags ORDER BY tag COLLATE BINARY'
    : 'SELECT tag, usn, 0 AS collapsed, NULL AS config FROM tags ORDER BY tag COLLATE BINARY';
  return db.prepare(sql).all() as TagRow[];
}

/** Native deck name (\x1f between levels) to the human/schema-11 form ("A::B"). */
export function deckNameFromNative(name: string): string {
  return name.replaceAll('\x1f', '::');
}

/** The schema of an open collection, read from col.ver. */
export function schemaOf(db: CollectionDb): number {
  return db.prepare('SELECT ver FROM col').pluck().get() as number;
}
