/* eslint-disable @typescript-eslint/no-explicit-any -- this test edits free-form schema-11 JSON by hand */
// Schema conversion proved against real Anki: our 11 -> 18 upgrade gives the same collection as
// Anki's own upgrade (canonical dumps read through Anki), and a file we downgrade to 11 is opened
// (upgraded) by Anki with its database check clean and the same content as the source.
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AnkiPeer, type CanonicalDump } from '../../peer/peer.js';
import { openPackage } from '../../../src/apkg/index.js';
import { openCollectionDb, unicaseExtensionPath } from '../../../src/apkg/sqlite.js';
import { validateCollection } from '../../../src/apkg/collection/schema.js';
import { downgradeToSchema11, upgradeToSchema18 } from '../../../src/apkg/collection/convert.js';
import { fingerprintCollection, sameContent } from '../../../src/apkg/collection/fingerprint.js';
import { readNotetypes } from '../../../src/apkg/collection/objects.js';
import { decodeMessage, encodeMessage } from '../../../src/apkg/collection/protobuf.js';
import { DeckConfigConfig } from '../../../src/apkg/collection/proto-specs.js';
import { copyTo, fixture, listDir, sha256File, tempDir } from './helpers.js';

const dir = tempDir();
let peer: AnkiPeer;
let seq = 0;

beforeAll(async () => {
  peer = await AnkiPeer.start();
});
afterAll(async () => {
  await peer?.close();
});

const packageFixture = (name: string) => path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/real', name);

/** A fresh folder holding a copy of `file` as collection.anki2 (the peer may upgrade what it opens). */
function asProfile(file: string): string {
  const d = path.join(dir, `p${++seq}`);
  mkdirSync(d);
  const out = path.join(d, 'collection.anki2');
  copyFileSync(file, out);
  return out;
}

async function collectionOf(pkgFile: string): Promise<string> {
  const pkg = await openPackage(pkgFile);
  try {
    const out = path.join(dir, `pkg${++seq}.anki2`);
    copyFileSync(pkg.collectionPath, out);
    return out;
  } finally {
    await pkg.dispose();
  }
}

function verOf(file: string): number {
  const db = openCollectionDb(file, { readonly: true, untrusted: true });
  try {
    return validateCollection(db).ver;
  } finally {
    db.close();
  }
}

function fp(file: string) {
  const db = openCollectionDb(file, { readonly: true, untrusted: true });
  try {
    return fingerprintCollection(db);
  } finally {
    db.close();
  }
}

async function dumpOf(file: string): Promise<CanonicalDump> {
  return peer.dump(asProfile(file), { ignoreSync: true });
}

/**
 * Anki's database check on a copy of `file`. The check repairs what it finds (so it runs on a
 * copy, after the dumps); a collection is "as sound as" another when the check finds the same.
 */
async function checkCopy(file: string) {
  return peer.check(asProfile(file));
}

/** Our upgrade of a schema-11 file vs Anki's own upgrade of the same bytes. */
async function expectUpgradeLikeAnki(s11: string): Promise<string> {
  expect(verOf(s11)).toBe(11);
  const before = sha256File(s11);
  const ours = path.join(dir, `up${++seq}.anki2`);
  upgradeToSchema18(s11, ours);
  expect(sha256File(s11)).toBe(before); // never touches the source
  expect(verOf(ours)).toBe(18);
  const ankiUpgraded = asProfile(s11);
  const ankiDump = await peer.dump(ankiUpgraded, { ignoreSync: true }); // Anki upgrades it in place
  expect(await dumpOf(ours)).toEqual(ankiDump);
  // Anki's check finds in our upgrade exactly what it finds in its own (old collections lack
  // e.g. the "last review time" newer Anki keeps in cards.data; the check adds it to both)
  expect(await checkCopy(ours)).toEqual(await checkCopy(s11));
  // the fingerprint of our file equals the fingerprint of Anki's upgrade
  expect(sameContent(fp(ankiUpgraded), fp(ours))).toBe(true);
  return ours;
}

/** Our downgrade of a schema-18 file: Anki opens it (upgrading it) with a clean check and the same content. */
async function expectDowngradeOpensInAnki(s18: string): Promise<string> {
  const before = sha256File(s18);
  const out = path.join(dir, `down${++seq}.anki2`);
  downgradeToSchema11(s18, out);
  expect(sha256File(s18)).toBe(before);
  expect(verOf(out)).toBe(11);
  expect(await dumpOf(out)).toEqual(await dumpOf(s18));
  expect(await checkCopy(out)).toEqual(await checkCopy(s18));
  expect(sameContent(fp(s18), fp(out))).toBe(true);
  return out;
}

/** Edits the schema-11 JSON in `col` of a copy: shapes the fixtures do not have. */
function editLegacyJson(file: string, edit: (col: { models: any; decks: any; dconf: any; conf: any; tags: any }) => void): void {
  const db = new Database(file);
  db.loadExtension(unicaseExtensionPath());
  const row = db.prepare('SELECT models, decks, dconf, conf, tags FROM col').get() as Record<string, string>;
  const col = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, JSON.parse(v)])) as any;
  edit(col);
  db.prepare('UPDATE col SET models = ?, decks = ?, dconf = ?, conf = ?, tags = ?').run(
    JSON.stringify(col.models), JSON.stringify(col.decks), JSON.stringify(col.dconf), JSON.stringify(col.conf), JSON.stringify(col.tags));
  db.close();
}

describe('upgradeToSchema18 matches Anki', () => {
  it('a rich collection Anki wrote as schema 11 (legacy export)', async () => {
    const src = path.join(dir, 'rich', 'collection.anki2');
    await peer.createCollection({ path: src, notes: 60, seed: 5, reviewsPerCard: 3, decks: 4, days: 40 });
    await peer.modify(src, [
      { op: 'addDeck', name: 'Sprachen::Deutsch::Straße' },
      { op: 'renameDeck', from: 'Peer Deck 1', to: 'Ärger::Ωmega' },
      { op: 'editDeckConfig', id: 1, newPerDay: 37 },
      { op: 'setConfig', key: 'ankibridgeTest', value: { nested: [1, 2.5, 'x'] } },
      { op: 'changeSchema' },
      { op: 'review', count: 5, ease: 3 },
    ]);
    const pkg = path.join(dir, 'rich-legacy.colpkg');
    await peer.exportPackage({ path: src, out: pkg, kind: 'colpkg', legacy: true });
    const s11 = await collectionOf(pkg);
    const ours = await expectUpgradeLikeAnki(s11);
    // nothing for the upgrade to repair here: the schema-11 and schema-18 files fingerprint the same
    expect(sameContent(fp(s11), fp(ours))).toBe(true);
  });

  for (const name of ['anki-pylib-diffmodeltemplates-1.apkg', 'ankidroid-templates.apkg', 'orbit-testCollection.colpkg', 'srs-converter-mixed-legacy-2.apkg', 'srs-converter-empty-legacy-2.colpkg']) {
    it(`fixture ${name}`, async () => {
      await expectUpgradeLikeAnki(await collectionOf(packageFixture(name)));
    });
  }

  it('shapes no fixture has: filtered decks, unknown keys, a schema-15-bug ease, 64-bit ids, day counters', async () => {
    const s11 = await collectionOf(packageFixture('ankidroid-templates.apkg'));
    editLegacyJson(s11, (col) => {
      const someDeck = Object.values(col.decks).find((d: any) => d.id !== 1) as any;
      col.decks['1700000000001'] = {
        ...someDeck, id: 1700000000001, name: 'Filtered::Due today', dyn: true, resched: true, separate: true,
        terms: [['deck:current is:due', 100, 6], ['tag:x', '20', 1]], delays: [1.5, 10], previewDelay: 10,
        previewAgainSecs: 60, previewHardSecs: 600, previewGoodSecs: 0, addonKey: { a: 1 }, return: true,
      };
      delete col.decks['1700000000001'].conf;
      // counters of an earlier day are dropped, the newest day wins
      someDeck.newToday = [300, 4]; someDeck.revToday = [301, 9]; someDeck.lrnToday = [299, 2]; someDeck.timeToday = [301, 12345];
      someDeck.desc = 'A <b>description</b>'; someDeck.md = true; someDeck.reviewLimit = 50; someDeck.newLimitToday = { limit: 5, today: 301 };
      someDeck.desiredRetention = 85; someDeck.extendNew = 3; someDeck.customDeckKey = 'kept';
      const conf = Object.values(col.dconf)[0] as any;
      col.dconf['77'] = { ...conf, id: 99, name: 'Low ease', new: { ...conf.new, initialFactor: 1300, addonNew: true }, rev: { ...conf.rev, ease4: 1.35, addonRev: [1] }, lapse: { ...conf.lapse, leechAction: 0, addonLapse: 'z' }, fsrsWeights: [0.4, 0.6, 2.4], topLevelAddon: { x: 1 } };
      someDeck.conf = 77;
      const model = Object.values(col.models)[0] as any;
      model.addonModelKey = { y: [1, 2] };
      model.flds[0].id = '__BIGID__';
      model.flds[0].addonFieldKey = true;
      model.tmpls[0].addonTemplateKey = 'q';
      model.tmpls[0].did = someDeck.id;
      col.tags = { ...col.tags, Grüße: 0, 'parent::child': 0 };
      col.conf.floaty = 0.1;
    });
    // a 64-bit field id as Anki 23.10+ writes it (beyond a double's precision)
    const db = new Database(s11);
    db.prepare(`UPDATE col SET models = replace(models, '"__BIGID__"', '8141201214504774737')`).run();
    // cards of the deck using the low-ease options get their ease fixed, as Anki does
    const decks = JSON.parse(db.prepare('SELECT decks FROM col').pluck().get() as string) as Record<string, { id: number; conf?: number }>;
    const lowEaseDeck = Object.values(decks).find((d) => d.conf === 77)!.id;
    db.prepare('UPDATE cards SET factor = 1300, type = 2, queue = 2 WHERE did = ?').run(lowEaseDeck);
    const lowEaseCards = db.prepare('SELECT count(*) FROM cards WHERE did = ?').pluck().get(lowEaseDeck) as number;
    db.close();
    expect(lowEaseCards).toBeGreaterThan(0);
    const ours = await expectUpgradeLikeAnki(s11);
    // the shapes really were there, and came through as Anki reads them
    const d = await dumpOf(ours);
    const filtered = d.decks.find((x) => x.id === 1700000000001)!;
    expect(filtered).toMatchObject({ name: 'Filtered::Due today', dyn: 1, resched: true, delays: [1.5, 10], addonKey: { a: 1 } });
    expect(filtered.terms).toEqual([['deck:current is:due', 100, 6], ['tag:x', 20, 1]]);
    expect(d.decks.find((x) => x.id === lowEaseDeck)).toMatchObject({ desc: 'A <b>description</b>', md: true, reviewLimit: 50, desiredRetention: 85, customDeckKey: 'kept', newToday: [301, 0], revToday: [301, 9] });
    expect(d.deckConfigs.find((x) => x.id === 77)).toMatchObject({ name: 'Low ease', topLevelAddon: { x: 1 }, fsrsWeights: [0.4, 0.6, 2.4] });
    expect((d.deckConfigs.find((x) => x.id === 77)!.new as { initialFactor: number }).initialFactor).toBe(2500);
    expect(d.cards.filter((c) => c.did === lowEaseDeck).every((c) => c.factor === 2500)).toBe(true);
    // the 64-bit field id survived exactly (the peer's JSON transport rounds it; read it ourselves)
    const db18 = openCollectionDb(ours, { readonly: true });
    try {
      const ids = readNotetypes(db18).flatMap((nt) => (nt.flds as Array<{ id: unknown }>).map((f) => f.id));
      expect(ids).toContain(8141201214504774737n);
    } finally {
      db18.close();
    }
    expect(d.tags.map((t) => t.tag)).toEqual(expect.arrayContaining(['Grüße', 'parent::child']));
    expect(d.config.floaty).toBe(0.1);
  });

  it('deck options AnkiDroid-era clients wrote oddly: unreadable parts fall back to defaults as in Anki', async () => {
    const s11 = await collectionOf(packageFixture('anki-pylib-diffmodeltemplates-1.apkg'));
    editLegacyJson(s11, (col) => {
      const conf = Object.values(col.dconf)[0] as any;
      const variants: Array<(c: any) => void> = [
        (c) => { c.new.delays = 'x'; c.new.perDay = 'many'; },             // lenient keys inside a readable part
        (c) => { delete c.rev.maxIvl; c.rev.perDay = 77; },                  // a required key missing: the whole part
        (c) => { c.lapse.leechFails = '8'; c.lapse.delays = [3, 7]; },       // a strict key of the wrong type
        (c) => { c.new = null; c.rev = 5; },                                  // not objects at all
        (c) => { c.new.ints = [3, 9]; c.new.bury = true; c.timer = true; },   // AnkiDroid's 2-element ints; bool timer
      ];
      variants.forEach((mutate, i) => {
        const c = JSON.parse(JSON.stringify(conf));
        c.id = 500 + i;
        c.name = `odd ${i}`;
        mutate(c);
        col.dconf[String(500 + i)] = c;
      });
    });
    const ours = await expectUpgradeLikeAnki(s11);
    expect((await dumpOf(ours)).deckConfigs.map((c) => c.name)).toEqual(expect.arrayContaining(['odd 0', 'odd 1', 'odd 2', 'odd 3', 'odd 4']));
  });

  it('deck names Anki normalises on upgrade (spaces, control characters, empty levels) end up the same, marked modified', async () => {
    const s11 = await collectionOf(packageFixture('anki-pylib-diffmodeltemplates-1.apkg'));
    editLegacyJson(s11, (col) => {
      const base = Object.values(col.decks).find((d: any) => d.id !== 1) as any;
      col.decks['1700000000002'] = { ...base, id: 1700000000002, name: '  Spaced ::  Name\t ', mod: 1000 };
      col.decks['1700000000003'] = { ...base, id: 1700000000003, name: 'Ctrl\u0007Char::::Empty', mod: 1000 };
    });
    const started = Math.floor(Date.now() / 1000);
    const ours = path.join(dir, 'names-up.anki2');
    upgradeToSchema18(s11, ours);
    const [anki, mine] = [await dumpOf(s11), await dumpOf(ours)];
    const renamed = [1700000000002, 1700000000003];
    const mask = (d: CanonicalDump) => ({ ...d, decks: d.decks.map((x) => (renamed.includes(x.id) ? { ...x, mod: 'now' } : x)) });
    expect(mask(mine)).toEqual(mask(anki));
    expect(mine.decks.filter((x) => renamed.includes(x.id)).map((x) => x.name)).toEqual(['Spaced::Name', 'CtrlChar::blank::Empty']);
    for (const d of [...mine.decks, ...anki.decks].filter((x) => renamed.includes(x.id))) expect(d.mod as number).toBeGreaterThanOrEqual(started);
  });

  it('schema 16 (AnkiDroid fixture, WAL header) goes to 18 as Anki takes it', async () => {
    const src = copyTo(dir, fixture('ankidroid-schema16.anki2'), 's16.anki2');
    const ours = path.join(dir, 's16-up.anki2');
    upgradeToSchema18(src, ours);
    expect(verOf(ours)).toBe(18);
    expect(await dumpOf(ours)).toEqual(await dumpOf(src));
    expect(await checkCopy(ours)).toEqual({ ok: true, problems: [] });
    expect(await checkCopy(src)).toEqual({ ok: true, problems: [] });
  });
});

describe('schema 14 (deck options, config and tags in tables, note types and decks still JSON)', () => {
  it('upgrade and downgrade agree with Anki', async () => {
    const s14 = await collectionOf(packageFixture('ankidroid-templates.apkg'));
    const db = new Database(s14);
    db.loadExtension(unicaseExtensionPath());
    const col = db.prepare('SELECT conf, dconf, tags FROM col').get() as Record<string, string>;
    db.exec(`CREATE TABLE deck_config (id integer PRIMARY KEY NOT NULL, name text NOT NULL COLLATE unicase, mtime_secs integer NOT NULL, usn integer NOT NULL, config blob NOT NULL);
      CREATE TABLE config (KEY text NOT NULL PRIMARY KEY, usn integer NOT NULL, mtime_secs integer NOT NULL, val blob NOT NULL) without rowid;
      CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer NOT NULL) without rowid;`);
    for (const [id, conf] of Object.entries(JSON.parse(col.dconf!) as Record<string, { name: string; mod: number; usn: number }>)) {
      db.prepare('INSERT INTO deck_config VALUES (?, ?, ?, ?, ?)').run(Number(id), conf.name, conf.mod, conf.usn, Buffer.from(JSON.stringify(conf)));
    }
    for (const [key, value] of Object.entries(JSON.parse(col.conf!) as Record<string, unknown>)) {
      db.prepare('INSERT INTO config VALUES (?, 0, 0, ?)').run(key, Buffer.from(JSON.stringify(value)));
    }
    db.prepare('INSERT INTO tags VALUES (?, 0)').run('fourteen');
    db.exec("UPDATE col SET ver = 14, conf = '', dconf = '', tags = ''");
    db.close();
    expect(verOf(s14)).toBe(14);
    const up = path.join(dir, 's14-up.anki2');
    upgradeToSchema18(s14, up);
    const ankiDump = await dumpOf(s14);
    expect(ankiDump.tags.map((t) => t.tag)).toContain('fourteen');
    expect(await dumpOf(up)).toEqual(ankiDump);
    const down = path.join(dir, 's14-down.anki2');
    downgradeToSchema11(s14, down);
    expect(verOf(down)).toBe(11);
    expect(await dumpOf(down)).toEqual(ankiDump);
  });
});

describe('schema 15 (2.1.28-era: ease stored x100, tags without a collapsed flag, old graves)', () => {
  it('upgrade and downgrade agree with Anki', async () => {
    // a schema-15 file built from an Anki-made collection: the schema 16/17/18 steps undone
    const src = path.join(dir, 's15src', 'collection.anki2');
    await peer.createCollection({ path: src, notes: 20, seed: 15, reviewsPerCard: 1, decks: 2 });
    await peer.modify(src, [{ op: 'editDeckConfig', id: 1, newPerDay: 7 }, { op: 'deleteNotes', noteIds: (await peer.dump(src)).notes.slice(0, 2).map((n) => n.id) }]);
    const s15 = path.join(dir, 's15.anki2');
    copyFileSync(src, s15);
    const db = new Database(s15);
    db.loadExtension(unicaseExtensionPath());
    db.pragma('journal_mode = DELETE');
    const update = db.prepare('UPDATE deck_config SET config = ? WHERE id = ?');
    for (const r of db.prepare('SELECT id, config FROM deck_config').all() as Array<{ id: number; config: Buffer }>) {
      const c = decodeMessage(DeckConfigConfig, r.config);
      c.initialEase = Math.fround((c.initialEase as number) * 100);
      update.run(encodeMessage(DeckConfigConfig, c), r.id);
    }
    db.exec(`CREATE TABLE tags2 (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer NOT NULL) without rowid;
      INSERT INTO tags2 SELECT tag, usn FROM tags; DROP TABLE tags; ALTER TABLE tags2 RENAME TO tags;
      ALTER TABLE graves RENAME TO graves_old; CREATE TABLE graves (usn integer NOT NULL, oid integer NOT NULL, type integer NOT NULL);
      INSERT INTO graves SELECT usn, oid, type FROM graves_old; DROP TABLE graves_old; UPDATE col SET ver = 15;`);
    db.close();
    expect(verOf(s15)).toBe(15);
    const up = path.join(dir, 's15-up.anki2');
    upgradeToSchema18(s15, up);
    const ankiDump = await dumpOf(s15);
    expect(await dumpOf(up)).toEqual(ankiDump);
    expect(ankiDump.deckConfigs.find((c) => c.id === 1)).toMatchObject({ new: expect.objectContaining({ initialFactor: 2500, perDay: 7 }) });
    const down = path.join(dir, 's15-down.anki2');
    downgradeToSchema11(s15, down);
    expect(await dumpOf(down)).toEqual(ankiDump);
  });
});

describe('downgradeToSchema11 is read back by Anki', () => {
  it('a collection made and edited by Anki', async () => {
    const src = path.join(dir, 'edited', 'collection.anki2');
    await peer.createCollection({ path: src, notes: 40, seed: 9, reviewsPerCard: 2, decks: 3, days: 20 });
    await peer.modify(src, [
      { op: 'addDeck', name: 'İstanbul::ılık' },
      { op: 'editDeckConfig', id: 1, newPerDay: 11 },
      { op: 'setConfig', key: 'someKey', value: [true, null, 3.25] },
      { op: 'changeSchema' },
    ]);
    const down = await expectDowngradeOpensInAnki(src);
    // and back up with our own upgrade: same content again
    const up = path.join(dir, 'edited-up.anki2');
    upgradeToSchema18(down, up, { check: 'quick' }); // input just validated in full by expectDowngradeOpensInAnki
    expect(sameContent(fp(src), fp(up))).toBe(true);
    expect(await dumpOf(up)).toEqual(await dumpOf(src));
    expect(await checkCopy(up)).toEqual({ ok: true, problems: [] });
  });

  it('the FrequencyMan schema-18 fixture', async () => {
    await expectDowngradeOpensInAnki(copyTo(dir, fixture('frequencyman-two_deck_collection.anki2'), 'fm.anki2'));
  });
});

describe('conversion refuses bad input and leaves nothing behind', () => {
  it('named errors for a corrupt source, a schema-250 source, converting onto itself; no temp files', () => {
    const out = path.join(dir, 'refused', 'out.anki2');
    mkdirSync(path.dirname(out));
    const code = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => upgradeToSchema18(fixture('ankidroid-initial_version_2_12_1_corrupt_regular.anki2'), out))).toBe('ANKIBRIDGE_ERR_COLLECTION_CORRUPT');
    expect(code(() => downgradeToSchema11(fixture('ankidroid-backend-initial_version_2_12_1_corrupt_diskfull.anki2'), out))).toBe('ANKIBRIDGE_ERR_COLLECTION_CORRUPT');
    expect(code(() => upgradeToSchema18(fixture('ankidroid-schema250.anki2'), out))).toBe('ANKIBRIDGE_ERR_COLLECTION_SCHEMA_TOO_NEW');
    expect(listDir(path.dirname(out))).toEqual([]);
    expect(code(() => upgradeToSchema18(fixture('ankidroid-schema16.anki2'), path.join(dir, 'no', 'such', 'dir', 'out.anki2')))).toBe('ANKIBRIDGE_ERR_GENERAL_IO');
    // a read-only source (as the shared fixtures are) converts; the output is writable
    const ro = copyTo(dir, fixture('ankidroid-schema16.anki2'), 'readonly16.anki2');
    chmodSync(ro, 0o444);
    const roOut = path.join(dir, 'refused', 'from-readonly.anki2');
    upgradeToSchema18(ro, roOut);
    expect(verOf(roOut)).toBe(18);
    expect(listDir(path.dirname(out))).toEqual(['from-readonly.anki2']);
    const self = copyTo(dir, fixture('frequencyman-two_deck_collection.anki2'), 'self.anki2');
    expect(code(() => downgradeToSchema11(self, self))).toBe('ANKIBRIDGE_ERR_COLLECTION_OUTPUT_IS_SOURCE');
  });
});
