/**
 * One side's collection as read for a decision: its facts and summary at once, its full
 * fingerprint (a digest over every row: the costly part) only when something needs it.
 */
import { openCollectionDb } from '../../apkg/sqlite.js';
import { fingerprintCollection, fingerprintFacts, sameFacts, type Fingerprint, type FingerprintFacts } from '../../apkg/collection/fingerprint.js';
import { summarizeCollection, type CollectionSummary } from '../../apkg/collection/summary.js';
import { validateCollection } from '../../apkg/collection/schema.js';

export interface SideRead {
  /** A private local copy of the collection (never the user's file). */
  collectionPath: string;
  /** Counts, newest review, schema, scm: enough to tell most changes without the digest. */
  facts: FingerprintFacts;
  summary: CollectionSummary;
  /** The full fingerprint, computed on first use and kept (the file must still be there then). */
  readonly fingerprint: Fingerprint;
  /** Whether the digest has been computed already. */
  readonly digested: boolean;
}

/**
 * `check`: SQLite's quick_check or full integrity_check (and the schema checks) first, in the
 * same connection — for a copy from outside that was not checked yet.
 */
export function readSide(collectionPath: string, opts: { known?: Fingerprint; check?: 'quick' | 'full' } = {}): SideRead {
  const db = openCollectionDb(collectionPath, { readonly: true, untrusted: true });
  let facts: FingerprintFacts;
  let summary: CollectionSummary;
  try {
    if (opts.check) validateCollection(db, { check: opts.check });
    facts = fingerprintFacts(db);
    summary = summarizeCollection(db);
  } finally {
    db.close();
  }
  let fp: Fingerprint | undefined = opts.known;
  return {
    collectionPath,
    facts,
    summary,
    get fingerprint(): Fingerprint {
      if (!fp) {
        const d = openCollectionDb(collectionPath, { readonly: true, untrusted: true });
        try {
          fp = fingerprintCollection(d);
        } finally {
          d.close();
        }
      }
      return fp;
    },
    get digested(): boolean {
      return fp !== undefined;
    },
  };
}

/** `extra` with the side's properties, its lazy fingerprint kept lazy (a spread would compute it). */
export function withSide<T extends object>(side: SideRead, extra: T): SideRead & T {
  return Object.defineProperties(extra, Object.getOwnPropertyDescriptors(side)) as SideRead & T;
}

/** Same content? The facts first (cheap, and enough whenever they differ), the digests only when they agree. */
export function sameSide(a: SideRead, b: SideRead | Fingerprint): boolean {
  const bFacts = 'facts' in b ? b.facts : b;
  if (!sameFacts(a.facts, bFacts)) return false;
  return a.fingerprint.digest === ('facts' in b ? b.fingerprint.digest : b.digest);
}

export interface SinceBase {
  reviews: number;
  notesChanged: number;
  reviewsPerDay: Array<{ day: string; count: number }>;
}

const sinceMemo = new WeakMap<SideRead, Map<string, SinceBase>>();

/** sinceBase of a side, kept with it (a cached desktop side answers again at once). */
export function sideSinceBase(side: SideRead, base: { newestRevlogId: number | null; at: number } | null): SinceBase {
  const key = `${base?.newestRevlogId ?? '-'}:${base?.at ?? '-'}:${new Date().toISOString().slice(0, 10)}`;
  let m = sinceMemo.get(side);
  if (!m) sinceMemo.set(side, (m = new Map()));
  let r = m.get(key);
  if (!r) m.set(key, (r = sinceBase(side.collectionPath, base)));
  return r;
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

export const NO_LOSS: Loss = { reviews: 0, reviewsSince: null, notes: 0, notesSince: null, sentence: null };

/**
 * What replacing `overwritten` with `incoming` throws away: reviews the incoming copy lacks, and
 * notes the overwritten side added or edited later than the incoming copy has them. Both files
 * are our private, checked copies; SQLite compares them (the incoming one attached read-only),
 * by primary key. A note counts when the incoming copy lacks it or has an older version of it.
 */
export function lossIfReplaced(overwritten: string, incoming: string, where: 'on the phone' | 'on this computer'): Loss {
  const ow = openCollectionDb(overwritten, { readonly: true, untrusted: true });
  let r: { n: number; since: number | null };
  let n: { n: number; since: number | null };
  try {
    ow.prepare('ATTACH DATABASE ? AS inc').run(incoming);
    // EXCEPT walks both primary keys in order (a merge): several times faster than a lookup per row.
    r = ow.prepare('SELECT count(*) AS n, min(id) AS since FROM (SELECT id FROM main.revlog EXCEPT SELECT id FROM inc.revlog)').get() as typeof r;
    n = ow
      .prepare(
        'SELECT count(*) AS n, min(o.mod) AS since FROM (SELECT id, mod FROM main.notes EXCEPT SELECT id, mod FROM inc.notes) o ' +
          'WHERE NOT EXISTS (SELECT 1 FROM inc.notes i WHERE i.id = o.id AND i.mod >= o.mod)',
      )
      .get() as typeof n;
  } finally {
    ow.close();
  }
  const reviews = r.n;
  const reviewsSince = reviews > 0 ? r.since : null;
  const notes = n.n;
  const notesSince = notes > 0 && n.since !== null ? n.since * 1000 : null;
  const parts: string[] = [];
  if (reviews > 0) parts.push(`${reviews} review${reviews === 1 ? '' : 's'} made ${where} since ${shortDate(reviewsSince as number)}`);
  if (notes > 0) parts.push(`${notes} note${notes === 1 ? '' : 's'} added or edited ${where} since ${shortDate(notesSince as number)}`);
  const sentence = parts.length === 0 ? null : `${parts.join(' and ')} will be lost`;
  return { reviews, reviewsSince, notes, notesSince, sentence };
}
