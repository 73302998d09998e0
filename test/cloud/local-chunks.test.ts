// The outgoing chunks of a normal sync (LocalStore.takeLocalChunk): SQLite writes their JSON, so
// this checks what Anki's server will parse — at most 250 objects, taken round-robin revlog →
// note → card, every pending row exactly once with the server usn, 64-bit ids exact — on a
// collection made by real Anki (the peer).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { openCollectionDb } from '../../src/apkg/sqlite.js';
import { CHUNK_SIZE, LocalStore } from '../../src/sync/cloud/local-store.js';

let peer: AnkiPeer;
let dir: string;
beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'cloud-chunks-'));
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('outgoing chunks', () => {
  it('sends every pending row once, round-robin, ≤250 per chunk, stamped with the server usn', async () => {
    const col = path.join(dir, 'c', 'collection.anki2');
    // never synced: every note, card and review is pending (usn -1)
    await peer.createCollection({ path: col, notes: 300, seed: 3, reviews: 500, decks: 2, noteTypes: ['basic', 'reversed'] });
    const db = openCollectionDb(col);
    try {
      // an id beyond 2^53 (a double would round it) and text JSON must escape
      db.prepare("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) VALUES (9007199254740993, 1, -1, 3, 1, 0, 2500, 1000, 1)").run();
      const noteId = (db.prepare('SELECT id FROM notes LIMIT 1').get() as { id: number }).id;
      db.prepare('UPDATE notes SET flds = ? WHERE id = ?').run('a "quote" \\ \n \u0001 🦊\x1fback', noteId);
      const want = (t: string) => (db.prepare(`SELECT count() AS n FROM ${t} WHERE usn = -1`).get() as { n: number }).n;
      const expected = { revlog: want('revlog'), notes: want('notes'), cards: want('cards') };
      expect(expected.notes).toBe(300);

      db.exec('BEGIN');
      const store = new LocalStore(db);
      const pending = store.pendingRows();
      expect(pending.left).toEqual(expected);
      const seen = { revlog: new Set<string>(), notes: new Set<string>(), cards: new Set<string>() };
      const chunks: { done: boolean; revlog?: unknown[][]; notes?: unknown[][]; cards?: unknown[][] }[] = [];
      for (;;) {
        const c = store.takeLocalChunk(pending, 42);
        // 64-bit ids exact: read the JSON with ids as text
        const parsed = JSON.parse(c.json.replace(/([[,])(-?\d{16,})(?=[,\]])/g, '$1"$2"')) as (typeof chunks)[number];
        expect(parsed.done).toBe(c.done);
        expect((parsed.revlog?.length ?? 0) + (parsed.notes?.length ?? 0) + (parsed.cards?.length ?? 0)).toBeLessThanOrEqual(CHUNK_SIZE);
        expect(c.counts).toEqual({ revlog: parsed.revlog?.length ?? 0, notes: parsed.notes?.length ?? 0, cards: parsed.cards?.length ?? 0 });
        for (const [table, width, usnAt] of [['revlog', 9, 2], ['notes', 11, 4], ['cards', 18, 5]] as const) {
          for (const row of parsed[table] ?? []) {
            expect(row).toHaveLength(width);
            expect(row[usnAt]).toBe(42);
            const id = String(row[0]);
            expect(seen[table].has(id), `${table} ${id} sent twice`).toBe(false);
            seen[table].add(id);
          }
        }
        chunks.push(parsed);
        if (c.done) break;
      }
      store.markSent(42);
      expect({ revlog: seen.revlog.size, notes: seen.notes.size, cards: seen.cards.size }).toEqual(expected);
      expect(seen.revlog.has('9007199254740993')).toBe(true);
      // round-robin as Anki takes them: the first chunk has a third of each kind
      expect([chunks[0]!.revlog!.length, chunks[0]!.notes!.length, chunks[0]!.cards!.length]).toEqual([84, 83, 83]);
      expect(chunks.slice(0, -1).every((c) => !c.done)).toBe(true);
      // the note's text arrives as stored; sfld/csum are derived by the receiver, sent empty
      const note = chunks.flatMap((c) => c.notes ?? []).find((n) => n[0] === String(noteId) || n[0] === noteId)!;
      expect(note[6]).toBe('a "quote" \\ \n \u0001 🦊\x1fback');
      expect([note[7], note[8]]).toEqual(['', '']);
      expect(want('revlog') + want('notes') + want('cards')).toBe(0);
      expect((db.prepare('SELECT count() AS n FROM cards WHERE usn = 42').get() as { n: number }).n).toBe(expected.cards);
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  });
});
