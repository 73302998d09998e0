/**
 * A content fingerprint of a collection: cheap to compute, and equal for two copies of a
 * collection exactly when what a user studies and edits is equal.
 *
 * It does NOT use file times, col.mod or col.ls: a colpkg import (Anki or AnkiDroid) resets
 * col.mod and col.scm to "now", and a sync rewrites usn/ls, without any change to the content.
 *
 * What the digest covers (sha256 over FINGERPRINT_VERSION, then one section per item below in
 * this order, one line per row in key order; notes/cards/revlog rows are SQLite quote() of each
 * column joined by ',', the rest JSON with sorted keys):
 *  - `crt` (collection creation day: due numbers of review cards are days since crt);
 *  - notes: id, guid, mid, mod, tags, flds, flags, data — not usn, and not sfld/csum (derived
 *    from flds by Anki);
 *  - cards: every column but usn;
 *  - revlog: every column but usn;
 *  - graves: (type, oid) — what was deleted — not usn;
 *  - decks, deck options, note types (with fields and templates): see ./objects.ts
 *    `canonicalObjects`: id, name, modification time and the whole definition, without usn;
 *  - tags: the tag names (a tag's "collapsed" flag in the browser is view state, not content);
 *  - config: every key and value, except keys Anki rewrites by itself when a collection is
 *    opened, imported or synced (VOLATILE_CONFIG_KEYS in ./objects.ts; empty so far: a real
 *    export + import through Anki keeps every key, see test/apkg/collection/fingerprint.test.ts).
 * Why these: they are what Anki's sync transfers and what a user would miss; usn, ls, mod and
 * scm are bookkeeping that changes without any change of content.
 * The digest is the same for a schema-11 and a schema-18 copy of the same content: objects are
 * digested in one canonical form whichever schema stores them (see ./objects.ts).
 *
 * `scm` and `newestRevlogId` are reported beside the digest: scm tells the caller whether a
 * one-way (full) sync is needed; it is deliberately not part of "same content" (an import
 * bumps it). Cost: one pass over notes, cards and revlog inside SQLite, ~linear in their size.
 */
import { createHash, type Hash } from 'node:crypto';
import type { CollectionDb } from '../sqlite.js';
import { readCol } from './model.js';
import { canonicalObjects } from './objects.js';

export interface FingerprintCounts {
  notes: number;
  cards: number;
  revlog: number;
  graves: number;
  decks: number;
  deckConfigs: number;
  noteTypes: number;
  tags: number;
}

export interface Fingerprint {
  schema: number;
  scm: number;
  /** Newest review (max revlog id, ms), null when there are no reviews. */
  newestRevlogId: number | null;
  counts: FingerprintCounts;
  /** sha256 hex over the rows that matter (see the file comment); independent of usn/ls/mod. */
  digest: string;
}

/** Bumped whenever what the digest covers changes, so stored fingerprints are not compared across versions. */
export const FINGERPRINT_VERSION = 'ankibridge-fingerprint-3';

function hashRows(hash: Hash, section: string, rows: Iterable<unknown[]>): number {
  hash.update(`\n#${section}\n`);
  let n = 0;
  for (const row of rows) {
    hash.update(JSON.stringify(row, blobAsHex));
    hash.update('\n');
    n++;
  }
  return n;
}

function blobAsHex(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `int64:${value.toString()}`;
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return `hex:${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
  }
  return value;
}

/**
 * Hashes a table's rows in id order. SQLite formats each row (quote() of every column, so text
 * with commas or newlines cannot collide with other rows) and joins 20,000 rows per query;
 * JavaScript only feeds those chunks to the hash. Per-row JavaScript objects made this several
 * times slower on 300k reviews.
 */
function hashTable(db: CollectionDb, hash: Hash, table: string, columns: readonly string[], key = 'id'): number {
  hash.update(`\n#${table}\n`);
  const row = columns.map((c) => `quote(${c})`).join(" || ',' || ");
  const chunk = db.prepare(
    `SELECT max(${key}) AS last, count(*) AS n, group_concat(r, char(10)) AS text FROM (SELECT ${key}, ${row} AS r FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT ${CHUNK_ROWS})`,
  );
  let last: number | bigint = Number.MIN_SAFE_INTEGER;
  let total = 0;
  for (;;) {
    const r = chunk.get(last) as { last: number | null; n: number; text: string | null };
    if (r.n === 0 || r.last === null) break;
    hash.update(r.text ?? '');
    hash.update('\n');
    total += r.n;
    last = r.last;
  }
  return total;
}

const CHUNK_ROWS = 20_000;

export function fingerprintCollection(db: CollectionDb): Fingerprint {
  const col = readCol(db);
  const hash = createHash('sha256');
  hash.update(FINGERPRINT_VERSION);
  hashRows(hash, 'crt', [[col.crt]]);
  const notes = hashTable(db, hash, 'notes', ['id', 'guid', 'mid', 'mod', 'tags', 'flds', 'flags', 'data']);
  const cards = hashTable(db, hash, 'cards', ['id', 'nid', 'did', 'ord', 'mod', 'type', 'queue', 'due', 'ivl', 'factor', 'reps', 'lapses', 'left', 'odue', 'odid', 'flags', 'data']);
  const revlog = hashTable(db, hash, 'revlog', ['id', 'cid', 'ease', 'ivl', 'lastIvl', 'factor', 'time', 'type']);
  // Schema 11 allows duplicate grave rows; Anki 18 keeps (oid, type) unique: digest the set.
  const graves = hashRows(hash, 'graves', db.prepare('SELECT DISTINCT type, oid FROM graves ORDER BY type, oid').raw().iterate() as Iterable<unknown[]>);
  const objects = canonicalObjects(db);
  hashRows(hash, 'decks', objects.decks.map((d) => [d]));
  hashRows(hash, 'deckConfigs', objects.deckConfigs.map((d) => [d]));
  hashRows(hash, 'noteTypes', objects.noteTypes.map((d) => [d]));
  hashRows(hash, 'tags', objects.tags.map((t) => [t]));
  hashRows(hash, 'config', objects.config.map(([k, v]) => [k, v]));
  return { ...factsOf(db, col, objects, { notes, cards, revlog, graves }), digest: hash.digest('hex') };
}

/** The facts from the row counts the caller has (by hashing, or by count(*)) and the objects. */
function factsOf(
  db: CollectionDb,
  col: ReturnType<typeof readCol>,
  objects: ReturnType<typeof canonicalObjects>,
  rows: Pick<FingerprintCounts, 'notes' | 'cards' | 'revlog' | 'graves'>,
): FingerprintFacts {
  const newest = db.prepare('SELECT max(id) FROM revlog').pluck().get() as number | null;
  return {
    schema: col.ver,
    scm: col.scm,
    newestRevlogId: newest ?? null,
    counts: {
      ...rows,
      decks: objects.decks.length,
      deckConfigs: objects.deckConfigs.length,
      noteTypes: objects.noteTypes.length,
      tags: objects.tags.length,
    },
  };
}

/** Everything of a fingerprint but the digest. */
export type FingerprintFacts = Omit<Fingerprint, 'digest'>;

/**
 * The fingerprint without its digest: counts, newest review, schema, scm — the same numbers
 * fingerprintCollection reports, from count(*) and max() alone (milliseconds where the digest
 * reads every row). Two collections whose facts differ cannot have the same content
 * (sameFacts); equal facts still need the digest to tell.
 */
export function fingerprintFacts(db: CollectionDb): FingerprintFacts {
  const count = (table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return factsOf(db, readCol(db), canonicalObjects(db), {
    notes: count('notes'),
    cards: count('cards'),
    revlog: count('revlog'),
    graves: db.prepare('SELECT count(*) FROM (SELECT DISTINCT type, oid FROM graves)').pluck().get() as number,
  });
}

/** False when the facts alone prove two collections differ in content; true when only the digests can tell. */
export function sameFacts(a: FingerprintFacts, b: FingerprintFacts): boolean {
  return a.newestRevlogId === b.newestRevlogId && (Object.keys(a.counts) as (keyof FingerprintCounts)[]).every((k) => a.counts[k] === b.counts[k]);
}

/** True when two fingerprints describe the same content (schema, scm and times aside). */
export function sameContent(a: Fingerprint, b: Fingerprint): boolean {
  return a.digest === b.digest && sameFacts(a, b);
}
