// Seeded fuzzing of the collection side: damaged blobs, JSON of the wrong shape, flipped bytes and
// truncations in real collections. Every failure must be a catalogued error; nothing may crash,
// and a failed conversion leaves nothing behind.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { findError, isAnkibridgeError } from '../../../src/errors/index.js';
import { openCollectionDb, unicaseExtensionPath } from '../../../src/apkg/sqlite.js';
import { validateCollection } from '../../../src/apkg/collection/schema.js';
import { summarizeCollection } from '../../../src/apkg/collection/summary.js';
import { fingerprintCollection } from '../../../src/apkg/collection/fingerprint.js';
import { readConfig, readDeckConfigs, readDecks, readNotetypes, readTags } from '../../../src/apkg/collection/objects.js';
import { downgradeToSchema11, upgradeToSchema18 } from '../../../src/apkg/collection/convert.js';
import { copyTo, fixture, listDir, tempDir } from './helpers.js';
import { seededRandom as rng } from '../../support/seeded-random.js';

const dir = tempDir();
const SEED = Number(process.env.COLLECTION_FUZZ_SEED ?? 20261125);
const CASES = Number(process.env.COLLECTION_FUZZ_CASES ?? 200);


function withDb(file: string, fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  db.loadExtension(unicaseExtensionPath());
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const BLOBS: Array<[string, string, string]> = [
  ['decks', 'common', 'id'], ['decks', 'kind', 'id'], ['notetypes', 'config', 'id'], ['fields', 'config', 'ntid'],
  ['templates', 'config', 'ntid'], ['deck_config', 'config', 'id'], ['config', 'val', 'KEY'],
];
const ODD_VALUES: unknown[] = [null, 'x', -1, 1e300, [], {}, true, 2 ** 63, '12345678901234567890', [[1, 2]]];

function mutateBlob(r: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (Math.floor(r() * 4)) {
    case 0:
      return out.subarray(0, Math.floor(r() * out.length));
    case 1:
      for (let i = 0; i < 1 + r() * 4 && out.length > 0; i++) out[Math.floor(r() * out.length)]! ^= 1 << Math.floor(r() * 8);
      return out;
    case 2:
      return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256)));
    default:
      return Buffer.concat([out, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]);
  }
}

function mutateJson(r: () => number, v: unknown, depth = 0): unknown {
  if (v && typeof v === 'object' && depth < 4) {
    const keys = Object.keys(v);
    if (keys.length > 0) {
      const k = keys[Math.floor(r() * keys.length)]!;
      const child = (v as Record<string, unknown>)[k];
      (v as Record<string, unknown>)[k] = r() < 0.5 ? ODD_VALUES[Math.floor(r() * ODD_VALUES.length)] : mutateJson(r, child, depth + 1);
    }
    return v;
  }
  return ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
}

/** Runs everything a caller may run on an outside collection; returns the error code, if any. */
function exercise(file: string, outDir: string, to: 11 | 18): string | undefined {
  try {
    const db = openCollectionDb(file, { readonly: true, untrusted: true });
    try {
      validateCollection(db);
      summarizeCollection(db);
      fingerprintCollection(db);
      readNotetypes(db);
      readDecks(db);
      readDeckConfigs(db);
      readTags(db);
      readConfig(db);
    } finally {
      db.close();
    }
    const out = path.join(outDir, 'out.anki2');
    if (to === 18) upgradeToSchema18(file, out);
    else downgradeToSchema11(file, out);
    return undefined;
  } catch (e) {
    if (!isAnkibridgeError(e) || !findError(e.code)) throw new Error(`uncatalogued failure on ${file}: ${e instanceof Error ? e.stack : String(e)}`);
    return e.code;
  }
}

describe('collection fuzz', () => {
  it(`${CASES} seeded mutations (seed ${SEED}) give only catalogued errors and leave nothing behind`, () => {
    const r = rng(SEED);
    const s18 = copyTo(dir, fixture('frequencyman-two_deck_collection.anki2'), 'base18.anki2');
    withDb(s18, (db) => db.pragma('journal_mode = DELETE'));
    const s11 = path.join(dir, 'base11.anki2');
    downgradeToSchema11(s18, s11);
    const codes = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const schema11 = r() < 0.4;
      const file = path.join(dir, `case${i}.anki2`);
      writeFileSync(file, readFileSync(schema11 ? s11 : s18));
      const kind = r();
      if (kind < 0.15) {
        // bytes of the file itself
        const buf = readFileSync(file);
        if (r() < 0.5) writeFileSync(file, buf.subarray(0, Math.floor(r() * buf.length)));
        else {
          for (let k = 0; k < 1 + r() * 20; k++) buf[Math.floor(r() * buf.length)]! ^= 1 << Math.floor(r() * 8);
          writeFileSync(file, buf);
        }
      } else if (schema11) {
        withDb(file, (db) => {
          const column = ['models', 'decks', 'dconf', 'conf', 'tags'][Math.floor(r() * 5)]!;
          const text = db.prepare(`SELECT ${column} FROM col`).pluck().get() as string;
          const value = r() < 0.2 ? text.slice(0, Math.floor(r() * text.length)) : JSON.stringify(mutateJson(r, JSON.parse(text)));
          db.prepare(`UPDATE col SET ${column} = ?`).run(value);
        });
      } else {
        withDb(file, (db) => {
          const [table, column, key] = BLOBS[Math.floor(r() * BLOBS.length)]!;
          const rows = db.prepare(`SELECT ${key} AS k, ${column} AS v FROM ${table}`).all() as Array<{ k: unknown; v: Buffer }>;
          const row = rows[Math.floor(r() * rows.length)];
          if (row) db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`).run(mutateBlob(r, row.v), row.k);
        });
      }
      const outDir = path.join(dir, `out${i}`);
      mkdirSync(outDir);
      const code = exercise(file, outDir, schema11 ? 18 : 11);
      codes.set(code ?? 'ok', (codes.get(code ?? 'ok') ?? 0) + 1);
      // a failure writes nothing; a success writes exactly the output
      expect(listDir(outDir), `case ${i}`).toEqual(code ? [] : ['out.anki2']);
    }
    // the mutations did reach the error paths (and some survived as harmless)
    expect(codes.get('ANKIBRIDGE_ERR_COLLECTION_CORRUPT') ?? 0).toBeGreaterThan(CASES / 10);
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
    console.log('collection fuzz outcomes:', Object.fromEntries(codes));
  });
});
