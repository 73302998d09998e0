// The typed readers return what real Anki reports for the same collection: rows as stored, and
// note types / decks / deck options in the schema-11 JSON shapes Anki itself gives
// (col.models.all(), col.decks.all(), col.decks.all_config()), for schema 18 and schema 11.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, type CanonicalDump } from '../../peer/peer.js';
import { openCollectionDb } from '../../../src/apkg/sqlite.js';
import { readCards, readCol, readNotes, readRevlog, splitFields, splitTags, iterateNotes } from '../../../src/apkg/collection/model.js';
import { readConfig, readDeckConfigs, readDecks, readNotetypes, readTags } from '../../../src/apkg/collection/objects.js';
import { downgradeToSchema11 } from '../../../src/apkg/collection/convert.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let peer: AnkiPeer;
let src: string;
let dump: CanonicalDump;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  src = path.join(dir, 'a', 'collection.anki2');
  await peer.createCollection({ path: src, notes: 30, seed: 21, reviewsPerCard: 2, decks: 3, days: 10 });
  await peer.modify(src, [
    { op: 'addDeck', name: 'Ünïcode::Δ' },
    { op: 'editDeckConfig', id: 1, newPerDay: 13 },
    { op: 'setConfig', key: 'readerTest', value: { a: [1, 'b'] } },
    { op: 'review', count: 3, ease: 2 },
  ]);
  dump = await peer.dump(src);
});
afterAll(async () => {
  await peer?.close();
});

/** The peer's JSON transport turns 64-bit ids into doubles; do the same to ours before comparing. */
function asTransported<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))) as T;
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeysDeep((v as Record<string, unknown>)[k])]));
  return v;
}

describe('readers on a schema-18 collection made by Anki', () => {
  it('notes, cards, revlog rows as Anki dumps them', () => {
    const db = openCollectionDb(src, { readonly: true });
    try {
      const notes = readNotes(db);
      expect(notes.map((n) => ({ id: n.id, guid: n.guid, mid: n.mid, mod: n.mod, usn: n.usn, tags: splitTags(n.tags), fields: splitFields(n.flds), sfld: String(n.sfld), csum: n.csum, flags: n.flags, data: n.data })))
        .toEqual(dump.notes);
      expect([...iterateNotes(db)].length).toBe(notes.length);
      expect(readCards(db)).toEqual(dump.cards);
      expect(readRevlog(db)).toEqual(dump.revlog);
      expect(readCol(db)).toMatchObject({ crt: dump.col.crt, ver: 18, scm: dump.col.scm });
    } finally {
      db.close();
    }
  });

  it('note types, decks, deck options, tags and config in Anki\'s own JSON shapes', () => {
    const db = openCollectionDb(src, { readonly: true });
    try {
      expect(sortKeysDeep(asTransported(readNotetypes(db)))).toEqual(dump.noteTypes);
      expect(sortKeysDeep(readDecks(db))).toEqual(dump.decks);
      expect(sortKeysDeep(readDeckConfigs(db))).toEqual(dump.deckConfigs);
      expect(readTags(db).map((t) => ({ tag: t.tag, usn: t.usn, collapsed: t.collapsed }))).toEqual(
        [...dump.tags].map((t) => ({ tag: t.tag, usn: t.usn, collapsed: t.collapsed })).sort((a, b) => Buffer.compare(Buffer.from(a.tag), Buffer.from(b.tag))),
      );
      expect(sortKeysDeep(readConfig(db))).toEqual(dump.config);
      expect(dump.decks.some((d) => d.name === 'Ünïcode::Δ')).toBe(true);
    } finally {
      db.close();
    }
  });
});

describe('readers on the same collection downgraded to schema 11', () => {
  it('give the same objects (the schema-11 JSON is what the schema-18 readers produce)', () => {
    const s11 = path.join(dir, 's11.anki2');
    downgradeToSchema11(src, s11);
    const [a, b] = [openCollectionDb(src, { readonly: true }), openCollectionDb(s11, { readonly: true, untrusted: true })];
    try {
      expect(readCol(b).ver).toBe(11);
      expect(asTransported(readNotetypes(b))).toEqual(asTransported(readNotetypes(a)));
      expect(readDecks(b)).toEqual(readDecks(a));
      expect(readDeckConfigs(b)).toEqual(readDeckConfigs(a));
      expect(readConfig(b)).toEqual(readConfig(a));
      expect(readTags(b).map((t) => [t.tag, t.usn])).toEqual(readTags(a).map((t) => [t.tag, t.usn]));
      expect(readNotes(b)).toEqual(readNotes(a));
      expect(readCards(b)).toEqual(readCards(a));
      expect(readRevlog(b)).toEqual(readRevlog(a));
    } finally {
      a.close();
      b.close();
    }
  });
});
