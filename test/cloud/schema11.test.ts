// The schema-18 rows <-> schema-11 JSON converters the sync needs, checked against real Anki:
// Anki (PyPI `anki`, the peer venv) builds a collection with nested, filtered and limited decks,
// a changed option preset and every stock note type, and prints its own schema-11 JSON for
// them; our converters must give the same JSON from the same rows, and survive the round trip.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerPython } from '../peer/peer.js';
import { openCollectionDb, type CollectionDb } from '../../src/apkg/sqlite.js';
import { deckJsonToRow, deckRowToJson, type DeckRow } from '../../src/sync/cloud/schema11/deck.js';
import { deckConfigJsonToRow, deckConfigRowToJson, type DeckConfigRow } from '../../src/sync/cloud/schema11/deck-config.js';
import { notetypeJsonToRows, notetypeRowsToJson, type NotetypeRows } from '../../src/sync/cloud/schema11/notetype.js';
import { parseJsonLossless, stringifyJsonLossless } from '../../src/apkg/collection/json.js';

const SCRIPT = String.raw`
import json, sys
from anki.collection import Collection
col = Collection(sys.argv[1])
col.decks.id('Parent::Child::Grandchild')
col.decks.new_filtered('Filtered')
for stock in ('Basic (and reversed card)', 'Cloze', 'Basic (type in the answer)', 'Basic (optional reversed card)'):
    assert col.models.by_name(stock)
conf = col.decks.add_config_returning_id('Other preset')
c = col.decks.get_config(conf)
c['new']['perDay'] = 7; c['rev']['ease4'] = 1.45; c['lapse']['leechAction'] = 0; c['new']['delays'] = [0.5, 3.0, 1440.0]
c['autoplay'] = False; c['timer'] = 1; c['maxTaken'] = 90; c['new']['order'] = 0; c['desiredRetention'] = 0.87
col.decks.update_config(c)
d = col.decks.by_name('Parent::Child'); d['reviewLimit'] = 33; d['newLimitToday'] = {'limit': 5, 'today': 100}; d['desc'] = 'hello'; d['conf'] = conf; col.decks.save(d)
m = col.models.by_name('Basic'); f = col.models.new_field('Extra'); f['description'] = 'more'; col.models.add_field(m, f); col.models.save(m)
json.dump({'decks': col.decks.all(), 'dconf': col.decks.all_config(), 'models': col.models.all()}, open(sys.argv[2], 'w'))
col.close()
`;

let dir: string;
let db: CollectionDb;
let oracle: Record<'decks' | 'dconf' | 'models', Record<string, unknown>[]>;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cloud-s11-'));
  const col = path.join(dir, 'collection.anki2');
  execFileSync(peerPython(), ['-c', SCRIPT, col, path.join(dir, 'oracle.json')], { stdio: 'pipe' });
  oracle = parseJsonLossless(readFileSync(path.join(dir, 'oracle.json'), 'utf8')) as typeof oracle;
  db = openCollectionDb(col, { readonly: true });
});
afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Key order does not matter on the wire; compare as sorted, lossless JSON text (i64 ids exact). */
function canon(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(sort) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, y]) => [k, sort(y)])) : x;
  return stringifyJsonLossless(sort(v));
}

describe('schema-11 JSON converters agree with Anki', () => {
  it('decks: normal, nested, filtered, with limits', () => {
    expect(oracle.decks.length).toBeGreaterThanOrEqual(5);
    for (const d of oracle.decks) {
      const row = db.prepare('SELECT * FROM decks WHERE id = ?').get(d.id) as DeckRow;
      expect(canon(deckRowToJson(row)), String(d.name)).toBe(canon(d));
      expect(canon(deckRowToJson(deckJsonToRow(d))), `${String(d.name)} round trip`).toBe(canon(d));
      expect(deckJsonToRow(d).name).toBe(row.name); // "A::B" is stored as "A\x1fB"
    }
  });

  it('deck option presets, including a changed one', () => {
    for (const c of oracle.dconf) {
      const row = db.prepare('SELECT * FROM deck_config WHERE id = ?').get(c.id) as DeckConfigRow;
      expect(canon(deckConfigRowToJson(row)), String(c.name)).toBe(canon(c));
      expect(canon(deckConfigRowToJson(deckConfigJsonToRow(c))), `${String(c.name)} round trip`).toBe(canon(c));
    }
  });

  it('note types with 64-bit field and template ids kept exactly', () => {
    expect(oracle.models.length).toBeGreaterThanOrEqual(5);
    for (const m of oracle.models) {
      const rows: NotetypeRows = {
        notetype: db.prepare('SELECT id, name, mtime_secs, usn, config FROM notetypes WHERE id = ?').get(m.id) as NotetypeRows['notetype'],
        fields: db.prepare('SELECT ntid, ord, name, config FROM fields WHERE ntid = ?').all(m.id) as NotetypeRows['fields'],
        templates: db.prepare('SELECT ntid, ord, name, mtime_secs, usn, config FROM templates WHERE ntid = ?').all(m.id) as NotetypeRows['templates'],
      };
      expect(canon(notetypeRowsToJson(rows)), String(m.name)).toBe(canon(m));
      expect(canon(notetypeRowsToJson(notetypeJsonToRows(m))), `${String(m.name)} round trip`).toBe(canon(m));
    }
    const ids = oracle.models.flatMap((m) => (m.flds as { id: unknown }[]).map((f) => f.id));
    expect(ids.some((id) => typeof id === 'bigint')).toBe(true);
  });
});
