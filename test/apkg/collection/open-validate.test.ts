// Opening collections from outside: every fixture gives the result its PROVENANCE predicts, and a
// crafted or damaged file gets a named error with nothing changed.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openCollectionDb, unicaseExtensionPath } from '../../../src/apkg/sqlite.js';
import { detectSchema, validateCollection } from '../../../src/apkg/collection/schema.js';
import { summarizeCollection } from '../../../src/apkg/collection/summary.js';
import { copyTo, fixture, listDir, sha256File, tempDir } from './helpers.js';

const dir = tempDir();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** Opens untrusted + read-only, validates, summarises, closes. */
function inspect(file: string) {
  const db = openCollectionDb(file, { readonly: true, untrusted: true });
  try {
    validateCollection(db);
    return summarizeCollection(db);
  } finally {
    db.close();
  }
}

/** Changes a private copy with a plain connection (unicase loaded), to build a bad file. */
function alter(name: string, src: string, sql: string): string {
  const file = copyTo(dir, src, name);
  const db = new Database(file);
  db.loadExtension(unicaseExtensionPath());
  db.pragma('journal_mode = DELETE');
  db.exec(sql);
  db.close();
  return file;
}

describe('fixtures read as PROVENANCE.md predicts', () => {
  it('frequencyman schema 18 (WAL header): full summary', () => {
    const src = fixture('frequencyman-two_deck_collection.anki2');
    const before = sha256File(src);
    expect(inspect(src)).toEqual({
      schema: 18, notes: 16, cards: 16, revlog: 8, decks: 3, noteTypes: 5,
      newestReview: 1701890503652, created: 1701831600, modified: 1701890622429, scm: 1701889995332,
    });
    // read from a private copy: the fixture is byte-identical and nothing appeared beside it
    expect(sha256File(src)).toBe(before);
    expect(existsSync(`${src}-wal`) || existsSync(`${src}-shm`)).toBe(false);
  });

  it('schema 16 (WAL header) opens read-only from a private copy and leaves no side files', () => {
    const local = path.join(dir, 's16');
    const file = copyTo(dir, fixture('ankidroid-schema16.anki2'), 's16.anki2');
    const before = sha256File(file);
    const s = inspect(file);
    expect(s).toMatchObject({ schema: 16, notes: 0, cards: 0, revlog: 0, decks: 2, newestReview: null, scm: 1619104900897 });
    expect(sha256File(file)).toBe(before);
    expect(listDir(dir).filter((f) => f.startsWith('s16'))).toEqual(['s16.anki2']);
    expect(existsSync(local)).toBe(false);
  });

  it('schema 250 is refused as too new', () => {
    const db = openCollectionDb(fixture('ankidroid-schema250.anki2'), { readonly: true, untrusted: true });
    try {
      expect(codeOf(() => detectSchema(db))).toBe('ANKIBRIDGE_ERR_COLLECTION_SCHEMA_TOO_NEW');
      expect(codeOf(() => validateCollection(db))).toBe('ANKIBRIDGE_ERR_COLLECTION_SCHEMA_TOO_NEW');
    } finally {
      db.close();
    }
  });

  it('corrupt_regular: SQLite refuses it -> COLLECTION_CORRUPT', () => {
    expect(codeOf(() => inspect(fixture('ankidroid-initial_version_2_12_1_corrupt_regular.anki2')))).toBe('ANKIBRIDGE_ERR_COLLECTION_CORRUPT');
  });

  it('corrupt_diskfull: opens, but integrity_check fails -> COLLECTION_CORRUPT naming the check', () => {
    const db = openCollectionDb(fixture('ankidroid-backend-initial_version_2_12_1_corrupt_diskfull.anki2'), { readonly: true, untrusted: true });
    try {
      let err: { code?: string; message?: string } = {};
      try {
        validateCollection(db);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.code).toBe('ANKIBRIDGE_ERR_COLLECTION_CORRUPT');
      expect(err.message).toMatch(/integrity_check/);
    } finally {
      db.close();
    }
  });
});

describe('bad files get named errors', () => {
  const good = fixture('frequencyman-two_deck_collection.anki2');

  it('not SQLite at all, an empty file, a truncated header', () => {
    const text = path.join(dir, 'text.anki2');
    writeFileSync(text, 'this is not a database, just some text that is long enough to fill a header '.repeat(3));
    const empty = path.join(dir, 'empty.anki2');
    writeFileSync(empty, '');
    const short = path.join(dir, 'short.anki2');
    writeFileSync(short, 'SQLite format 3\0');
    for (const f of [text, empty, short]) expect(codeOf(() => openCollectionDb(f, { readonly: true, untrusted: true }))).toBe('ANKIBRIDGE_ERR_COLLECTION_NOT_SQLITE');
  });

  it('a valid header over garbage pages', () => {
    const f = path.join(dir, 'garbage.anki2');
    const buf = Buffer.alloc(8192, 0xa5);
    Buffer.from('SQLite format 3\0', 'latin1').copy(buf, 0);
    buf.writeUInt16BE(4096, 16);
    buf[18] = 1;
    buf[19] = 1;
    writeFileSync(f, buf);
    const code = codeOf(() => inspect(f));
    expect(['ANKIBRIDGE_ERR_COLLECTION_CORRUPT', 'ANKIBRIDGE_ERR_COLLECTION_NOT_SQLITE']).toContain(code);
  });

  it('a missing file', () => {
    expect(codeOf(() => openCollectionDb(path.join(dir, 'nope.anki2')))).toBe('ANKIBRIDGE_ERR_GENERAL_FILE_NOT_FOUND');
  });

  it('triggers, views and virtual tables are refused before anything else runs', () => {
    const trig = alter('trigger.anki2', good, "CREATE TRIGGER evil AFTER INSERT ON revlog BEGIN UPDATE col SET crt = 0; END;");
    const view = alter('view.anki2', good, 'CREATE VIEW v AS SELECT * FROM notes;');
    const vtab = alter('vtab.anki2', good, 'CREATE VIRTUAL TABLE search USING fts5(text);');
    for (const f of [trig, view, vtab]) {
      expect(codeOf(() => openCollectionDb(f, { untrusted: true }))).toBe('ANKIBRIDGE_ERR_COLLECTION_UNSAFE_SCHEMA');
      expect(codeOf(() => openCollectionDb(f, { readonly: true, untrusted: true }))).toBe('ANKIBRIDGE_ERR_COLLECTION_UNSAFE_SCHEMA');
    }
    // a trusted open still lets validation name it
    const db = openCollectionDb(trig, { readonly: true });
    try {
      expect(codeOf(() => validateCollection(db))).toBe('ANKIBRIDGE_ERR_COLLECTION_UNSAFE_SCHEMA');
    } finally {
      db.close();
    }
  });

  it('schema versions 12, 13, 10 and a missing table', () => {
    const cases: Array<[string, string, string]> = [
      ['v12.anki2', 'UPDATE col SET ver = 12', 'SCHEMA_UNSUPPORTED'],
      ['v13.anki2', 'UPDATE col SET ver = 13', 'SCHEMA_UNSUPPORTED'],
      ['v10.anki2', 'UPDATE col SET ver = 10', 'SCHEMA_TOO_OLD'],
      ['v19.anki2', 'UPDATE col SET ver = 19', 'SCHEMA_TOO_NEW'],
      ['norevlog.anki2', 'DROP TABLE revlog', 'MISSING_TABLE'],
      ['nodecks.anki2', 'DROP TABLE decks', 'MISSING_TABLE'],
      ['twocols.anki2', 'INSERT INTO col SELECT 2, crt, mod, scm, ver, dty, usn, ls, conf, models, decks, dconf, tags FROM col', 'CORRUPT'],
    ];
    for (const [name, sql, code] of cases) {
      const f = alter(name, good, sql);
      const db = openCollectionDb(f, { readonly: true, untrusted: true });
      try {
        expect(codeOf(() => validateCollection(db)), name).toBe(`ANKIBRIDGE_ERR_COLLECTION_${code}`);
      } finally {
        db.close();
      }
    }
  });

  it('a schema-11 collection whose JSON columns are not JSON is corrupt', () => {
    const f = alter('badjson.anki2', fixture('ankidroid-schema16.anki2'),
      "UPDATE col SET ver = 11, decks = ''; DROP TABLE decks; DROP TABLE notetypes; DROP TABLE fields; DROP TABLE templates; DROP TABLE deck_config; DROP TABLE config; DROP TABLE tags;");
    const db = openCollectionDb(f, { readonly: true, untrusted: true });
    try {
      expect(codeOf(() => validateCollection(db))).toBe('ANKIBRIDGE_ERR_COLLECTION_CORRUPT');
    } finally {
      db.close();
    }
  });
});

describe('defensive connection', () => {
  const good = fixture('frequencyman-two_deck_collection.anki2');

  it('untrusted: trusted_schema off, cell_size_check on, defensive (no writable_schema), read-only is query_only', () => {
    const f = copyTo(dir, good, 'def.anki2');
    const rw = openCollectionDb(f, { untrusted: true });
    try {
      expect(rw.pragma('trusted_schema', { simple: true })).toBe(0);
      expect(rw.pragma('cell_size_check', { simple: true })).toBe(1);
      // SQLITE_DBCONFIG_DEFENSIVE: writable_schema cannot be used to corrupt the schema
      rw.pragma('writable_schema = ON');
      expect(() => rw.exec("UPDATE sqlite_master SET sql = 'x' WHERE name = 'notes'")).toThrow();
    } finally {
      rw.close();
    }
    const ro = openCollectionDb(f, { readonly: true, untrusted: true });
    try {
      expect(ro.pragma('query_only', { simple: true })).toBe(1);
      expect(() => ro.exec('DELETE FROM notes')).toThrow();
      expect(() => ro.pragma('user_version = 5')).toThrow();
      // the collation is there: ordering by a unicase column works
      expect(ro.prepare('SELECT name FROM decks ORDER BY name').pluck().all()).toEqual(['decka', 'deckb', 'Default']);
    } finally {
      ro.close();
    }
  });

  it('leaves no private copy behind after close', () => {
    const privateTmp = path.join(dir, 'tmp');
    mkdirSync(privateTmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      const db = openCollectionDb(good, { readonly: true, untrusted: true });
      expect(listDir(privateTmp)).toHaveLength(1);
      db.close();
      expect(listDir(privateTmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
