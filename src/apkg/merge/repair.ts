/**
 * After the decks are merged, a child deck may have lost its parent: one side renamed the parent
 * while the other side changed the child later, so the child keeps its old full name. Anki's own
 * sync leaves exactly that (the oracle test sees it), and Anki's Check Database then reports
 * "Fixed 1 missing deck" and creates the parent. The merge does that repair itself, the way the
 * check does (dbcheck: every deck's immediate parent must exist, missing ones are created as new
 * normal decks with default settings), so that the merged collection is clean as written.
 */
import type { CollectionDb } from '../sqlite.js';

/** Protobuf blobs of a new normal deck, as Anki writes them (DeckCommon, DeckKindContainer{normal{config_id: 1}}). */
const NEW_DECK_COMMON = Buffer.from('08011001', 'hex');
const NEW_DECK_KIND = Buffer.from('0a020801', 'hex');
const SEP = '\x1f';

/** Creates every missing ancestor deck; returns their names (levels joined with "::"). */
export function addMissingParentDecks(db: CollectionDb, nowMs: number): string[] {
  const names = db.prepare('SELECT name FROM main.decks').pluck().all() as string[];
  const have = new Set(names.map((n) => n.toLowerCase()));
  const created: string[] = [];
  let nextId = Math.max(nowMs, ((db.prepare('SELECT max(id) FROM main.decks').pluck().get() as number | null) ?? 0) + 1);
  const insert = db.prepare(
    'INSERT INTO main.decks (id, name, mtime_secs, usn, common, kind) VALUES (?, ?, ?, -1, ?, ?)',
  );
  for (const name of [...names].sort()) {
    const levels = name.split(SEP);
    for (let i = 1; i < levels.length; i++) {
      const parent = levels.slice(0, i).join(SEP);
      if (have.has(parent.toLowerCase())) continue;
      insert.run(nextId++, parent, Math.floor(nowMs / 1000), NEW_DECK_COMMON, NEW_DECK_KIND);
      have.add(parent.toLowerCase());
      created.push(levels.slice(0, i).join('::'));
    }
  }
  return created;
}
