/**
 * A card's "last review time" (`lrt` in its JSON `data`, seconds) must agree with its review log.
 * A merge can break that, as Anki's own sync does: one side reviews a card, the other side
 * changes the same card later (or in the same second, where the desktop's wins) — say, suspends
 * it. The other side's card wins, with its older lrt, while the review joins the log. Anki's
 * Check Database then reports "Added last review time to N cards" (and, having changed cards,
 * forces a one-way sync). The merge makes the check's repair itself, so the collection is clean
 * as written.
 *
 * Only for the cards the merge put together that way: the merged card is one side's version
 * while the other side added review log entries for it. Every other card stays exactly as its
 * side had it (an object changed on one side only ends as that side's version).
 *
 * The check's rule (rslib storage/card fix_card_properties, scheduler/fsrs get_last_revlog_info):
 * for a card that is not new, lrt = the second of its last review log entry that has a rating
 * and affects scheduling (ease > 0, not cramming: type 3 "filtered" with factor 0), counting
 * only entries after the last reset (type 4 "manual", factor 0, ease 0); none such → no lrt.
 */
import type { CollectionDb } from '../sqlite.js';
import { CARDS, sameExceptUsn } from './rows.js';

/** Sets the lrt of cards whose merged review log says otherwise; returns how many changed. */
export function fixLastReviewTimes(db: CollectionDb): number {
  // The cards the merge put together, materialised first so that the rest is driven by them
  // (a plan that scans all cards and filters late costs seconds on a large collection).
  db.exec(`CREATE TEMP TABLE lrt_cards (id INTEGER PRIMARY KEY)`);
  db.exec(
    `INSERT OR IGNORE INTO temp.lrt_cards (id)
     -- the desktop's card (or any version but the phone's) with the phone's reviews
     SELECT n.cid FROM temp.revlog_new_p n CROSS JOIN main.cards k ON k.id = n.cid
      WHERE NOT EXISTS (SELECT 1 FROM p.cards x WHERE x.id = k.id AND ${sameExceptUsn(CARDS, 'k', 'x')})
     UNION ALL
     -- the phone's card (taken by the merge) with the desktop's reviews
     SELECT n.cid FROM temp.revlog_new_main n CROSS JOIN temp.cards_chg_p c ON c.id = n.cid CROSS JOIN main.cards k ON k.id = n.cid
      WHERE EXISTS (SELECT 1 FROM p.cards x WHERE x.id = k.id AND ${sameExceptUsn(CARDS, 'k', 'x')})`,
  );
  // Only mismatches come back: `stored` is the lrt Anki reads (an integer, else none).
  const rows = db
    .prepare(
      `SELECT id, data, lrt FROM (
         SELECT k.id AS id, CASE WHEN json_valid(k.data) AND json_type(k.data) = 'object' THEN k.data ELSE '{}' END AS data,
                (SELECT max(r.id) / 1000 FROM main.revlog r
                  WHERE r.cid = k.id AND r.ease > 0 AND NOT (r.type = 3 AND r.factor = 0)
                    AND r.id > coalesce((SELECT max(z.id) FROM main.revlog z
                                          WHERE z.cid = k.id AND z.type = 4 AND z.factor = 0 AND z.ease = 0), -1)) AS lrt
           FROM temp.lrt_cards c CROSS JOIN main.cards k ON k.id = c.id
          WHERE k.type != 0)
        WHERE (CASE WHEN json_type(data, '$.lrt') = 'integer' THEN json_extract(data, '$.lrt') END) IS NOT lrt`,
    )
    .all() as { id: number; data: string; lrt: number | null }[];
  // SQLite's JSON functions keep every other value's text (Anki's number formatting) and
  // append new keys: lrt goes before "cd", the one key Anki writes after it (CardData order).
  const set = db.prepare(
    `UPDATE main.cards SET usn = -1, data = CASE
       WHEN @lrt IS NULL THEN json_remove(data, '$.lrt')
       WHEN json_type(data, '$.lrt') IS NOT NULL OR json_type(data, '$.cd') IS NULL THEN json_set(data, '$.lrt', CAST(@lrt AS INTEGER))
       ELSE json_set(json_remove(data, '$.cd'), '$.lrt', CAST(@lrt AS INTEGER), '$.cd', json_extract(data, '$.cd')) END
     WHERE id = @id`,
  );
  const setFromEmpty = db.prepare(`UPDATE main.cards SET usn = -1, data = json_object('lrt', CAST(@lrt AS INTEGER)) WHERE id = @id`);
  for (const r of rows) {
    if (r.data === '{}' && r.lrt !== null) setFromEmpty.run({ id: r.id, lrt: r.lrt });
    else set.run({ id: r.id, lrt: r.lrt });
  }
  db.exec('DROP TABLE temp.lrt_cards');
  return rows.length;
}
