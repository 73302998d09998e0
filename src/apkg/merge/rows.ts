/**
 * Notes, cards, review log and graves: the big tables, merged with set-based SQL across the
 * attached files (main = result, a copy of the desktop; o = base; p = phone).
 *
 * The rules are those of Anki's sync when the desktop syncs first and the phone second
 * (docs/anki-sync-protocol.md §4.4, §4.6, §4.7):
 * - deletions (graves) are applied before anything else and always win;
 * - a note or card changed on one side only ends as that side's version;
 * - changed on both: the phone's version wins only if its `mod` is strictly later (on a tie
 *   the server keeps the version of the side that synced first);
 * - review log entries are a union by id (INSERT OR IGNORE), never lost.
 * "Changed" is what Anki's sync would send: the row differs from the base in any column but
 * usn (usn is sync bookkeeping), or it is pending (usn -1) where the base's copy was not — a
 * row saved again unchanged in the same second as the base's version ("touched"); Anki sends
 * it, and on a tie it counts like any other change. Touched rows are not counted as edits in
 * the report and never listed as the losing side of a conflict (nothing of theirs is lost).
 */
import type { CollectionDb } from '../sqlite.js';
import type { Conflict, Side } from './types.js';

export interface RowTable {
  table: 'notes' | 'cards';
  kind: 'note' | 'card';
  /** Grave type Anki uses for this table (rslib GraveKind: 0 card, 1 note). */
  graveType: 0 | 1;
  columns: readonly string[];
  /** A short text a person recognises, as an SQL expression over alias r. */
  label: string;
}

export const NOTES: RowTable = {
  table: 'notes',
  kind: 'note',
  graveType: 1,
  columns: ['id', 'guid', 'mid', 'mod', 'usn', 'tags', 'flds', 'sfld', 'csum', 'flags', 'data'],
  label: 'substr(CAST(r.sfld AS TEXT), 1, 60)',
};

export const CARDS: RowTable = {
  table: 'cards',
  kind: 'card',
  graveType: 0,
  columns: ['id', 'nid', 'did', 'ord', 'mod', 'usn', 'type', 'queue', 'due', 'ivl', 'factor', 'reps', 'lapses', 'left', 'odue', 'odid', 'flags', 'data'],
  label: 'NULL',
};

const SIDE_SCHEMA: Record<Side, string> = { desktop: 'main', phone: 'p' };

export interface RowDiff {
  added: number;
  /** Rows present in the base and changed. */
  edited: number;
  deleted: number;
}

function q(c: string): string {
  return `"${c}"`;
}

export function sameExceptUsn(t: RowTable, a: string, b: string): string {
  return t.columns
    .filter((c) => c !== 'usn')
    .map((c) => `${a}.${q(c)} IS ${b}.${q(c)}`)
    .join(' AND ');
}

/** temp tables <table>_chg_<s>, <table>_del_<s> with the ids changed / deleted on each side. */
export function diffRows(db: CollectionDb, t: RowTable): Record<Side, RowDiff> {
  const out = {} as Record<Side, RowDiff>;
  for (const side of ['desktop', 'phone'] as const) {
    const s = SIDE_SCHEMA[side];
    const chg = `temp.${t.table}_chg_${s}`;
    const del = `temp.${t.table}_del_${s}`;
    // touched = 1: content as in the base, but saved again since (pending where the base's is not)
    db.exec(`CREATE TABLE ${chg} (id INTEGER PRIMARY KEY, inbase INTEGER NOT NULL, touched INTEGER NOT NULL)`);
    db.exec(`CREATE TABLE ${del} (id INTEGER PRIMARY KEY)`);
    db.exec(
      `INSERT INTO ${chg} (id, inbase, touched)
       SELECT id, inbase, NOT edited FROM (
         SELECT s.id AS id, b.id IS NOT NULL AS inbase, s.usn = -1 AND b.usn IS NOT -1 AS pending,
                b.id IS NULL OR NOT (${sameExceptUsn(t, 's', 'b')}) AS edited
           FROM ${s}.${t.table} s LEFT JOIN o.${t.table} b ON b.id = s.id)
        WHERE edited OR pending`,
    );
    db.exec(`INSERT INTO ${del} (id) SELECT b.id FROM o.${t.table} b WHERE NOT EXISTS (SELECT 1 FROM ${s}.${t.table} s WHERE s.id = b.id)`);
    const counts = db.prepare(`SELECT sum(inbase = 0) AS added, sum(inbase = 1 AND touched = 0) AS edited FROM ${chg}`).get() as {
      added: number | null;
      edited: number | null;
    };
    const deleted = db.prepare(`SELECT count(*) FROM ${del}`).pluck().get() as number;
    out[side] = { added: counts.added ?? 0, edited: counts.edited ?? 0, deleted };
  }
  return out;
}

export interface ApplyResult {
  conflicts: number;
  listed: Conflict[];
}

/**
 * Applies the phone's deletions and changes to main (which holds the desktop's version).
 * Must run after diffRows for the same table, inside the merge transaction.
 */
export function applyRows(db: CollectionDb, t: RowTable, listLimit: number): ApplyResult {
  const T = t.table;
  const listed: Conflict[] = [];
  let conflicts = 0;
  const cols = t.columns.map(q).join(', ');
  const colsUsnPending = t.columns.map((c) => (c === 'usn' ? '-1' : `r.${q(c)}`)).join(', ');

  const list = (sql: string, winner: Side, reasonOf: (row: { id: number; label: string | null; tie?: number }) => Conflict['reason']) => {
    const n = db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get() as number;
    conflicts += n;
    if (listed.length < listLimit && n > 0) {
      const rows = db.prepare(`${sql} LIMIT ${listLimit - listed.length}`).all() as { id: number; label: string | null; tie?: number }[];
      for (const row of rows) {
        const c: Conflict = { kind: t.kind, id: row.id, winner, reason: reasonOf(row) };
        if (row.label) c.label = row.label;
        listed.push(c);
      }
    }
  };

  // Conflicts first, while main still holds the desktop's rows.
  // Phone deleted what the desktop edited: the deletion wins.
  list(
    `SELECT d.id AS id, ${t.label} AS label FROM temp.${T}_del_p d
       JOIN temp.${T}_chg_main c ON c.id = d.id AND c.touched = 0 JOIN main.${T} r ON r.id = d.id`,
    'phone',
    () => 'deleted',
  );
  // Desktop deleted what the phone edited.
  list(
    `SELECT d.id AS id, ${t.label} AS label FROM temp.${T}_del_main d
       JOIN temp.${T}_chg_p c ON c.id = d.id AND c.touched = 0 JOIN p.${T} r ON r.id = d.id`,
    'desktop',
    () => 'deleted',
  );
  // Both changed (to different contents): the later mod wins, a tie stays with the desktop.
  // Listed only when the losing side had edited the row.
  const both = (winnerCond: string) =>
    `SELECT r.id AS id, ${t.label} AS label, (r.mod = x.mod) AS tie FROM temp.${T}_chg_p cp
       JOIN temp.${T}_chg_main ca ON ca.id = cp.id
       JOIN p.${T} r ON r.id = cp.id JOIN main.${T} x ON x.id = cp.id
      WHERE NOT (${sameExceptUsn(t, 'r', 'x')}) AND ${winnerCond}`;
  list(both('r.mod > x.mod AND ca.touched = 0'), 'phone', () => 'newer');
  list(both('r.mod <= x.mod AND cp.touched = 0'), 'desktop', (row) => (row.tie ? 'tie' : 'newer'));

  // Phone deletions.
  db.exec(`DELETE FROM main.${T} WHERE id IN (SELECT id FROM temp.${T}_del_p)`);
  db.exec(
    `INSERT OR IGNORE INTO main.graves (oid, type, usn) SELECT id, ${t.graveType}, -1 FROM temp.${T}_del_p`,
  );
  // Phone changes, unless the desktop deleted the row or has a strictly-not-older edit of it.
  // The rows taken from the phone are marked pending (usn -1): they are news to the desktop's
  // own sync server, if it has one.
  db.exec(
    `INSERT OR REPLACE INTO main.${T} (${cols})
     SELECT ${colsUsnPending} FROM temp.${T}_chg_p c JOIN p.${T} r ON r.id = c.id
      WHERE c.id NOT IN (SELECT id FROM temp.${T}_del_main)
        AND (c.id NOT IN (SELECT id FROM temp.${T}_chg_main)
             OR r.mod > coalesce((SELECT x.mod FROM main.${T} x WHERE x.id = c.id), -1))`,
  );
  return { conflicts, listed };
}

export interface RevlogDiff {
  reviewsMade: number;
  cardsReviewed: number;
}

const DAY_MS = 86_400_000;

/**
 * temp.revlog_new_<s>: the review log entries of one side that the base does not have.
 *
 * A row-by-row anti-join against a million-row base costs seconds, and almost every old entry
 * is unchanged. So: entries newer than the base's newest are new by definition (a range scan);
 * older ones are compared one day of ids at a time by count and two sums, and only a day that
 * differs is anti-joined row by row. (A day whose rows differ but whose count and both sums
 * agree would need rows removed and others added with exactly equal sums: not something
 * Anki or AnkiDroid do — review entries are only ever added, or imported with their cards.)
 */
export function collectNewRevlog(db: CollectionDb, side: Side): RevlogDiff {
  const s = SIDE_SCHEMA[side];
  const t = `temp.revlog_new_${s}`;
  db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, cid INTEGER NOT NULL)`);
  const maxBase = db.prepare('SELECT max(id) FROM o.revlog').pluck().get() as number | null;
  if (maxBase === null) {
    db.exec(`INSERT INTO ${t} (id, cid) SELECT id, cid FROM ${s}.revlog`);
  } else {
    db.prepare(`INSERT INTO ${t} (id, cid) SELECT id, cid FROM ${s}.revlog WHERE id > ?`).run(maxBase);
    const minId = db.prepare(`SELECT min(m) FROM (SELECT min(id) AS m FROM o.revlog UNION ALL SELECT min(id) FROM ${s}.revlog)`).pluck().get() as number;
    const agg = (schema: string) =>
      db.prepare(`SELECT count(*) AS n, total(id % 1000003) AS a, total(cid % 999983) AS b FROM ${schema}.revlog WHERE id BETWEEN ? AND ?`);
    const [aggSide, aggBase] = [agg(s), agg('o')];
    const antiJoin = db.prepare(
      `INSERT INTO ${t} (id, cid) SELECT r.id, r.cid FROM ${s}.revlog r
        WHERE r.id BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM o.revlog b WHERE b.id = r.id)`,
    );
    for (let day = Math.floor(minId / DAY_MS); day * DAY_MS <= maxBase; day++) {
      const lo = day * DAY_MS;
      const hi = Math.min(lo + DAY_MS - 1, maxBase);
      const x = aggSide.get(lo, hi) as { n: number; a: number; b: number };
      if (x.n === 0) continue;
      const y = aggBase.get(lo, hi) as { n: number; a: number; b: number };
      if (x.n !== y.n || x.a !== y.a || x.b !== y.b) antiJoin.run(lo, hi);
    }
  }
  const row = db.prepare(`SELECT count(*) AS n, count(DISTINCT cid) AS c FROM ${t}`).get() as { n: number; c: number };
  return { reviewsMade: row.n, cardsReviewed: row.c };
}

/**
 * The union of review logs: every entry the phone made since the base is added (pending).
 * An id present on both sides keeps the desktop's row, as the server does (INSERT OR IGNORE).
 * Entries a side deleted from the base stay as that side has them: Anki has no graves for
 * review log rows, so a deletion never travels. Needs collectNewRevlog(db, 'phone') first.
 */
export function mergeRevlog(db: CollectionDb): void {
  db.exec(
    `INSERT OR IGNORE INTO main.revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)
     SELECT r.id, r.cid, -1, r.ease, r.ivl, r.lastIvl, r.factor, r.time, r.type
       FROM temp.revlog_new_p n JOIN p.revlog r ON r.id = n.id`,
  );
}

/** Graves the phone recorded (e.g. for objects it added and deleted again) are kept too. */
export function mergeGraves(db: CollectionDb): void {
  db.exec(`INSERT OR IGNORE INTO main.graves (oid, type, usn) SELECT oid, type, -1 FROM p.graves`);
}
