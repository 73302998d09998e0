/**
 * Note types, decks, deck options, tags and config, whichever schema stores them:
 *  - as "parts" (the decoded schema-18 form: row columns + decoded protobuf configs), used by the
 *    converter and the fingerprint;
 *  - as schema-11 JSON shapes (the shapes the sync protocol and col.models/decks/dconf use), for
 *    merge and cloud code.
 */
import { translateSqliteError, type CollectionDb } from '../sqlite.js';
import { makeError } from '../../errors/define.js';
import { CollectionErrors } from '../../errors/codes/collection.js';
import { decodeMessage } from './protobuf.js';
import { DeckCommon, DeckConfigConfig, DeckKindContainer, FieldConfig, NotetypeConfig, TemplateConfig } from './proto-specs.js';
import {
  deckConfigFromJson,
  deckConfigToJson,
  deckFromJson,
  deckToJson,
  notetypeFromJson,
  notetypeToJson,
  upgradeInitialEase,
  type DeckConfigParts,
  type DeckParts,
  type Json,
  type NotetypeParts,
} from './legacy-json.js';
import {
  readConfigRows,
  readDeckConfigRows,
  readDeckRows,
  readFieldRows,
  readLegacyCol,
  readNotetypeRows,
  readTagRows,
  readTemplateRows,
  schemaOf,
} from './model.js';
import { parseJsonLossless } from './json.js';

export type { DeckConfigParts, DeckParts, NotetypeParts } from './legacy-json.js';

// ---------------------------------------------------------------------------------------------
// parts

function readNotetypePartsUnguarded(db: CollectionDb): NotetypeParts[] {
  if (schemaOf(db) < 15) {
    return Object.entries(readLegacyCol(db).models)
      .map(([key, json]) => ({ ...notetypeFromJson(json), id: Number(key) || Number(json.id) }))
      .sort((a, b) => a.id - b.id);
  }
  const fields = readFieldRows(db);
  const templates = readTemplateRows(db);
  return readNotetypeRows(db).map((n) => ({
    id: n.id,
    name: n.name,
    mtimeSecs: n.mtime_secs,
    usn: n.usn,
    config: decodeMessage(NotetypeConfig, n.config),
    fields: fields.filter((f) => f.ntid === n.id).map((f) => ({ name: f.name, ord: f.ord, config: decodeMessage(FieldConfig, f.config) })),
    templates: templates
      .filter((t) => t.ntid === n.id)
      .map((t) => ({ name: t.name, ord: t.ord, mtimeSecs: t.mtime_secs, usn: t.usn, config: decodeMessage(TemplateConfig, t.config) })),
  }));
}

function readDeckPartsUnguarded(db: CollectionDb): DeckParts[] {
  if (schemaOf(db) < 15) {
    return Object.values(readLegacyCol(db).decks)
      .map((d) => deckFromJson(d))
      .sort((a, b) => a.id - b.id);
  }
  return readDeckRows(db).map((d) => ({
    id: d.id,
    name: d.name,
    mtimeSecs: d.mtime_secs,
    usn: d.usn,
    common: decodeMessage(DeckCommon, d.common),
    kind: decodeMessage(DeckKindContainer, d.kind),
  }));
}

/**
 * Deck options in schema-18 form. From a schema-11/14 file the ease goes through the same
 * schema 15/16 steps Anki applies, so both read the same.
 */
function readDeckConfigPartsUnguarded(db: CollectionDb): DeckConfigParts[] {
  const ver = schemaOf(db);
  const fromJson = (json: Json, key?: string): DeckConfigParts => {
    const p = deckConfigFromJson(json, key);
    p.config.initialEase = upgradeInitialEase(p.config.initialEase as number)[0];
    return p;
  };
  if (ver < 14) {
    return Object.entries(readLegacyCol(db).dconf)
      .map(([key, json]) => fromJson(json, key))
      .sort((a, b) => a.id - b.id);
  }
  return readDeckConfigRows(db).map((r) => {
    if (ver === 14) return fromJson(parseJsonLossless(Buffer.from(r.config).toString('utf8')) as Json);
    return { id: r.id, name: r.name, mtimeSecs: r.mtime_secs, usn: r.usn, config: decodeMessage(DeckConfigConfig, r.config) };
  });
}

// ---------------------------------------------------------------------------------------------
// schema-11 JSON shapes

/** Note types as schema-11 JSON (`col.models` values), sorted by id. */
function readNotetypesUnguarded(db: CollectionDb): Json[] {
  if (schemaOf(db) < 15) return Object.values(readLegacyCol(db).models).sort(byId);
  return readNotetypeParts(db).map(notetypeToJson);
}

/** Decks as schema-11 JSON (`col.decks` values, names with "::"), sorted by id. */
function readDecksUnguarded(db: CollectionDb): Json[] {
  if (schemaOf(db) < 15) return Object.values(readLegacyCol(db).decks).sort(byId);
  return readDeckParts(db).map(deckToJson);
}

/** Deck options as schema-11 JSON (`col.dconf` values), sorted by id. */
function readDeckConfigsUnguarded(db: CollectionDb): Json[] {
  const ver = schemaOf(db);
  if (ver < 14) return Object.values(readLegacyCol(db).dconf).sort(byId);
  if (ver === 14) return readDeckConfigRows(db).map((r) => parseJsonLossless(Buffer.from(r.config).toString('utf8')) as Json);
  return readDeckConfigParts(db).map(deckConfigToJson);
}

export interface TagInfo {
  tag: string;
  usn: number;
  /** Collapsed in the browser's sidebar (schema 17+; schema 11 has no such state: false). */
  collapsed: boolean;
}

/** Tags in binary order of their names. */
function readTagsUnguarded(db: CollectionDb): TagInfo[] {
  if (schemaOf(db) < 14) {
    return Object.entries(readLegacyCol(db).tags)
      .map(([tag, usn]) => ({ tag, usn: Number(usn), collapsed: false }))
      .sort(byUtf8Tag);
  }
  return readTagRows(db)
    .map((t) => ({ tag: t.tag, usn: t.usn, collapsed: t.collapsed !== 0 }))
    .sort(byUtf8Tag);
}

/** Collection config (`col.conf` at schema 11, the `config` table later) as one object. */
function readConfigUnguarded(db: CollectionDb): Record<string, unknown> {
  if (schemaOf(db) < 14) return readLegacyCol(db).conf;
  const out: Record<string, unknown> = {};
  for (const r of readConfigRows(db)) out[r.key] = parseJsonLossless(Buffer.from(r.val).toString('utf8'));
  return out;
}

/** Byte order of the UTF-8 names (SQLite's BINARY order), whichever schema the tags came from. */
function byUtf8Tag(a: TagInfo, b: TagInfo): number {
  return Buffer.compare(Buffer.from(a.tag, 'utf8'), Buffer.from(b.tag, 'utf8'));
}

function byId(a: Json, b: Json): number {
  return Number(a.id) - Number(b.id);
}

// ---------------------------------------------------------------------------------------------
// canonical form for the fingerprint

export interface CanonicalObjects {
  decks: unknown[];
  deckConfigs: unknown[];
  noteTypes: unknown[];
  tags: string[];
  config: Array<[string, unknown]>;
}

/**
 * Config keys left out of the digest. Empty so far: a real export + import round trip through
 * Anki keeps every key (test/apkg/collection/fingerprint.test.ts checks it).
 */
export const VOLATILE_CONFIG_KEYS: ReadonlySet<string> = new Set([]);

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v instanceof Uint8Array) return otherJson(v);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** `other` bytes hold JSON; compared parsed, so key order inside them does not matter. */
function otherJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return sortKeys(parseJsonLossless(Buffer.from(bytes).toString('utf8')));
  } catch {
    return Buffer.from(bytes).toString('hex');
  }
}

/**
 * Every object in its decoded schema-18 form, without usn (sync bookkeeping) and without
 * template mtimes (Anki's upgrade zeroes them and a downgrade drops them; a template change
 * also bumps its note type's mtime, which is kept). Same result for a schema-11 and a schema-18
 * copy of the same collection.
 */
function canonicalObjectsUnguarded(db: CollectionDb): CanonicalObjects {
  const decks = readDeckParts(db).map((d) => sortKeys({ id: d.id, name: d.name, mtime: d.mtimeSecs, common: d.common, kind: d.kind }));
  const deckConfigs = readDeckConfigParts(db).map((c) => sortKeys({ id: c.id, name: c.name, mtime: c.mtimeSecs, config: c.config }));
  const noteTypes = readNotetypeParts(db).map((n) =>
    sortKeys({
      id: n.id,
      name: n.name,
      mtime: n.mtimeSecs,
      config: n.config,
      fields: n.fields.map((f) => ({ name: f.name, config: f.config })),
      templates: n.templates.map((t) => ({ name: t.name, config: t.config })),
    }),
  );
  const tags = readTags(db).map((t) => t.tag);
  const conf = readConfig(db);
  const config = Object.keys(conf)
    .sort()
    .filter((k) => !VOLATILE_CONFIG_KEYS.has(k))
    .map((k): [string, unknown] => [k, sortKeys(conf[k])]);
  return { decks, deckConfigs, noteTypes, tags, config };
}

// ---------------------------------------------------------------------------------------------
// Every reader turns bad data (malformed JSON or protobuf, wrong types) into COLLECTION_CORRUPT,
// so code reading a collection from outside gets a catalogued error, never a stray TypeError.

function guarded<R>(fn: (db: CollectionDb) => R): (db: CollectionDb) => R {
  return (db) => {
    try {
      return fn(db);
    } catch (e) {
      if (e instanceof Error && 'hint' in e) throw e;
      if ((e as { code?: string }).code?.startsWith('SQLITE_')) throw translateSqliteError(e, db.name);
      throw makeError(CollectionErrors.CORRUPT, { path: db.name, reason: e instanceof Error ? e.message : String(e) }, e);
    }
  };
}

export const readNotetypeParts = guarded(readNotetypePartsUnguarded);
export const readDeckParts = guarded(readDeckPartsUnguarded);
export const readDeckConfigParts = guarded(readDeckConfigPartsUnguarded);
export const readNotetypes = guarded(readNotetypesUnguarded);
export const readDecks = guarded(readDecksUnguarded);
export const readDeckConfigs = guarded(readDeckConfigsUnguarded);
export const readTags = guarded(readTagsUnguarded);
export const readConfig = guarded(readConfigUnguarded);
export const canonicalObjects = guarded(canonicalObjectsUnguarded);
