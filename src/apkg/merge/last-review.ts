/**
 * A card's "last review time" (`lrt` in its JSON `data`, seconds) must agree with its review log.
 * A merge can break that, as Anki's own sync does: one side reviews a card, the other side
 * changes the same card later (or in the same second, where the desktop's wins) — say, suspends
 * it. The other side's card wins, with its older lrt, while the review joins the log. Anki's
 * Check Database then reports "Added last review time to N cards" (and, having changed cards,
 * forces a one-way sync). The merge makes the check's repair itself, so the collection is clean
 * as written.
 *
 * The check's rule (rslib storage/card fix_card_properties, scheduler/fsrs get_last_revlog_info):
 * for every card that is not new and has review log entries, lrt = the second of its last entry
 * that has a rating and affects scheduling (ease > 0, not cramming: type 3 "filtered" with
 * factor 0), counting only entries after the last reset (type 4 "manual", factor 0, ease 0);
 * none such → no lrt. Only cards with review log entries new on either side are looked at: the
 * rest are as the sides had them.
 */
import type { CollectionDb } from '../sqlite.js';

/** Sets the lrt of cards whose merged review log says otherwise; returns how many changed. */
export function fixLastReviewTimes(db: CollectionDb): number {
  // Only mismatches come back: `stored` is the lrt Anki reads (an integer, else none).
  const rows = db
    .prepare(
      `WITH c AS (SELECT cid FROM temp.revlog_new_main UNION SELECT cid FROM temp.revlog_new_p),
            k AS (SELECT k.id, CASE WHEN json_valid(k.data) AND json_type(k.data) = 'object' THEN k.data ELSE '{}' END AS data
                    FROM c JOIN main.cards k ON k.id = c.cid WHERE k.type != 0),
            x AS (SELECT k.id, k.data,
                         CASE WHEN json_type(k.data, '$.lrt') = 'integer' THEN json_extract(k.data, '$.lrt') END AS stored,
                         (SELECT max(r.id) / 1000 FROM main.revlog r
                           WHERE r.cid = k.id AND r.ease > 0 AND NOT (r.type = 3 AND r.factor = 0)
                             AND r.id > coalesce((SELECT max(z.id) FROM main.revlog z
                                                   WHERE z.cid = k.id AND z.type = 4 AND z.factor = 0 AND z.ease = 0), -1)) AS lrt
                    FROM k)
       SELECT id, data, lrt FROM x WHERE stored IS NOT lrt`,
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
  return rows.length;
}
