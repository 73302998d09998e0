/**
 * What replacing the desktop collection with a package would throw away (DESIGN.md invariant 3):
 * reviews in the desktop's revlog that the package does not have, and notes that were added or
 * edited on the desktop later than the package's copy (or that the package lacks). Deletions made
 * in the package are not "lost work" of the desktop and are not counted.
 */
import { openCollectionDb } from '../../apkg/sqlite.js';

export interface LossReport {
  reviewsMissing: number;
  /** Time (ms) of the oldest review the package lacks. */
  reviewsSince: number | null;
  notesNewer: number;
  notesSince: number | null;
  /** One sentence, or null when nothing would be lost. */
  sentence: string | null;
}

function shortDate(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const sameYear = d.getUTCFullYear() === new Date(now).getUTCFullYear();
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }), timeZone: 'UTC' });
}

export function compareForLoss(desktopCollection: string, packageCollection: string): LossReport {
  const pkg = openCollectionDb(packageCollection, { readonly: true, untrusted: true });
  let revIds: Set<number>;
  let noteMods: Map<number, number>;
  try {
    revIds = new Set(pkg.prepare('SELECT id FROM revlog').pluck().all() as number[]);
    noteMods = new Map((pkg.prepare('SELECT id, mod FROM notes').raw().all() as Array<[number, number]>).map(([id, mod]) => [id, mod]));
  } finally {
    pkg.close();
  }
  const desk = openCollectionDb(desktopCollection, { readonly: true });
  let reviewsMissing = 0;
  let reviewsSince: number | null = null;
  let notesNewer = 0;
  let notesSince: number | null = null;
  try {
    for (const id of desk.prepare('SELECT id FROM revlog').pluck().iterate() as IterableIterator<number>) {
      if (revIds.has(id)) continue;
      reviewsMissing += 1;
      if (reviewsSince === null || id < reviewsSince) reviewsSince = id;
    }
    for (const [id, mod] of desk.prepare('SELECT id, mod FROM notes').raw().iterate() as IterableIterator<[number, number]>) {
      const theirs = noteMods.get(id);
      if (theirs !== undefined && theirs >= mod) continue;
      notesNewer += 1;
      const ms = mod * 1000;
      if (notesSince === null || ms < notesSince) notesSince = ms;
    }
  } finally {
    desk.close();
  }
  const parts: string[] = [];
  if (reviewsMissing > 0) {
    parts.push(`${reviewsMissing} review${reviewsMissing === 1 ? '' : 's'} made on this computer since ${shortDate(reviewsSince as number)} ${reviewsMissing === 1 ? 'is' : 'are'} not in this package`);
  }
  if (notesNewer > 0) {
    parts.push(`${notesNewer} note${notesNewer === 1 ? '' : 's'} added or edited on this computer since ${shortDate(notesSince as number)} ${notesNewer === 1 ? 'is' : 'are'} newer than in this package`);
  }
  return { reviewsMissing, reviewsSince, notesNewer, notesSince, sentence: parts.length > 0 ? parts.join('; ') : null };
}
