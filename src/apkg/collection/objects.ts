/**
 * Decks, deck options, note types, tags and config in one canonical form, whichever schema
 * stores them, for the fingerprint digest.
 *
 * Interim form (until the protobuf layer lands): schema >= 15 rows are taken as stored (blobs
 * as bytes), schema 11/14 JSON objects as parsed; usn is left out in both.
 */
import type { CollectionDb } from '../sqlite.js';
import { readConfigRows, readDeckConfigRows, readDeckRows, readFieldRows, readLegacyCol, readNotetypeRows, readTagRows, readTemplateRows, schemaOf } from './model.js';

export interface CanonicalObjects {
  decks: unknown[];
  deckConfigs: unknown[];
  noteTypes: unknown[];
  tags: string[];
  config: Array<[string, unknown]>;
}

/** Keys Anki writes by itself (not a user's change); left out of the digest. */
export const VOLATILE_CONFIG_KEYS: ReadonlySet<string> = new Set([]);

function withoutUsn(o: Record<string, unknown>): Record<string, unknown> {
  const { usn: _usn, ...rest } = o;
  return sortKeys(rest) as Record<string, unknown>;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

function byId(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return Number(a.id) - Number(b.id);
}

export function canonicalObjects(db: CollectionDb): CanonicalObjects {
  const ver = schemaOf(db);
  const legacy = readLegacyCol(db);
  const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : null);
  let decks: unknown[];
  let noteTypes: unknown[];
  let deckConfigs: unknown[];
  let tags: string[];
  let config: Array<[string, unknown]>;
  if (ver >= 15) {
    decks = readDeckRows(db).map((d) => [d.id, d.name, d.mtime_secs, hex(d.common), hex(d.kind)]);
    const fields = readFieldRows(db);
    const templates = readTemplateRows(db);
    noteTypes = readNotetypeRows(db).map((n) => [
      n.id, n.name, n.mtime_secs, hex(n.config),
      fields.filter((f) => f.ntid === n.id).map((f) => [f.ord, f.name, hex(f.config)]),
      templates.filter((t) => t.ntid === n.id).map((t) => [t.ord, t.name, t.mtime_secs, hex(t.config)]),
    ]);
  } else {
    decks = Object.values(legacy.decks).sort(byId).map(withoutUsn);
    noteTypes = Object.values(legacy.models).sort(byId).map(withoutUsn);
  }
  if (ver >= 14) {
    deckConfigs = readDeckConfigRows(db).map((c) => [c.id, c.name, c.mtime_secs, hex(c.config)]);
    tags = readTagRows(db).map((t) => t.tag);
    config = readConfigRows(db)
      .filter((c) => !VOLATILE_CONFIG_KEYS.has(c.key))
      .map((c) => [c.key, sortKeys(JSON.parse(Buffer.from(c.val).toString('utf8')))]);
  } else {
    deckConfigs = Object.values(legacy.dconf).sort(byId).map(withoutUsn);
    tags = Object.keys(legacy.tags).sort();
    config = Object.keys(legacy.conf)
      .sort()
      .filter((k) => !VOLATILE_CONFIG_KEYS.has(k))
      .map((k) => [k, sortKeys(legacy.conf[k])]);
  }
  return { decks, deckConfigs, noteTypes, tags, config };
}
