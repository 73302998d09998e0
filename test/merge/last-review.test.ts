// Unit test of the merge's last-review-time repair on hand-made rows (fast; the rule itself is
// proven against Anki's Check Database by the oracle scenario "card reviewed on the phone,
// suspended on the desktop later").
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixLastReviewTimes } from '../../src/apkg/merge/last-review.js';
import type { CollectionDb } from '../../src/apkg/sqlite.js';

function db(cards: [number, number, string][], revlog: [number, number, number, number, number][]): Database.Database {
  const d = new Database(':memory:');
  d.exec(`CREATE TABLE cards (id INTEGER PRIMARY KEY, type INTEGER, usn INTEGER, data TEXT);
          CREATE TABLE revlog (id INTEGER PRIMARY KEY, cid INTEGER, ease INTEGER, type INTEGER, factor INTEGER);
          CREATE TEMP TABLE revlog_new_main (id INTEGER PRIMARY KEY, cid INTEGER);
          CREATE TEMP TABLE revlog_new_p (id INTEGER PRIMARY KEY, cid INTEGER);`);
  for (const [id, type, data] of cards) d.prepare('INSERT INTO cards VALUES (?, ?, 0, ?)').run(id, type, data);
  for (const r of revlog) {
    d.prepare('INSERT INTO revlog VALUES (?, ?, ?, ?, ?)').run(...r);
    d.prepare('INSERT INTO temp.revlog_new_p VALUES (?, ?)').run(r[0], r[1]);
  }
  return d;
}

describe('fixLastReviewTimes (Anki Check Database rule)', () => {
  it('sets lrt to the second of the last rated review after the last reset, keeping the rest of the data as written', () => {
    const d = db(
      [
        [1, 2, '{"s":36500.0,"d":1e-5,"lrt":5}'], // older lrt: replaced in place, numbers as written
        [2, 2, '{"pos":3,"cd":"{\\"a\\":1}"}'], // no lrt: goes before "cd" (Anki's key order)
        [3, 2, ''], // empty data
        [4, 2, '{"lrt":9}'], // only a reset entry since: no lrt
        [5, 0, '{}'], // new card: never
        [6, 2, '{"lrt":10}'], // cramming does not count: already right
        [7, 2, '{"lrt":3}'], // card without new review entries: left as it is
      ],
      [
        [10_000, 1, 3, 1, 2500],
        [20_500, 2, 1, 2, 2500],
        [30_999, 3, 4, 0, 0],
        [40_000, 4, 0, 4, 0],
        [50_000, 5, 3, 0, 0],
        [10_500, 6, 3, 1, 2500],
        [11_000, 6, 3, 3, 0],
      ],
    );
    expect(fixLastReviewTimes(d as unknown as CollectionDb)).toBe(4);
    expect(d.prepare('SELECT id, usn, data FROM cards ORDER BY id').all()).toEqual([
      { id: 1, usn: -1, data: '{"s":36500.0,"d":1e-5,"lrt":10}' },
      { id: 2, usn: -1, data: '{"pos":3,"lrt":20,"cd":"{\\"a\\":1}"}' },
      { id: 3, usn: -1, data: '{"lrt":30}' },
      { id: 4, usn: -1, data: '{}' },
      { id: 5, usn: 0, data: '{}' },
      { id: 6, usn: 0, data: '{"lrt":10}' },
      { id: 7, usn: 0, data: '{"lrt":3}' },
    ]);
  });
});
