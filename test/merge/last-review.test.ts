// Unit test of the merge's last-review-time repair on hand-made rows (fast; the rule itself is
// proven against Anki's Check Database by the oracle scenario "card reviewed on the phone,
// suspended on the desktop later").
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixLastReviewTimes } from '../../src/apkg/merge/last-review.js';
import type { CollectionDb } from '../../src/apkg/sqlite.js';

const CARD_COLUMNS = `id INTEGER PRIMARY KEY, nid INTEGER DEFAULT 1, did INTEGER DEFAULT 1, ord INTEGER DEFAULT 0,
  mod INTEGER, usn INTEGER, type INTEGER, queue INTEGER DEFAULT 2, due INTEGER DEFAULT 0, ivl INTEGER DEFAULT 1,
  factor INTEGER DEFAULT 2500, reps INTEGER DEFAULT 1, lapses INTEGER DEFAULT 0, left INTEGER DEFAULT 0,
  odue INTEGER DEFAULT 0, odid INTEGER DEFAULT 0, flags INTEGER DEFAULT 0, data TEXT`;

type Card = { id: number; type: number; data: string; mod?: number };

/** main = the merged cards; p = the phone's; revlog entries new on the phone / the desktop. */
function db(a: {
  merged: Card[];
  phone: Card[];
  phoneChanged?: number[];
  revlog: [number, number, number, number, number][];
  newOn: Record<number, 'p' | 'main'>;
}): Database.Database {
  const d = new Database(':memory:');
  d.exec(`ATTACH ':memory:' AS p;
          CREATE TABLE main.cards (${CARD_COLUMNS}); CREATE TABLE p.cards (${CARD_COLUMNS});
          CREATE TABLE main.revlog (id INTEGER PRIMARY KEY, cid INTEGER, ease INTEGER, type INTEGER, factor INTEGER);
          CREATE TEMP TABLE revlog_new_main (id INTEGER PRIMARY KEY, cid INTEGER);
          CREATE TEMP TABLE revlog_new_p (id INTEGER PRIMARY KEY, cid INTEGER);
          CREATE TEMP TABLE cards_chg_p (id INTEGER PRIMARY KEY, inbase INTEGER, touched INTEGER);`);
  for (const [schema, cards] of [['main', a.merged], ['p', a.phone]] as const) {
    for (const c of cards) d.prepare(`INSERT INTO ${schema}.cards (id, mod, usn, type, data) VALUES (?, ?, 0, ?, ?)`).run(c.id, c.mod ?? 100, c.type, c.data);
  }
  for (const id of a.phoneChanged ?? []) d.prepare('INSERT INTO temp.cards_chg_p VALUES (?, 1, 0)').run(id);
  for (const r of a.revlog) {
    d.prepare('INSERT INTO main.revlog VALUES (?, ?, ?, ?, ?)').run(...r);
    d.prepare(`INSERT INTO temp.revlog_new_${a.newOn[r[0]] ?? 'p'} VALUES (?, ?)`).run(r[0], r[1]);
  }
  return d;
}

const cards = (d: Database.Database) => d.prepare('SELECT id, usn, data FROM main.cards ORDER BY id').all();

describe('fixLastReviewTimes (Anki Check Database rule, for cards the merge put together)', () => {
  it('the desktop’s card with the phone’s reviews: lrt from the last rated review after the last reset; the rest of the data as written', () => {
    const d = db({
      merged: [
        { id: 1, type: 2, data: '{"s":36500.0,"d":1e-5,"lrt":5}' }, // older lrt: replaced in place, numbers as written
        { id: 2, type: 2, data: '{"pos":3,"cd":"{\\"a\\":1}"}' }, // no lrt: goes before "cd" (Anki's key order)
        { id: 3, type: 2, data: '' }, // empty data
        { id: 4, type: 2, data: '{"lrt":9}' }, // only a reset entry since: no lrt
        { id: 5, type: 0, data: '{}' }, // new card: never
        { id: 6, type: 2, data: '{"lrt":10}' }, // cramming does not count: already right
      ],
      // the phone's versions differ (the desktop's won)
      phone: [1, 2, 3, 4, 5, 6].map((id) => ({ id, type: 2, data: '{}', mod: 200 })),
      revlog: [
        [10_000, 1, 3, 1, 2500],
        [20_500, 2, 1, 2, 2500],
        [30_999, 3, 4, 0, 0],
        [40_000, 4, 0, 4, 0],
        [50_000, 5, 3, 0, 0],
        [10_500, 6, 3, 1, 2500],
        [11_000, 6, 3, 3, 0],
      ],
      newOn: {},
    });
    expect(fixLastReviewTimes(d as unknown as CollectionDb)).toBe(4);
    expect(cards(d)).toEqual([
      { id: 1, usn: -1, data: '{"s":36500.0,"d":1e-5,"lrt":10}' },
      { id: 2, usn: -1, data: '{"pos":3,"lrt":20,"cd":"{\\"a\\":1}"}' },
      { id: 3, usn: -1, data: '{"lrt":30}' },
      { id: 4, usn: -1, data: '{}' },
      { id: 5, usn: 0, data: '{}' },
      { id: 6, usn: 0, data: '{"lrt":10}' },
    ]);
  });

  it('the phone’s card with the desktop’s reviews is repaired; a card that is its own side’s, with its own reviews, is left as that side had it', () => {
    const d = db({
      merged: [
        { id: 1, type: 2, data: '{"lrt":5}' }, // the phone's version (taken), the desktop reviewed it at 10 s
        { id: 2, type: 2, data: '{"lrt":5}' }, // the phone's version, reviewed by the phone only (its own lrt, even if off)
        { id: 3, type: 2, data: '{"lrt":5}' }, // the desktop's, reviewed by the desktop only
      ],
      phone: [
        { id: 1, type: 2, data: '{"lrt":5}' },
        { id: 2, type: 2, data: '{"lrt":5}' },
        { id: 3, type: 2, data: '{"lrt":5}' },
      ],
      phoneChanged: [1, 2],
      revlog: [
        [10_000, 1, 3, 1, 2500],
        [11_000, 2, 3, 1, 2500],
        [12_000, 3, 3, 1, 2500],
      ],
      newOn: { 10_000: 'main', 11_000: 'p', 12_000: 'main' },
    });
    expect(fixLastReviewTimes(d as unknown as CollectionDb)).toBe(1);
    expect(cards(d)).toEqual([
      { id: 1, usn: -1, data: '{"lrt":10}' },
      { id: 2, usn: 0, data: '{"lrt":5}' },
      { id: 3, usn: 0, data: '{"lrt":5}' },
    ]);
  });
});
