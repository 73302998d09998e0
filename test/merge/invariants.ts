// The merge's invariants, checked on the files themselves (not on dumps): whatever the oracle
// says, these must hold for every merge.
import { openCollectionDb } from '../../src/apkg/sqlite.js';

type Key = string;
interface Tables {
  revlog: Set<number>;
  rows: Record<string, Map<number, Key>>;
  /** Ids of rows pending for Anki's sync (usn -1), per table. */
  pending: Record<string, Set<number>>;
}

const TABLES: Record<string, string> = {
  notes: 'id, guid, mid, mod, tags, flds, flags, data',
  cards: 'id, nid, did, ord, mod, type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data',
  decks: 'id, name, mtime_secs, common, kind',
  deck_config: 'id, name, mtime_secs, config',
  notetypes: 'id, name, mtime_secs, config',
};

function load(file: string): Tables {
  const db = openCollectionDb(file, { readonly: true });
  try {
    const revlog = new Set(db.prepare('SELECT id FROM revlog').pluck().all() as number[]);
    const rows: Tables['rows'] = {};
    const pending: Tables['pending'] = {};
    for (const [t, cols] of Object.entries(TABLES)) {
      const m = new Map<number, Key>();
      for (const r of db.prepare(`SELECT ${cols} FROM ${t}`).all() as Record<string, unknown>[]) {
        m.set(r.id as number, JSON.stringify(Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))));
      }
      rows[t] = m;
      pending[t] = new Set(db.prepare(`SELECT id FROM ${t} WHERE usn = -1`).pluck().all() as number[]);
    }
    return { revlog, rows, pending };
  } finally {
    db.close();
  }
}

/** Returns a list of violations (empty = all invariants hold). */
export function checkInvariants(files: { base: string; desktop: string; phone: string; merged: string }): string[] {
  const [o, a, p, m] = [load(files.base), load(files.desktop), load(files.phone), load(files.merged)];
  const bad: string[] = [];
  for (const [side, s] of [['desktop', a], ['phone', p]] as const) {
    for (const id of s.revlog) if (!m.revlog.has(id)) bad.push(`revlog ${id} of the ${side} is missing`);
  }
  for (const t of Object.keys(TABLES)) {
    const [ob, ab, pb, mb] = [o.rows[t]!, a.rows[t]!, p.rows[t]!, m.rows[t]!];
    // Changed as Anki's sync sees it: other content than the base's, or saved again unchanged
    // (pending where the base's copy is not; only visible within the base version's second).
    const [op, ap, pp] = [o.pending[t]!, a.pending[t]!, p.pending[t]!];
    const touched = (pend: Set<number>, id: number) => ob.has(id) && pend.has(id) && !op.has(id);
    const changedIn = (s: Map<number, Key>, pend: Set<number>, id: number) => s.has(id) && (s.get(id) !== ob.get(id) || touched(pend, id));
    const changed = (s: Map<number, Key>, id: number) => changedIn(s, s === ab ? ap : pp, id);
    const deleted = (s: Map<number, Key>, id: number) => ob.has(id) && !s.has(id);
    const ids = new Set([...ob.keys(), ...ab.keys(), ...pb.keys()]);
    for (const id of ids) {
      const [ca, cp, da, dp] = [changed(ab, id), changed(pb, id), deleted(ab, id), deleted(pb, id)];
      // Changed on one side only (and not deleted on the other): that side's version.
      if (ca && !cp && !dp && mb.get(id) !== ab.get(id)) bad.push(`${t} ${id}: changed on the desktop only, merged differs`);
      if (cp && !ca && !da && mb.get(id) !== pb.get(id) && !(t === 'decks' || t === 'notetypes')) {
        bad.push(`${t} ${id}: changed on the phone only, merged differs`);
      }
      if ((t === 'decks' || t === 'notetypes') && cp && !ca && !da) {
        // names may get "+" appended to stay unique; everything else is the phone's
        const [mk, pk] = [mb.get(id), pb.get(id)];
        if (!mk || JSON.parse(mk)[2] !== JSON.parse(pk as string)[2]) bad.push(`${t} ${id}: changed on the phone only, merged differs`);
      }
      // Deleted on one side, untouched on the other: deleted (deck configs and note types have
      // no graves in Anki: their deletion is a schema change, refused before merging).
      const graves = t === 'notes' || t === 'cards' || t === 'decks';
      if (graves && ((da && !cp && pb.has(id)) || (dp && !ca && ab.has(id))) && mb.has(id)) {
        bad.push(`${t} ${id}: deleted on one side and untouched on the other, still in the merge`);
      }
    }
  }
  return bad;
}
