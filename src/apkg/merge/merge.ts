/**
 * merge(base, desktop, phone) → merged collection + report.
 *
 * Meaning: the collection Anki's own sync server would end with had the desktop synced first
 * and the phone second, both starting from the base (then the desktop once more to pick up the
 * phone's changes). Proven against real Anki by test/merge (the oracle test). Per-table rules
 * are in rows.ts (notes, cards, review log) and objects.ts (decks, presets, note types, tags,
 * config).
 *
 * Pure data: three files in, one file out. The result is written to `<out>.tmp-<random>`,
 * checked with `pragma quick_check`, fsynced and renamed over `out`; on any error nothing is
 * left behind and the inputs are never touched.
 */
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { MergeErrors } from '../../errors/codes/merge.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { translateSqliteError, type CollectionDb } from '../sqlite.js';
import { attach, openResult, readCol, refuseCode, selfContainedCopy, type ColRow, type Role } from './inputs.js';
import { CARDS, NOTES, applyRows, collectNewRevlog, diffRows, mergeGraves, mergeRevlog } from './rows.js';
import { DECKS, DECK_CONFIGS, NOTETYPES, configLostFromPhone, mergeObjects, mergeTags } from './objects.js';
import { ensureSchema18 } from './schema.js';
import { addMissingParentDecks } from './repair.js';
import { fixLastReviewTimes } from './last-review.js';
import type { Conflict, MergeOptions, MergeReport, ObjectKind, Side, SideReport } from './types.js';
import { fsyncDir, fsyncFile } from '../fs-durable.js';

export function mergeCollections(opts: MergeOptions): MergeReport {
  const started = performance.now();
  const timings: Record<string, number> = {};
  let mark = started;
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = Math.round(t - mark);
    mark = t;
  };
  const listLimit = opts.maxListedConflicts ?? 200;
  const out = path.resolve(opts.out);
  const tmpOut = `${out}.tmp-${randomBytes(6).toString('hex')}`;
  const scratch = mkdtempSync(path.join(opts.tmpDir ?? tmpdir(), 'ankibridge-merge-'));
  let db: CollectionDb | undefined;
  try {
    // Private, self-contained copies of all three (a WAL sidecar is folded in); the result
    // starts as the desktop's copy. Schema 11 copies are converted to 18.
    const base = ensureSchema18(copyInput(opts.base, path.join(scratch, 'base.anki2')), 'base', scratch);
    const phone = ensureSchema18(copyInput(opts.phone, path.join(scratch, 'phone.anki2')), 'phone', scratch);
    const desktopCopy = ensureSchema18(copyInput(opts.desktop, path.join(scratch, 'desktop.anki2')), 'desktop', scratch);
    renameOrCopy(desktopCopy, tmpOut);
    lap('copyInputs');
    const desktop = opts.desktop;
    db = openResult(tmpOut);
    attach(db, base, 'base');
    attach(db, phone, 'phone');
    for (const role of ['desktop', 'base', 'phone'] as const) refuseCode(db, role);
    const cols: Record<Role, ColRow> = {
      base: readCol(db, 'base', base),
      desktop: readCol(db, 'desktop', desktop),
      phone: readCol(db, 'phone', phone),
    };
    checkMergeable(cols, opts);

    // The result is a private temp file until the rename: no journal needed for safety.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    const nowMs = opts.now ?? Date.now();
    const body = () => runMerge(db as CollectionDb, listLimit, nowMs, lap);
    const partial = db.transaction(body)();
    lap('commit');

    const col = {
      mod: Math.max(nowMs, cols.desktop.mod + 1, cols.phone.mod + 1),
      scm: cols.desktop.scm,
      usn: cols.desktop.usn,
      ls: cols.desktop.ls,
    };
    db.prepare('UPDATE main.col SET mod = ?, scm = ?, usn = ?, ls = ?').run(col.mod, col.scm, col.usn, col.ls);
    const merged = db
      .prepare(
        `SELECT (SELECT count(*) FROM main.notes) AS notes, (SELECT count(*) FROM main.cards) AS cards,
                (SELECT count(*) FROM main.revlog) AS revlog, (SELECT count(*) FROM main.decks) AS decks`,
      )
      .get() as MergeReport['merged'];
    db.exec('DETACH DATABASE o; DETACH DATABASE p');
    db.pragma('journal_mode = DELETE');
    // quick_check: every page, record and constraint, in linear time (integrity_check also
    // cross-checks each index against its table, O(n log n): the tests run it on every result).
    const check = db.pragma('quick_check(20)', { simple: false }) as Array<Record<string, string>>;
    const lines = check.map((r) => Object.values(r)[0] ?? '');
    if (!(lines.length === 1 && lines[0] === 'ok')) throw makeError(MergeErrors.RESULT_INVALID, { reason: lines.join('; ').slice(0, 500) });
    lap('quickCheck');
    db.close();
    db = undefined;
    fsyncFile(tmpOut);
    renameSync(tmpOut, out);
    fsyncDir(path.dirname(out));
    lap('write');
    return { ...partial, merged, col, durationMs: Math.round(performance.now() - started), timingsMs: timings };
  } catch (e) {
    if (e instanceof Error && 'hint' in e) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE')) throw translateSqliteError(e, opts.desktop);
    if (typeof code === 'string' && code === 'ENOSPC') throw makeError(GeneralErrors.DISK_FULL, { path: out }, e);
    throw makeError(GeneralErrors.INTERNAL, { reason: `merge failed: ${(e as Error)?.message ?? String(e)}` }, e);
  } finally {
    if (db?.open) db.close();
    rmSync(tmpOut, { force: true });
    rmSync(`${tmpOut}-journal`, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

function checkMergeable(cols: Record<Role, ColRow>, opts: MergeOptions): void {
  for (const side of ['desktop', 'phone'] as const) {
    const c = cols[side];
    if (c.crt !== cols.base.crt) {
      throw makeError(MergeErrors.NOT_SAME_COLLECTION, {
        side,
        sideCrt: new Date(c.crt * 1000).toISOString(),
        baseCrt: new Date(cols.base.crt * 1000).toISOString(),
      });
    }
    const expected = opts.expectedScm?.[side] ?? cols.base.scm;
    if (c.scm !== expected) throw makeError(MergeErrors.SCHEMA_CHANGED, { side, baseScm: expected, sideScm: c.scm });
  }
}

type MergeCore = Omit<MergeReport, 'merged' | 'col' | 'durationMs' | 'timingsMs'>;

function runMerge(db: CollectionDb, listLimit: number, nowMs: number, lap: (name: string) => void): MergeCore {
  const conflicts: Conflict[] = [];
  const byKind: MergeCore["conflictsByKind"] = {};
  let conflictCount = 0;
  const record = (kind: ObjectKind, n: number, listed: Conflict[]) => {
    if (n === 0) return;
    conflictCount += n;
    byKind[kind] = (byKind[kind] ?? 0) + n;
    for (const c of listed) if (conflicts.length < listLimit) conflicts.push(c);
  };

  // Measure each side against the base before main (the desktop's copy) changes.
  const revlog = { desktop: collectNewRevlog(db, 'desktop'), phone: collectNewRevlog(db, 'phone') };
  lap('diffRevlog');
  const notes = diffRows(db, NOTES);
  const cards = diffRows(db, CARDS);
  lap('diff');

  // Order as in a sync: deletions, then decks/presets/note types/tags/config, then rows.
  const decks = mergeObjects(db, DECKS);
  record('deck', decks.conflicts.length, decks.conflicts);
  const createdDecks = addMissingParentDecks(db, nowMs);
  const presets = mergeObjects(db, DECK_CONFIGS);
  record('deckConfig', presets.conflicts.length, presets.conflicts);
  const notetypes = mergeObjects(db, NOTETYPES);
  record('noteType', notetypes.conflicts.length, notetypes.conflicts);
  mergeTags(db);
  const lostConfig = configLostFromPhone(db);
  record('config', lostConfig.length, lostConfig);

  lap('objects');
  mergeRevlog(db);
  lap('revlog');
  const n = applyRows(db, NOTES, listLimit);
  record('note', n.conflicts, n.listed);
  const c = applyRows(db, CARDS, listLimit);
  record('card', c.conflicts, c.listed);
  mergeGraves(db);
  lap('notesCards');
  const lastReviewFixed = fixLastReviewTimes(db);
  lap('lastReview');

  const side = (s: Side): SideReport => ({
    notesAdded: notes[s].added,
    notesEdited: notes[s].edited,
    notesDeleted: notes[s].deleted,
    cardsReviewed: revlog[s].cardsReviewed,
    reviewsMade: revlog[s].reviewsMade,
    cardsChanged: cards[s].edited,
    decksChanged: decks.diff[s].changed,
    decksDeleted: decks.diff[s].deleted,
  });
  const repairs = createdDecks.map((d) => `Created the missing parent deck "${d}" (a deck was renamed on one side while a deck inside it changed on the other; Anki's Check Database does the same).`);
  if (lastReviewFixed) {
    repairs.push(
      `Set the last review time of ${lastReviewFixed} card${lastReviewFixed === 1 ? '' : 's'} from the merged review log (one side's version of the card won, a review of it came from the other; Anki's Check Database does the same).`,
    );
  }
  return { desktop: side('desktop'), phone: side('phone'), conflictCount, conflictsByKind: byKind, conflicts, repairs };
}

function copyInput(file: string, to: string): string {
  selfContainedCopy(path.resolve(file), to);
  return to;
}

/** scratch (os tmpdir) may be another file system than `out`. */
function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    copyFileSync(from, to);
    rmSync(from, { force: true });
  }
}

