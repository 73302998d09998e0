/**
 * Decks, deck option presets, note types, tags and collection config: few rows, merged one by
 * one in JS with Anki's rules for the "unchunked changes" of a sync
 * (docs/anki-sync-protocol.md §4.4–4.5), desktop syncing first, phone second:
 * - an object changed on one side only ends as that side's version;
 * - changed on both: the later mtime wins and on a tie the phone's version wins (the server
 *   replaces when `local.mtime <= incoming.mtime`, and the desktop then takes the server's);
 * - "changed" is what Anki's sync sends: content differs from the base, or the object was
 *   saved again without a visible change (usn -1 where the base's was not: e.g. a review of a
 *   relearning card saves its deck with the same counters). Saved in the same second as the
 *   base's version, such an object equals the base in every column but usn, yet Anki sends it
 *   and on a tie it wins (see `touched`);
 * - decks have graves: a deletion always wins; presets and note types have none (deleting
 *   them is a schema change, caught before), so an edit brings a preset back;
 * - tags are a union of the desktop's tags and the tags the phone added or changed;
 * - the collection config is the desktop's, whole (only the "newer" client sends its config,
 *   and the phone, syncing second, is never newer than the server).
 */
import type { CollectionDb } from '../sqlite.js';
import type { Conflict, ObjectKind, Side } from './types.js';

type Row = Record<string, unknown> & { id: number; name: string; mtime_secs: number };

interface ObjectTable {
  table: 'decks' | 'deck_config' | 'notetypes';
  kind: ObjectKind;
  columns: readonly string[];
  /** Anki records deletions of this kind in graves (type 2 = deck). */
  graveType?: 2;
}

export const DECKS: ObjectTable = { table: 'decks', kind: 'deck', columns: ['id', 'name', 'mtime_secs', 'usn', 'common', 'kind'], graveType: 2 };
export const DECK_CONFIGS: ObjectTable = { table: 'deck_config', kind: 'deckConfig', columns: ['id', 'name', 'mtime_secs', 'usn', 'config'] };
export const NOTETYPES: ObjectTable = { table: 'notetypes', kind: 'noteType', columns: ['id', 'name', 'mtime_secs', 'usn', 'config'] };

function same(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

function readAll(db: CollectionDb, schema: string, t: ObjectTable): Map<number, Row> {
  const rows = db.prepare(`SELECT ${t.columns.join(', ')} FROM ${schema}.${t.table}`).all() as Row[];
  const map = new Map<number, Row>();
  for (const r of rows) map.set(r.id, r);
  return map;
}

/** A note type is its row plus its fields and templates. */
function notetypeParts(db: CollectionDb, schema: string): Map<number, string> {
  const parts = new Map<number, string[]>();
  const add = (ntid: number, s: string) => {
    let l = parts.get(ntid);
    if (!l) parts.set(ntid, (l = []));
    l.push(s);
  };
  for (const r of db.prepare(`SELECT ntid, ord, name, config FROM ${schema}.fields ORDER BY ntid, ord`).all() as {
    ntid: number;
    ord: number;
    name: string;
    config: Buffer;
  }[]) {
    add(r.ntid, `f${r.ord}\u0000${r.name}\u0000${r.config.toString('hex')}`);
  }
  for (const r of db.prepare(`SELECT ntid, ord, name, mtime_secs, config FROM ${schema}.templates ORDER BY ntid, ord`).all() as {
    ntid: number;
    ord: number;
    name: string;
    mtime_secs: number;
    config: Buffer;
  }[]) {
    add(r.ntid, `t${r.ord}\u0000${r.name}\u0000${r.mtime_secs}\u0000${r.config.toString('hex')}`);
  }
  const out = new Map<number, string>();
  for (const [k, v] of parts) out.set(k, v.join('\u0001'));
  return out;
}

function rowChanged(t: ObjectTable, a: Row, b: Row | undefined): boolean {
  if (!b) return true;
  return t.columns.some((c) => c !== 'usn' && !same(a[c], b[c]));
}

/**
 * Saved since the base without a change of content: pending for Anki's sync (usn -1) where
 * the base's copy was not. (A base whose copy is itself pending, e.g. a row an earlier merge
 * took from the phone, cannot tell a later same-second save: none is seen then.)
 */
function touched(a: Row, b: Row | undefined): boolean {
  return b !== undefined && a.usn === -1 && b.usn !== -1;
}

export interface ObjectDiff {
  changed: number;
  deleted: number;
}

export interface ObjectMergeResult {
  diff: Record<Side, ObjectDiff>;
  conflicts: Conflict[];
}

/** Display name: deck names are stored with \x1f between levels; people know them with "::". */
function label(t: ObjectTable, r: Row): string {
  return t.table === 'decks' ? r.name.split('\x1f').join('::') : r.name;
}

export function mergeObjects(db: CollectionDb, t: ObjectTable): ObjectMergeResult {
  const base = readAll(db, 'o', t);
  const desk = readAll(db, 'main', t);
  const phone = readAll(db, 'p', t);
  const parts =
    t.table === 'notetypes'
      ? { o: notetypeParts(db, 'o'), main: notetypeParts(db, 'main'), p: notetypeParts(db, 'p') }
      : undefined;
  /** Content differs from the base's. */
  const edited = (schema: 'main' | 'p', r: Row): boolean => {
    const b = base.get(r.id);
    if (rowChanged(t, r, b)) return true;
    return parts !== undefined && parts[schema].get(r.id) !== parts.o.get(r.id);
  };
  /** What Anki's sync would send: edited, or saved again unchanged. */
  const changed = (schema: 'main' | 'p', r: Row): boolean => edited(schema, r) || touched(r, base.get(r.id));
  const identical = (x: Row, y: Row): boolean =>
    !t.columns.some((c) => c !== 'usn' && !same(x[c], y[c])) && (!parts || parts.main.get(x.id) === parts.p.get(y.id));

  const conflicts: Conflict[] = [];
  const diff: Record<Side, ObjectDiff> = { desktop: { changed: 0, deleted: 0 }, phone: { changed: 0, deleted: 0 } };
  const deskChanged = new Set<number>();
  const deskEdited = new Set<number>();
  for (const r of desk.values()) {
    if (changed('main', r)) deskChanged.add(r.id);
    if (edited('main', r)) deskEdited.add(r.id);
  }
  diff.desktop.changed = deskEdited.size;
  for (const id of base.keys()) {
    if (!desk.has(id)) diff.desktop.deleted++;
    if (!phone.has(id)) diff.phone.deleted++;
  }

  // Phone deletions (only kinds with graves travel).
  if (t.graveType !== undefined) {
    for (const id of base.keys()) {
      if (phone.has(id) || !desk.has(id)) continue;
      const d = desk.get(id) as Row;
      if (deskEdited.has(id)) conflicts.push({ kind: t.kind, id, label: label(t, d), winner: 'phone', reason: 'deleted' });
      db.prepare(`DELETE FROM main.${t.table} WHERE id = ?`).run(id);
      db.prepare('INSERT OR IGNORE INTO main.graves (oid, type, usn) VALUES (?, ?, -1)').run(id, t.graveType);
    }
  }

  for (const r of phone.values()) {
    if (!changed('p', r)) continue;
    const phoneEdited = edited('p', r);
    if (phoneEdited) diff.phone.changed++;
    const d = desk.get(r.id);
    const deletedOnDesktop = base.has(r.id) && !d;
    if (deletedOnDesktop && t.graveType !== undefined) {
      if (phoneEdited) conflicts.push({ kind: t.kind, id: r.id, label: label(t, r), winner: 'desktop', reason: 'deleted' });
      continue;
    }
    if (d && deskChanged.has(r.id)) {
      if (identical(d, r)) continue;
      // Listed as a conflict only when the losing side's content is lost (a side that only
      // saved the object unchanged loses nothing).
      if (d.mtime_secs > r.mtime_secs) {
        if (phoneEdited) conflicts.push({ kind: t.kind, id: r.id, label: label(t, d), winner: 'desktop', reason: 'newer' });
        continue;
      }
      if (deskEdited.has(r.id)) conflicts.push({ kind: t.kind, id: r.id, label: label(t, r), winner: 'phone', reason: d.mtime_secs === r.mtime_secs ? 'tie' : 'newer' });
    }
    writeObject(db, t, r);
  }
  return { diff, conflicts };
}

/** Replaces (or adds) the phone's version in main, keeping names unique as Anki requires. */
function writeObject(db: CollectionDb, t: ObjectTable, r: Row): void {
  const name = uniqueName(db, t, r.id, r.name);
  const cols = t.columns;
  const values = cols.map((c) => (c === 'usn' ? -1 : c === 'name' ? name : r[c]));
  db.prepare(`INSERT OR REPLACE INTO main.${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...values);
  if (t.table === 'notetypes') {
    db.prepare('DELETE FROM main.fields WHERE ntid = ?').run(r.id);
    db.prepare('DELETE FROM main.templates WHERE ntid = ?').run(r.id);
    db.prepare('INSERT INTO main.fields (ntid, ord, name, config) SELECT ntid, ord, name, config FROM p.fields WHERE ntid = ?').run(r.id);
    db.prepare(
      'INSERT INTO main.templates (ntid, ord, name, mtime_secs, usn, config) SELECT ntid, ord, name, mtime_secs, -1, config FROM p.templates WHERE ntid = ?',
    ).run(r.id);
  }
}

/** Decks and note types have unique names (unicase); a clash gets "+" appended, as Anki does. */
function uniqueName(db: CollectionDb, t: ObjectTable, id: number, name: string): string {
  if (t.table === 'deck_config') return name;
  const taken = db.prepare(`SELECT 1 FROM main.${t.table} WHERE name = ? AND id != ?`);
  let n = name;
  while (taken.get(n, id)) n += '+';
  return n;
}

/** Tags: the desktop's, plus every tag the phone added or changed (never a removal). */
export function mergeTags(db: CollectionDb): number {
  const info = db
    .prepare(
      `INSERT OR IGNORE INTO main.tags (tag, usn, collapsed, config)
       SELECT t.tag, -1, t.collapsed, t.config FROM p.tags t
        WHERE NOT EXISTS (SELECT 1 FROM o.tags b WHERE b.tag = t.tag AND b.collapsed IS t.collapsed AND b.config IS t.config)`,
    )
    .run();
  return info.changes;
}

/**
 * Config keys the phone changed whose value the merged collection (the desktop's config) does
 * not have: Anki's sync would drop these too; the report lists them.
 */
export function configLostFromPhone(db: CollectionDb): Conflict[] {
  const rows = db
    .prepare(
      `SELECT p.KEY AS key FROM p.config p
         LEFT JOIN o.config b ON b.KEY = p.KEY
         LEFT JOIN main.config a ON a.KEY = p.KEY
        WHERE (b.KEY IS NULL OR b.val IS NOT p.val) AND (a.KEY IS NULL OR a.val IS NOT p.val)`,
    )
    .all() as { key: string }[];
  return rows.map((r) => ({ kind: 'config', id: r.key, label: r.key, winner: 'desktop', reason: 'configFromDesktop' }));
}
