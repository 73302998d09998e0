/** One side's collection as read for a decision: fingerprint, summary, and counts since the base. */
import { openCollectionDb } from '../../apkg/sqlite.js';
import { fingerprintCollection, type Fingerprint } from '../../apkg/collection/fingerprint.js';
import { summarizeCollection, type CollectionSummary } from '../../apkg/collection/summary.js';

export interface SideRead {
  /** A private local copy of the collection (never the user's file). */
  collectionPath: string;
  fingerprint: Fingerprint;
  summary: CollectionSummary;
}

export function readSide(collectionPath: string): SideRead {
  const db = openCollectionDb(collectionPath, { readonly: true, untrusted: true });
  try {
    return { collectionPath, fingerprint: fingerprintCollection(db), summary: summarizeCollection(db) };
  } finally {
    db.close();
  }
}

export interface SinceBase {
  reviews: number;
  notesChanged: number;
  reviewsPerDay: Array<{ day: string; count: number }>;
}

/** Reviews and note edits made on this side after the base (by time: revlog ids and note mods). */
export function sinceBase(collectionPath: string, base: { newestRevlogId: number | null; at: number } | null): SinceBase {
  const db = openCollectionDb(collectionPath, { readonly: true, untrusted: true });
  try {
    const after = base?.newestRevlogId ?? 0;
    const reviews = base === null ? 0 : (db.prepare('SELECT count(*) FROM revlog WHERE id > ?').pluck().get(after) as number);
    const notesChanged = base === null ? 0 : (db.prepare('SELECT count(*) FROM notes WHERE mod * 1000 > ?').pluck().get(base.at) as number);
    const from = Date.now() - 30 * 86_400_000;
    const reviewsPerDay = (
      db.prepare("SELECT strftime('%Y-%m-%d', id / 1000, 'unixepoch') AS day, count(*) AS count FROM revlog WHERE id > ? GROUP BY day ORDER BY day").all(from) as Array<{
        day: string;
        count: number;
      }>
    ).map((r) => ({ day: r.day, count: r.count }));
    return { reviews, notesChanged, reviewsPerDay };
  } finally {
    db.close();
  }
}

function shortDate(ms: number): string {
  const d = new Date(ms);
  const sameYear = d.getUTCFullYear() === new Date().getUTCFullYear();
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }), timeZone: 'UTC' });
}

export interface Loss {
  reviews: number;
  reviewsSince: number | null;
  notes: number;
  notesSince: number | null;
  /** "47 reviews made on the phone since 12 Nov will be lost", or null when nothing is. */
  sentence: string | null;
}

/**
 * What replacing `overwritten` with `incoming` throws away: reviews the incoming copy lacks, and
 * notes the overwritten side added or edited later than the incoming copy has them.
 */
export function lossIfReplaced(overwritten: string, incoming: string, where: 'on the phone' | 'on this computer'): Loss {
  const inc = openCollectionDb(incoming, { readonly: true, untrusted: true });
  let revIds: Set<number>;
  let noteMods: Map<number, number>;
  try {
    revIds = new Set(inc.prepare('SELECT id FROM revlog').pluck().all() as number[]);
    noteMods = new Map(inc.prepare('SELECT id, mod FROM notes').raw().all() as Array<[number, number]>);
  } finally {
    inc.close();
  }
  const ow = openCollectionDb(overwritten, { readonly: true, untrusted: true });
  let reviews = 0;
  let reviewsSince: number | null = null;
  let notes = 0;
  let notesSince: number | null = null;
  try {
    for (const id of ow.prepare('SELECT id FROM revlog').pluck().iterate() as IterableIterator<number>) {
      if (revIds.has(id)) continue;
      reviews++;
      if (reviewsSince === null || id < reviewsSince) reviewsSince = id;
    }
    for (const [id, mod] of ow.prepare('SELECT id, mod FROM notes').raw().iterate() as IterableIterator<[number, number]>) {
      const theirs = noteMods.get(id);
      if (theirs !== undefined && theirs >= mod) continue;
      notes++;
      if (notesSince === null || mod * 1000 < notesSince) notesSince = mod * 1000;
    }
  } finally {
    ow.close();
  }
  const parts: string[] = [];
  if (reviews > 0) parts.push(`${reviews} review${reviews === 1 ? '' : 's'} made ${where} since ${shortDate(reviewsSince as number)}`);
  if (notes > 0) parts.push(`${notes} note${notes === 1 ? '' : 's'} added or edited ${where} since ${shortDate(notesSince as number)}`);
  const sentence = parts.length === 0 ? null : `${parts.join(' and ')} will be lost`;
  return { reviews, reviewsSince, notes, notesSince, sentence };
}
