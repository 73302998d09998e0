/**
 * What a normal sync reads from and writes to the local schema-18 collection (doc §4). Every
 * method runs inside the caller's single transaction (normal-sync.ts), so any failure rolls all
 * of it back. Pending local objects are those with usn = -1; they are stamped with the server's
 * usn as they are sent (doc §4.11).
 */
import type { CollectionDb } from '../../apkg/sqlite.js';
import type { Statement } from 'better-sqlite3';
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';
import type { Chunk, Graves, SanityCounts, UnchunkedChanges, Json11 } from './protocol-types.js';
import { deckJsonToRow, deckRowToJson, type DeckRow } from './schema11/deck.js';
import { deckConfigJsonToRow, deckConfigRowToJson, type DeckConfigRow } from './schema11/deck-config.js';
import { notetypeJsonToRows, notetypeRowsToJson, type NotetypeRows } from './schema11/notetype.js';
import { parseJsonLossless, stringifyJsonLossless } from '../../apkg/collection/json.js';
import { fieldChecksum, sortFieldOf } from './note-text.js';
import { PbMessage } from './protobuf.js';

type ChunkTable = 'revlog' | 'notes' | 'cards';
/** The order Anki takes pending rows in for a chunk (doc §4.7). */
const CHUNK_TABLES: readonly ChunkTable[] = ['revlog', 'notes', 'cards'];
const MIN_ID = -(2n ** 63n);

/** Pending rows still to send per table, and the last id sent (the cursor). */
export interface PendingRows {
  left: Record<ChunkTable, number>;
  after: Record<ChunkTable, bigint>;
}

/** A chunk to send, as the JSON text of the protocol's Chunk object, with its row counts. */
export interface OutgoingChunk {
  done: boolean;
  counts: { revlog: number; notes: number; cards: number };
  json: string;
}

/** Anki packs at most this many objects into one chunk or graves message (doc §4.4, §4.6). */
export const CHUNK_SIZE = 250;

const GRAVE_CARD = 0;
const GRAVE_NOTE = 1;
const GRAVE_DECK = 2;

export interface LocalMeta {
  mod: number;
  scm: number;
  usn: number;
  ls: number;
  crt: number;
  /** no cards at all */
  empty: boolean;
}

export class LocalStore {
  constructor(private readonly db: CollectionDb) {}

  meta(): LocalMeta {
    const r = this.db.prepare('SELECT crt, mod, scm, usn, ls FROM col').get() as Omit<LocalMeta, 'empty'> | undefined;
    if (!r) throw makeError(CloudErrors.LOCAL_COLLECTION_INVALID, { path: this.db.name, reason: 'it has no col row' });
    const card = this.db.prepare('SELECT 1 FROM cards LIMIT 1').get();
    return { ...r, empty: card === undefined };
  }

  // ---- graves (doc §4.4)

  /** Local deletions not yet sent, stamped with the server usn; split into ≤250-id messages. */
  takePendingGraves(serverUsn: number): Graves[] {
    const rows = this.db.prepare('SELECT oid, type FROM graves WHERE usn = -1').all() as { oid: number; type: number }[];
    this.db.prepare('UPDATE graves SET usn = ? WHERE usn = -1').run(serverUsn);
    const all = {
      cards: rows.filter((r) => r.type === GRAVE_CARD).map((r) => r.oid),
      notes: rows.filter((r) => r.type === GRAVE_NOTE).map((r) => r.oid),
      decks: rows.filter((r) => r.type === GRAVE_DECK).map((r) => r.oid),
    };
    const out: Graves[] = [];
    for (;;) {
      let room = CHUNK_SIZE;
      const take = (list: number[]): number[] => {
        const t = list.splice(0, room);
        room -= t.length;
        return t;
      };
      const cards = take(all.cards);
      const notes = take(all.notes);
      const decks = take(all.decks);
      if (!cards.length && !notes.length && !decks.length) break;
      out.push({ cards, decks, notes });
    }
    return out;
  }

  /** Deletions from the server win unconditionally (doc §4.4). */
  applyRemoteGraves(g: Graves, serverUsn: number): void {
    const grave = this.db.prepare('INSERT OR REPLACE INTO graves (oid, type, usn) VALUES (?, ?, ?)');
    const delCard = this.db.prepare('DELETE FROM cards WHERE id = ?');
    const delNote = this.db.prepare('DELETE FROM notes WHERE id = ?');
    const delDeck = this.db.prepare('DELETE FROM decks WHERE id = ?');
    for (const id of g.cards) {
      delCard.run(id);
      grave.run(id, GRAVE_CARD, serverUsn);
    }
    for (const id of g.notes) {
      delNote.run(id);
      grave.run(id, GRAVE_NOTE, serverUsn);
    }
    for (const id of g.decks) {
      delDeck.run(id);
      grave.run(id, GRAVE_DECK, serverUsn);
    }
  }

  // ---- unchunked changes (doc §4.5)

  takeLocalChanges(serverUsn: number, localIsNewer: boolean): UnchunkedChanges {
    const models = (this.db.prepare('SELECT id FROM notetypes WHERE usn = -1').all() as { id: number }[]).map(({ id }) => {
      const rows = this.notetypeRows(id);
      rows.notetype.usn = serverUsn;
      return notetypeRowsToJson(rows);
    });
    this.db.prepare('UPDATE notetypes SET usn = ? WHERE usn = -1').run(serverUsn);
    this.db.prepare('UPDATE templates SET usn = ? WHERE usn = -1').run(serverUsn);
    const decks = (this.db.prepare('SELECT * FROM decks WHERE usn = -1').all() as DeckRow[]).map((r) => deckRowToJson({ ...r, usn: serverUsn }));
    this.db.prepare('UPDATE decks SET usn = ? WHERE usn = -1').run(serverUsn);
    const dconf = (this.db.prepare('SELECT * FROM deck_config WHERE usn = -1').all() as DeckConfigRow[]).map((r) =>
      deckConfigRowToJson({ ...r, usn: serverUsn }),
    );
    this.db.prepare('UPDATE deck_config SET usn = ? WHERE usn = -1').run(serverUsn);
    const tags = (this.db.prepare('SELECT tag FROM tags WHERE usn = -1').all() as { tag: string }[]).map((r) => r.tag);
    this.db.prepare('UPDATE tags SET usn = ? WHERE usn = -1').run(serverUsn);
    const out: UnchunkedChanges = { models, decks: [decks, dconf], tags };
    if (localIsNewer) {
      out.conf = this.allConfig();
      out.crt = this.meta().crt;
      // the sender's config is now in step: its usns are reset (doc §4.5)
      this.db.prepare('UPDATE config SET usn = 0 WHERE usn != 0').run();
    }
    return out;
  }

  private allConfig(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.db.prepare('SELECT KEY AS key, val FROM config').all() as { key: string; val: Buffer | string }[]) {
      try {
        out[r.key] = parseJsonLossless(Buffer.isBuffer(r.val) ? r.val.toString('utf8') : r.val);
      } catch {
        // a value that is not JSON is not sent; Anki would not have written it
      }
    }
    return out;
  }

  private notetypeRows(id: number): NotetypeRows {
    return {
      notetype: this.db.prepare('SELECT id, name, mtime_secs, usn, config FROM notetypes WHERE id = ?').get(id) as NotetypeRows['notetype'],
      fields: this.db.prepare('SELECT ntid, ord, name, config FROM fields WHERE ntid = ? ORDER BY ord').all(id) as NotetypeRows['fields'],
      templates: this.db
        .prepare('SELECT ntid, ord, name, mtime_secs, usn, config FROM templates WHERE ntid = ? ORDER BY ord')
        .all(id) as NotetypeRows['templates'],
    };
  }

  applyRemoteChanges(c: UnchunkedChanges, serverUsn: number): void {
    for (const m of c.models) this.applyNotetype(m);
    for (const d of c.decks[1]) this.applyDeckConfig(d);
    for (const d of c.decks[0]) this.applyDeck(d);
    const tag = this.db.prepare('INSERT OR IGNORE INTO tags (tag, usn, collapsed, config) VALUES (?, ?, 1, NULL)');
    for (const t of c.tags) if (t.trim()) tag.run(t, serverUsn);
    if (c.conf) {
      this.db.prepare('DELETE FROM config').run();
      const put = this.db.prepare('INSERT INTO config (key, usn, mtime_secs, val) VALUES (?, ?, ?, ?)');
      const now = Math.floor(Date.now() / 1000);
      for (const [k, v] of Object.entries(c.conf)) put.run(k, serverUsn, now, Buffer.from(stringifyJsonLossless(v), 'utf8'));
    }
    if (c.crt !== undefined) this.db.prepare('UPDATE col SET crt = ?').run(c.crt);
  }

  private applyNotetype(j: Json11): void {
    const rows = notetypeJsonToRows(j);
    const id = rows.notetype.id;
    const local = this.db.prepare('SELECT mtime_secs FROM notetypes WHERE id = ?').get(id) as { mtime_secs: number } | undefined;
    if (local) {
      if (local.mtime_secs > rows.notetype.mtime_secs) return; // local is newer: keep it
      const nf = (this.db.prepare('SELECT count() AS n FROM fields WHERE ntid = ?').get(id) as { n: number }).n;
      const nt = (this.db.prepare('SELECT count() AS n FROM templates WHERE ntid = ?').get(id) as { n: number }).n;
      // A changed field/template count is a schema change that a normal sync cannot carry (doc §4.5).
      if (nf !== rows.fields.length || nt !== rows.templates.length) {
        throw makeError(CloudErrors.RESYNC_REQUIRED, { notetype: rows.notetype.name });
      }
    }
    const n = rows.notetype;
    const name = this.uniqueName('notetypes', n.name, id);
    this.db.prepare('INSERT OR REPLACE INTO notetypes (id, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?)').run(id, name, n.mtime_secs, n.usn, n.config);
    this.db.prepare('DELETE FROM fields WHERE ntid = ?').run(id);
    this.db.prepare('DELETE FROM templates WHERE ntid = ?').run(id);
    const f = this.db.prepare('INSERT INTO fields (ntid, ord, name, config) VALUES (?, ?, ?, ?)');
    for (const x of rows.fields) f.run(x.ntid, x.ord, x.name, x.config);
    const t = this.db.prepare('INSERT INTO templates (ntid, ord, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?, ?)');
    for (const x of rows.templates) t.run(x.ntid, x.ord, x.name, x.mtime_secs, x.usn, x.config);
  }

  private applyDeck(j: Json11): void {
    const r = deckJsonToRow(j);
    const local = this.db.prepare('SELECT mtime_secs FROM decks WHERE id = ?').get(r.id) as { mtime_secs: number } | undefined;
    if (local && local.mtime_secs > r.mtime_secs) return;
    const name = this.uniqueName('decks', r.name, r.id);
    this.db.prepare('INSERT OR REPLACE INTO decks (id, name, mtime_secs, usn, common, kind) VALUES (?, ?, ?, ?, ?, ?)').run(r.id, name, r.mtime_secs, r.usn, r.common, r.kind);
  }

  private applyDeckConfig(j: Json11): void {
    const r = deckConfigJsonToRow(j);
    const local = this.db.prepare('SELECT mtime_secs FROM deck_config WHERE id = ?').get(r.id) as { mtime_secs: number } | undefined;
    if (local && local.mtime_secs > r.mtime_secs) return;
    this.db.prepare('INSERT OR REPLACE INTO deck_config (id, name, mtime_secs, usn, config) VALUES (?, ?, ?, ?, ?)').run(r.id, r.name, r.mtime_secs, r.usn, r.config);
  }

  /** Names are unique (case-insensitively, unicase); another object's name gets a "+" (as Anki does). */
  private uniqueName(table: 'decks' | 'notetypes', name: string, id: number): string {
    let n = name;
    const q = this.db.prepare(`SELECT id FROM ${table} WHERE name = ? AND id != ?`);
    while (q.get(n, id)) n += '+';
    return n;
  }

  // ---- chunks (doc §4.6, §4.7)

  applyRemoteChunk(c: Chunk): void {
    if (c.revlog?.length) {
      const ins = this.db.prepare('INSERT OR IGNORE INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const r of c.revlog) ins.run(...r);
    }
    if (c.cards?.length) {
      const local = this.db.prepare('SELECT usn, mod FROM cards WHERE id = ?');
      const put = this.db.prepare(
        'INSERT OR REPLACE INTO cards (id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of c.cards) if (this.incomingWins(local.get(r[0]) as { usn: number; mod: number } | undefined, r[4])) put.run(...r);
    }
    if (c.notes?.length) {
      const local = this.db.prepare('SELECT usn, mod FROM notes WHERE id = ?');
      const sortIdx = new Map<number, number>();
      const put = this.db.prepare(
        'INSERT OR REPLACE INTO notes (id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of c.notes) {
        if (!this.incomingWins(local.get(r[0]) as { usn: number; mod: number } | undefined, r[3])) continue;
        const mid = r[2];
        let idx = sortIdx.get(mid);
        if (idx === undefined) {
          const nt = this.db.prepare('SELECT config FROM notetypes WHERE id = ?').get(mid) as { config: Buffer } | undefined;
          if (!nt) throw makeError(CloudErrors.DATABASE_CHECK_REQUIRED, { step: `applying note ${r[0]} (its note type ${mid} is missing)` });
          idx = sortFieldIndex(nt.config);
          sortIdx.set(mid, idx);
        }
        const flds = r[6];
        put.run(r[0], r[1], mid, r[3], r[4], r[5], flds, sortFieldOf(flds, idx), fieldChecksum(flds.split('\x1f')[0] ?? ''), r[9], r[10]);
      }
    }
  }

  /** Replace iff absent, not pending locally, or older locally (doc §4.6). */
  private incomingWins(local: { usn: number; mod: number } | undefined, incomingMod: number): boolean {
    return !local || local.usn !== -1 || local.mod < incomingMod;
  }

  /** How many revlog/card/note rows wait to be sent (usn = -1), counted once before sending (doc §4.7). */
  pendingRows(): PendingRows {
    const n = (t: ChunkTable): number => (this.db.prepare(`SELECT count() AS n FROM ${t} WHERE usn = -1`).get() as { n: number }).n;
    return { left: { revlog: n('revlog'), notes: n('notes'), cards: n('cards') }, after: { revlog: MIN_ID, notes: MIN_ID, cards: MIN_ID } };
  }

  /**
   * Builds the next ≤250-object chunk round-robin revlog → note → card (as Anki takes them).
   * SQLite writes the chunk's JSON itself (json_group_array), one statement per table and chunk,
   * walking the pending rows in id order (keyset: `id > the last one sent`); the rows are stamped
   * with the server usn once all are sent (markSent). Per-row statements, JS row arrays and
   * JSON.stringify were most of the client's CPU in an incremental sync. The columns are
   * INTEGER-affinity (an integral REAL is stored as an integer), so the numbers come out as
   * JSON.stringify would print them; 64-bit ids are written exactly.
   */
  takeLocalChunk(pending: PendingRows, serverUsn: number): OutgoingChunk {
    const take = { revlog: 0, notes: 0, cards: 0 };
    let count = 0;
    for (let progressed = true; progressed && count < CHUNK_SIZE; ) {
      progressed = false;
      for (const table of CHUNK_TABLES) {
        if (take[table] < pending.left[table] && count < CHUNK_SIZE) {
          take[table]++;
          count++;
          progressed = true;
        }
      }
    }
    const st = this.chunkStatements();
    const counts = { revlog: 0, notes: 0, cards: 0 };
    let json = '';
    for (const table of CHUNK_TABLES) {
      if (!take[table]) continue;
      pending.left[table] -= take[table];
      const r = st[table].get({ usn: serverUsn, after: pending.after[table], n: take[table] }) as { n: bigint; last: bigint | null; rows: string };
      if (r.last === null) {
        pending.left[table] = 0; // fewer rows than counted: none are left
        continue;
      }
      pending.after[table] = r.last;
      counts[table] = Number(r.n);
      json += `,"${table}":${r.rows}`;
    }
    const done = !pending.left.revlog && !pending.left.notes && !pending.left.cards;
    return { done, counts, json: `{"done":${done}${json}}` };
  }

  /** After the last chunk: every sent row carries the server usn (doc §4.11). */
  markSent(serverUsn: number): void {
    for (const table of CHUNK_TABLES) this.db.prepare(`UPDATE ${table} SET usn = ? WHERE usn = -1`).run(serverUsn);
  }

  private chunkSql?: Record<ChunkTable, Statement>;

  private chunkStatements(): Record<ChunkTable, Statement> {
    // a bound JS number is a REAL to SQLite, which json_array would print as 7.0: cast it; ids
    // come back as bigint (safeIntegers), so the cursor is exact for any 64-bit id
    const select = (table: ChunkTable, row: string): Statement =>
      this.db
        .prepare(
          `SELECT count() AS n, max(id) AS last, json_group_array(json_array(${row.replace('$usn', 'CAST(@usn AS INTEGER)')})) AS rows ` +
            `FROM (SELECT * FROM ${table} WHERE usn = -1 AND id > @after ORDER BY id LIMIT @n)`,
        )
        .safeIntegers(true);
    // note sfld/csum are derived and sent empty (doc §4.6), flags and data as stored
    this.chunkSql ??= {
      revlog: select('revlog', 'id, cid, $usn, ease, ivl, lastIvl, factor, time, type'),
      notes: select('notes', "id, guid, mid, mod, $usn, tags, flds, '', '', ifnull(flags, 0), ifnull(data, '')"),
      cards: select('cards', 'id, nid, did, ord, mod, $usn, type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data'),
    };
    return this.chunkSql;
  }

  // ---- sanity (doc §4.8) and finish (§4.9)

  sanityCounts(): SanityCounts {
    for (const t of ['cards', 'notes', 'revlog', 'graves', 'decks', 'deck_config', 'tags', 'notetypes']) {
      if (this.db.prepare(`SELECT 1 FROM ${t} WHERE usn = -1 LIMIT 1`).get()) {
        throw makeError(CloudErrors.LOCAL_COLLECTION_INVALID, { path: this.db.name, reason: `table ${t} still has unsent changes after the sync` });
      }
    }
    const n = (t: string): number => (this.db.prepare(`SELECT count() AS n FROM ${t}`).get() as { n: number }).n;
    return [[0, 0, 0], n('cards'), n('notes'), n('revlog'), n('graves'), n('notetypes'), n('decks'), n('deck_config')];
  }

  finalize(serverUsn: number, serverTime: number): void {
    this.db.prepare('UPDATE col SET ls = ?, mod = ?, usn = ?').run(serverTime, serverTime, serverUsn + 1);
  }

  /** After a failed sanity check the next sync must be a full one (doc §4.8). */
  forceFullSync(): void {
    this.db.prepare('UPDATE col SET scm = ?').run(Date.now());
  }
}

/** Notetype.Config field 2 = sort_field_idx. */
function sortFieldIndex(config: Buffer): number {
  return PbMessage.decode(config).uint(2);
}
