// Our "unicase" collation (native/unicase) against the one inside real Anki: the same order and
// the same equality on names that stress Unicode case folding, read from indexes Anki built
// itself; and indexes we build are accepted by Anki.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../../peer/peer.js';
import { openCollectionDb, type CollectionDb } from '../../../src/apkg/sqlite.js';
import { downgradeToSchema11, upgradeToSchema18 } from '../../../src/apkg/collection/convert.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let peer: AnkiPeer;
beforeAll(async () => {
  peer = await AnkiPeer.start();
});
afterAll(async () => {
  await peer?.close();
});

/** Names in NFC without "::" or outer spaces (Anki would rewrite those), grouped by what they test. */
const NAMES = [
  // ASCII case
  'apple', 'Apple', 'APPLE', 'banana', 'Zebra', 'zebra2', '_under', '[bracket', '~tilde', '0digit', '10', '9',
  // German: ß and ẞ fold to "ss"
  'Straße', 'STRASSE', 'strasse', 'Strasse2', 'ẞig', 'ssig', 'Äpfel', 'äpfel', 'Apfel', 'Aepfel', 'Ähre', 'Zürich', 'ZÜRICH', 'Zurich',
  // Greek: final sigma, accents, a three-code-point folding
  'Σοφία', 'σοφία', 'ΣΟΦΊΑ', 'λόγος', 'ΛΌΓΟΣ', 'λόγοσ', 'ΐ', 'ΐ', 'Ωμέγα', 'ωμέγα',
  // Turkish dotted/dotless i: İ folds to i + U+0307, ı does not fold
  'İstanbul', 'istanbul', 'Istanbul', 'i̇stanbul', 'ılık', 'ILIK', 'ilik',
  // Cyrillic, Armenian ligature, Latin ligatures, titlecase digraphs, ŉ
  'Ёлка', 'ёлка', 'Елка', 'և', 'եւ', 'ﬁsh', 'fish', 'FISH', 'ﬀ', 'ff', 'ǅ', 'Ǆ', 'ǆ', 'ŉ', 'ʼn',
  // Cherokee (lowercase folds to uppercase), Deseret (astral), fullwidth, Kelvin and micro signs
  'Ꭰ', 'ꭰ', '𐐀', '𐐨', 'Ａｂｃ', 'ａｂｃ', 'ABC', 'Kelvin', 'kelvin', 'µ-test', 'μ-test', 'Μ-test',
  // letters whose case pairs came in Unicode 13/14 (Anki's table is Unicode 12: not equal there)
  'Ꟈ', 'ꟈ', '𐕰', '𐖗', 'Ⰿ', 'ⱟ',
  // beyond letters
  '😀', '日本語', 'Ω', 'ω', 'é', 'É', 'e', 'E', 'z', 'Z',
];

function names(db: CollectionDb, sql: string): string[] {
  return db.prepare(sql).pluck().all() as string[];
}

function plan(db: CollectionDb, sql: string): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
}

/** Representatives kept when adding `list` in order to a set that is unique under our collation. */
function firstOfEachClass(db: CollectionDb, list: string[]): string[] {
  const equal = db.prepare('SELECT ? = ? COLLATE unicase').pluck();
  const kept: string[] = [];
  for (const n of list) if (!kept.some((k) => equal.get(k, n) === 1)) kept.push(n);
  return kept;
}

describe('unicase collation vs real Anki', () => {
  it('orders and equates names exactly as the deck and tag indexes Anki built', async () => {
    const col = path.join(dir, 'anki', 'collection.anki2');
    await peer.createCollection({ path: col, notes: 2, seed: 1, decks: 1 });
    const noteIds = (await peer.dump(col)).notes.map((n) => n.id);
    await peer.modify(col, [
      ...NAMES.map((name) => ({ op: 'addDeck' as const, name })),
      ...NAMES.map((name) => ({ op: 'tag' as const, noteIds: [noteIds[0]!], add: [name] })),
    ]);
    const db = openCollectionDb(col, { readonly: true });
    try {
      // Anki's own order: the index it maintained with its comparator, read without sorting
      const indexOrderSql = 'SELECT name FROM decks INDEXED BY idx_decks_name ORDER BY name';
      expect(plan(db, indexOrderSql)).not.toMatch(/TEMP B-TREE/);
      const ankiDeckOrder = names(db, indexOrderSql).filter((n) => n !== 'Default');
      // our order: a fresh sort with our comparator
      const oursSql = 'SELECT name FROM decks ORDER BY +name COLLATE unicase';
      expect(plan(db, oursSql)).toMatch(/TEMP B-TREE/);
      expect(names(db, oursSql).filter((n) => n !== 'Default')).toEqual(ankiDeckOrder);
      // Anki merged names it considers equal (add = "return the existing deck"): the same
      // classes as our equality gives
      expect(ankiDeckOrder.filter((n) => NAMES.includes(n)).sort()).toEqual([...firstOfEachClass(db, NAMES)].sort());
      // a few equalities spelled out
      const eq = (a: string, b: string) => db.prepare('SELECT ? = ? COLLATE unicase').pluck().get(a, b) === 1;
      expect([eq('Straße', 'STRASSE'), eq('ẞig', 'ssig'), eq('λόγος', 'ΛΌΓΟΣ'), eq('İstanbul', 'i̇stanbul'), eq('ılık', 'ILIK'), eq('ﬁsh', 'FISH'), eq('Ꭰ', 'ꭰ'), eq('Ꟈ', 'ꟈ')])
        .toEqual([true, true, true, true, false, true, true, false]);

      // tags: the same, on the tags table's primary key (WITHOUT ROWID, COLLATE unicase)
      const tagOrderSql = 'SELECT tag FROM tags ORDER BY tag';
      expect(plan(db, tagOrderSql)).not.toMatch(/TEMP B-TREE/);
      const ankiTagOrder = names(db, tagOrderSql);
      expect(names(db, 'SELECT tag FROM tags ORDER BY +tag COLLATE unicase')).toEqual(ankiTagOrder);
      expect(ankiTagOrder.length).toBeGreaterThan(40);

      // every index Anki built is consistent under our comparator
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('indexes we build (schema 11 -> 18 with those names) are sound for Anki, whose lookups by name find them', async () => {
    const col = path.join(dir, 'src', 'collection.anki2');
    await peer.createCollection({ path: col, notes: 2, seed: 2 });
    await peer.modify(col, NAMES.map((name) => ({ op: 'addDeck' as const, name: `Parent::${name}` })));
    const s11 = path.join(dir, 's11.anki2');
    downgradeToSchema11(col, s11); // JSON in col: no unicase index at all
    const up = path.join(dir, 'ours', 'collection.anki2');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(up));
    upgradeToSchema18(s11, up); // decks table and its unicase index written by us
    expect(await peer.check(up)).toEqual({ ok: true, problems: [] });
    // Anki finds decks by name through our index (a wrong order would hide them), case-insensitively
    await peer.modify(up, [
      { op: 'renameDeck', from: 'parent::STRASSE', to: 'Parent::Straße renamed' },
      { op: 'renameDeck', from: 'PARENT::ΛΌΓΟΣ', to: 'Parent::logos' },
      { op: 'renameDeck', from: 'Parent::𐐨', to: 'Parent::deseret' },
    ]);
    const decks = (await peer.dump(up)).decks.map((d) => d.name);
    expect(decks).toEqual(expect.arrayContaining(['Parent::Straße renamed', 'Parent::logos', 'Parent::deseret']));
    expect(await peer.check(up)).toEqual({ ok: true, problems: [] });
  });
});
