/**
 * Public types of the three-way merge. The report is plain JSON (numbers, strings, arrays) so
 * that the daemon can store it, the dashboard can show it and a notification can summarise it.
 */

/** The two sides of a pair. "desktop" plays the role of the client that syncs first. */
export type Side = 'desktop' | 'phone';

export interface MergeOptions {
  /** The collection as both sides last agreed (schema 18 or 11). Never modified. */
  base: string;
  /** The desktop's collection now. Never modified. */
  desktop: string;
  /** The phone's collection now. Never modified. */
  phone: string;
  /** Where to write the merged collection (schema 18). Written atomically: temp file, fsync, rename. */
  out: string;
  /**
   * The scm each side is known to have when unchanged, if it differs from the base's own scm
   * (e.g. AnkiDroid stamps a new scm when it imports a colpkg, so the phone's "unchanged" scm is
   * the one read after the last push). Defaults: the base's scm for both.
   */
  expectedScm?: Partial<Record<Side, number>>;
  /**
   * Folder for the private copies of the three inputs (about 3 × the collection size while the
   * merge runs). Default: the OS temp folder; on a small tmpfs give a folder on disk.
   */
  tmpDir?: string;
  /** Clock for the merged col.mod, ms (tests). Default Date.now(). */
  now?: number;
  /** At most this many conflicts are listed one by one in the report (all are counted). Default 200. */
  maxListedConflicts?: number;
}

export type ObjectKind = 'note' | 'card' | 'deck' | 'deckConfig' | 'noteType' | 'config';

/**
 * Why a side won:
 * - newer: its modification time is later;
 * - tie: same modification time, and Anki's sync keeps this side's version on a tie;
 * - deleted: one side deleted the object, the other edited it; Anki's sync applies deletions first;
 * - configFromDesktop: Anki's sync sends the whole collection config from one side only, and
 *   with the order it models (desktop first) that is the desktop's.
 */
export type ConflictReason = 'newer' | 'tie' | 'deleted' | 'configFromDesktop';

export interface Conflict {
  kind: ObjectKind;
  /** Object id (config: the key). */
  id: number | string;
  /** A name a person recognises: deck/note type/preset name, or the note's first field (shortened). */
  label?: string;
  winner: Side;
  reason: ConflictReason;
}

export interface SideReport {
  notesAdded: number;
  notesEdited: number;
  notesDeleted: number;
  /** Distinct cards with at least one new review on this side. */
  cardsReviewed: number;
  /** New review log entries on this side. */
  reviewsMade: number;
  /** Cards whose scheduling or other fields changed on this side (reviews, suspend, moves). */
  cardsChanged: number;
  decksChanged: number;
  decksDeleted: number;
}

export interface MergeReport {
  desktop: SideReport;
  phone: SideReport;
  /** Number of objects changed on both sides (or changed on one, deleted on the other). */
  conflictCount: number;
  conflictsByKind: Partial<Record<ObjectKind, number>>;
  /** The first `maxListedConflicts` conflicts. */
  conflicts: Conflict[];
  /**
   * Repairs the merge made that Anki's own sync would have left to Check Database, for people
   * (e.g. a parent deck re-created). Empty almost always.
   */
  repairs: string[];
  /** Totals in the merged collection. */
  merged: { notes: number; cards: number; revlog: number; decks: number };
  /** The col fields written into the merged file. */
  col: { mod: number; scm: number; usn: number; ls: number };
  durationMs: number;
  /** Where the time went (copyInputs, diff…, quickCheck, write), for logs and the bench. */
  timingsMs: Record<string, number>;
}
