/**
 * The small schema-11 collection that Anki puts into every package as `collection.anki2`, for
 * clients too old to know `collection.anki21`/`anki21b`: importing it shows one note asking the
 * user to update (docs/anki-package-formats.md §2.4). Built here from the documented schema-11
 * layout (§3.2, §3.3) with our own code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export const DUMMY_NOTE_TEXT = 'Please update to the latest Anki version, then import the .colpkg/.apkg file again.';

const SCHEMA_11 = `
CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null, scm integer not null,
  ver integer not null, dty integer not null, usn integer not null, ls integer not null, conf text not null,
  models text not null, decks text not null, dconf text not null, tags text not null);
CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null, mod integer not null,
  usn integer not null, tags text not null, flds text not null, sfld integer not null, csum integer not null,
  flags integer not null, data text not null);
CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null, ord integer not null,
  mod integer not null, usn integer not null, type integer not null, queue integer not null, due integer not null,
  ivl integer not null, factor integer not null, reps integer not null, lapses integer not null, left integer not null,
  odue integer not null, odid integer not null, flags integer not null, data text not null);
CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null, ease integer not null,
  ivl integer not null, lastIvl integer not null, factor integer not null, time integer not null, type integer not null);
CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);
CREATE INDEX ix_notes_usn on notes (usn);
CREATE INDEX ix_cards_usn on cards (usn);
CREATE INDEX ix_revlog_usn on revlog (usn);
CREATE INDEX ix_cards_nid on cards (nid);
CREATE INDEX ix_cards_sched on cards (did, queue, due);
CREATE INDEX ix_revlog_cid on revlog (cid);
CREATE INDEX ix_notes_csum on notes (csum);
`;

/** Writes the dummy collection to `file` (which must not exist). */
export function writeDummyCollection(file: string, now = Date.now()): void {
  const secs = Math.floor(now / 1000);
  const modelId = now;
  const noteId = now;
  const cardId = now;
  const field = { sticky: false, rtl: false, font: 'Arial', size: 20, media: [] };
  const model = {
    id: modelId, name: 'Basic', type: 0, mod: secs, usn: -1, sortf: 0, did: 1, tags: [], vers: [],
    flds: [{ name: 'Front', ord: 0, ...field }, { name: 'Back', ord: 1, ...field }],
    tmpls: [{ name: 'Card 1', ord: 0, qfmt: '{{Front}}', afmt: '{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}', bqfmt: '', bafmt: '', did: null, bfont: '', bsize: 0 }],
    css: '.card {\n  font-family: arial;\n  font-size: 20px;\n  text-align: center;\n  color: black;\n  background-color: white;\n}\n',
    latexPre: '\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n\\begin{document}\n',
    latexPost: '\\end{document}', latexsvg: false, req: [[0, 'any', [0]]],
  };
  const deck = {
    id: 1, name: 'Default', mod: secs, usn: -1, desc: '', dyn: 0, conf: 1, collapsed: false,
    newToday: [0, 0], revToday: [0, 0], lrnToday: [0, 0], timeToday: [0, 0], extendNew: 10, extendRev: 50,
  };
  const dconf = {
    id: 1, name: 'Default', mod: 0, usn: 0, maxTaken: 60, autoplay: true, timer: 0, replayq: true, dyn: false,
    new: { delays: [1, 10], ints: [1, 4, 7], initialFactor: 2500, order: 1, perDay: 20, bury: true, separate: true },
    lapse: { delays: [10], mult: 0, minInt: 1, leechFails: 8, leechAction: 0 },
    rev: { perDay: 200, ease4: 1.3, fuzz: 0.05, minSpace: 1, ivlFct: 1, maxIvl: 36500, bury: true },
  };
  const conf = {
    activeDecks: [1], curDeck: 1, newSpread: 0, collapseTime: 1200, timeLim: 0, estTimes: true, dueCounts: true,
    curModel: String(modelId), nextPos: 2, sortType: 'noteFld', sortBackwards: false, addToCur: true,
  };
  const db = new Database(file);
  try {
    db.pragma('page_size = 512');
    db.pragma('journal_mode = DELETE');
    // A scratch file: its bytes go into a package that is fsynced as a whole.
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA_11);
    db.prepare('INSERT INTO col VALUES (1, ?, ?, ?, 11, 0, 0, 0, ?, ?, ?, ?, ?)').run(
      secs, now, now, JSON.stringify(conf), JSON.stringify({ [modelId]: model }), JSON.stringify({ 1: deck }), JSON.stringify({ 1: dconf }), '{}',
    );
    db.prepare("INSERT INTO notes VALUES (?, ?, ?, ?, -1, '', ?, ?, ?, 0, '')").run(
      noteId, guid(), modelId, secs, `${DUMMY_NOTE_TEXT}\x1f`, DUMMY_NOTE_TEXT, fieldChecksum(DUMMY_NOTE_TEXT),
    );
    db.prepare("INSERT INTO cards VALUES (?, ?, 1, 0, ?, -1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, '')").run(cardId, noteId, secs);
    db.exec('VACUUM');
  } finally {
    db.close();
  }
}

/** First 4 bytes of sha1 of the first field, as Anki's duplicate check reads it (§3.2). */
function fieldChecksum(text: string): number {
  return createHash('sha1').update(text, 'utf8').digest().readUInt32BE(0);
}

/** A random note guid in printable ASCII without the field separator or spaces. */
function guid(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

let cached: Buffer | undefined;

/** The dummy's bytes, built once per process (it is the same for every package). */
export function dummyCollectionBytes(): Buffer {
  if (!cached) {
    const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-dummy-'));
    try {
      const file = path.join(dir, 'collection.anki2');
      writeDummyCollection(file);
      cached = readFileSync(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return cached;
}
