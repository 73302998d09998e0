/**
 * A short description of a collection for people (and for `ankibridge inspect`): how much is in
 * it and how recent it is. Cheap: counts and maxima only, no row is read in full.
 */
import type { CollectionDb } from '../sqlite.js';
import { readCol, readLegacyCol } from './model.js';

export interface CollectionSummary {
  schema: number;
  notes: number;
  cards: number;
  revlog: number;
  decks: number;
  noteTypes: number;
  /** Time of the newest review in ms (max revlog id), null if there are no reviews. */
  newestReview: number | null;
  /** col.crt: creation time in seconds. */
  created: number;
  /** col.mod: last modification in ms (imports reset it: not a measure of content). */
  modified: number;
  /** col.scm: last schema change in ms. */
  scm: number;
  /** Media files, when the caller knows them (a package or a media folder). */
  media?: { count: number; bytes: number };
}

function count(db: CollectionDb, table: string): number {
  return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

export function summarizeCollection(db: CollectionDb): CollectionSummary {
  const col = readCol(db);
  let decks: number;
  let noteTypes: number;
  if (col.ver >= 15) {
    decks = count(db, 'decks');
    noteTypes = count(db, 'notetypes');
  } else {
    const legacy = readLegacyCol(db);
    decks = Object.keys(legacy.decks).length;
    noteTypes = Object.keys(legacy.models).length;
  }
  const newest = db.prepare('SELECT max(id) FROM revlog').pluck().get() as number | null;
  return {
    schema: col.ver,
    notes: count(db, 'notes'),
    cards: count(db, 'cards'),
    revlog: count(db, 'revlog'),
    decks,
    noteTypes,
    newestReview: newest ?? null,
    created: col.crt,
    modified: col.mod,
    scm: col.scm,
  };
}
