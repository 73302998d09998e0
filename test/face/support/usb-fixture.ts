// A stand-in for the USB sync layer (issue 6, not built yet) that feeds the daemon's decision
// model through its real interface (DecisionSource). The collections are real: made by real Anki
// (the peer), read with our collection code (summarizeCollection, compareForLoss for the guard's
// numbers), merged with the real merge engine, and backed up in the real backup store before
// anything is overwritten. What is simulated: the phone (a folder instead of an MTP device) and
// the plug-in (a method call instead of a hotplug event).
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openCollectionDb } from '../../../src/apkg/sqlite.js';
import { summarizeCollection } from '../../../src/apkg/collection/summary.js';
import { mergeCollections } from '../../../src/apkg/merge/index.js';
import { compareForLoss } from '../../../src/sync/desktop/loss.js';
import { openDesktopServices } from '../../../src/sync/desktop/services.js';
import type { DaemonPlugin } from '../../../src/daemon/plugins.js';
import type { JobHandler } from '../../../src/daemon/jobs/types.js';
import type { DecisionAction, DecisionSource, PairState, PendingDecision, SideSummary } from '../../../src/daemon/decisions/types.js';
import { AnkiPeer } from '../../peer/peer.js';

export interface FixtureFiles {
  dir: string;
  base: string;
  desktop: string;
  phone: string;
  /** Reviews in the base (both sides start with these). */
  baseReviews: number;
}

export function copyCollection(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  for (const f of ['-wal', '-journal', '-shm', '']) rmSync(to + f, { force: true });
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
}

/** Base with a few weeks of history; then 5 reviews on the desktop and 23 on the phone (real Anki). */
export async function makeCollections(dir: string): Promise<FixtureFiles> {
  const files: FixtureFiles = { baseReviews: 0, dir, base: path.join(dir, 'base.anki2'), desktop: path.join(dir, 'desktop', 'collection.anki2'), phone: path.join(dir, 'phone', 'collection.anki2') };
  const peer = await AnkiPeer.start();
  try {
    // Many cards with one review each over 12 days: enough of them are due again for new reviews.
    files.baseReviews = (await peer.createCollection({ path: files.base, notes: 150, seed: 7, reviews: 150, days: 12 })).revlog;
    copyCollection(files.base, files.desktop);
    copyCollection(files.base, files.phone);
    await peer.modify(files.desktop, [{ op: 'review', count: 5, ease: 3 }], { seed: 1 });
    await peer.modify(files.phone, [{ op: 'review', count: 23, ease: 3 }, { op: 'addNotes', count: 2 }], { seed: 2 });
  } finally {
    await peer.close();
  }
  return files;
}

interface SideFacts {
  summary: ReturnType<typeof summarizeCollection>;
  newestReviewId: number;
  newestNoteMod: number;
  perDay: Array<{ day: string; count: number }>;
}

function readSide(file: string): SideFacts {
  const db = openCollectionDb(file, { readonly: true });
  try {
    const summary = summarizeCollection(db);
    const perDay = (db.prepare('SELECT id / 86400000 AS d, count(*) AS n FROM revlog GROUP BY d ORDER BY d').all() as Array<{ d: number; n: number }>).map((r) => ({
      day: new Date(r.d * 86400000).toISOString().slice(0, 10),
      count: r.n,
    }));
    return {
      summary,
      newestReviewId: (db.prepare('SELECT coalesce(max(id), 0) FROM revlog').pluck().get() as number) ?? 0,
      newestNoteMod: (db.prepare('SELECT coalesce(max(mod), 0) FROM notes').pluck().get() as number) ?? 0,
      perDay,
    };
  } finally {
    db.close();
  }
}

function sinceBase(file: string, base: SideFacts): { reviews: number; notes: number } {
  const db = openCollectionDb(file, { readonly: true });
  try {
    return {
      reviews: db.prepare('SELECT count(*) FROM revlog WHERE id > ?').pluck().get(base.newestReviewId) as number,
      notes: db.prepare('SELECT count(*) FROM notes WHERE mod > ?').pluck().get(base.newestNoteMod) as number,
    };
  } finally {
    db.close();
  }
}

const shortDate = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

/** The guard's sentence from the real loss comparison: what `overwritten` has that `incoming` lacks. */
function guardSentence(overwritten: string, incoming: string, where: string): string | null {
  const loss = compareForLoss(overwritten, incoming);
  if (loss.reviewsMissing === 0 && loss.notesNewer === 0) return null;
  const parts: string[] = [];
  if (loss.reviewsMissing > 0) parts.push(`${loss.reviewsMissing} review${loss.reviewsMissing === 1 ? '' : 's'} made on ${where} since ${shortDate(loss.reviewsSince as number)}`);
  if (loss.notesNewer > 0) parts.push(`${loss.notesNewer} note${loss.notesNewer === 1 ? '' : 's'} added or edited on ${where}`);
  return `${parts.join(' and ')} will be lost`;
}

export class FixturePhone implements DecisionSource {
  private plugged = false;
  private readonly listeners = new Set<() => void>();
  private cached: PendingDecision[] | undefined;
  readonly deviceId = 'R58N12ABCDE';
  readonly deviceLabel = 'Pixel 7 (AnkiDroid 2.19)';

  constructor(readonly files: FixtureFiles) {
    for (const f of [files.base, files.desktop, files.phone]) copyCollection(f, `${f}.orig`);
  }

  /** Puts the three collections back as they were made (for a second scenario on the same daemon). */
  reset(): void {
    for (const f of [this.files.base, this.files.desktop, this.files.phone]) copyCollection(`${f}.orig`, f);
    this.changed();
  }

  plug(): void {
    this.plugged = true;
    this.changed();
  }

  unplug(): void {
    this.plugged = false;
    this.changed();
  }

  changed(): void {
    this.cached = undefined;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): PendingDecision[] {
    if (!this.plugged) return [];
    this.cached ??= this.compute();
    return this.cached;
  }

  private compute(): PendingDecision[] {
    const base = readSide(this.files.base);
    const desk = readSide(this.files.desktop);
    const phone = readSide(this.files.phone);
    const dChange = sinceBase(this.files.desktop, base);
    const pChange = sinceBase(this.files.phone, base);
    const dChanged = dChange.reviews + dChange.notes > 0;
    const pChanged = pChange.reviews + pChange.notes > 0;
    const state: PairState = dChanged && pChanged ? 'both-changed' : dChanged ? 'desktop-ahead' : pChanged ? 'phone-ahead' : 'in-step';
    if (state === 'in-step') return [];
    const side = (label: string, f: SideFacts, c: { reviews: number; notes: number }): SideSummary => ({
      label,
      reviewsSinceBase: c.reviews,
      notesChangedSinceBase: c.notes,
      newestReviewAt: f.summary.newestReview === null ? null : new Date(f.summary.newestReview).toISOString(),
      cards: f.summary.cards,
      source: label === 'this computer' ? 'live collection' : 'live collection (copied from the phone)',
      reviewsPerDay: f.perDay,
    });
    const pullGuard = guardSentence(this.files.desktop, this.files.phone, 'this computer');
    const pushGuard = guardSentence(this.files.phone, this.files.desktop, 'the phone');
    const recommended = state === 'both-changed' ? 'sync-both' : state === 'phone-ahead' ? 'copy-phone-to-desktop' : 'copy-desktop-to-phone';
    const action = (id: DecisionAction['id'], label: string, kind: 'usb.merge' | 'usb.pull' | 'usb.push', guard: string | null): DecisionAction => ({
      id,
      label,
      job: { kind, params: { device: this.deviceId } },
      recommended: recommended === id,
      needsConfirmation: guard !== null,
      guard,
      available: true,
    });
    return [
      {
        id: `${this.deviceId}:${desk.newestReviewId}-${phone.newestReviewId}`,
        deviceId: this.deviceId,
        deviceLabel: this.deviceLabel,
        state,
        headline: `Phone has ${pChange.reviews} new reviews, desktop has ${dChange.reviews}`,
        desktop: side('this computer', desk, dChange),
        phone: side('Pixel 7', phone, pChange),
        baseAt: new Date(base.newestReviewId).toISOString(),
        actions: [
          action('sync-both', 'Sync both', 'usb.merge', null),
          action('copy-phone-to-desktop', 'Copy phone → desktop', 'usb.pull', pullGuard),
          action('copy-desktop-to-phone', 'Copy desktop → phone', 'usb.push', pushGuard),
        ],
        recommended,
        createdAt: new Date().toISOString(),
      },
    ];
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/**
 * The daemon plugin: the decision source, and job handlers for the three answers. `usb.merge`
 * backs both sides up in the real backup store, merges with the real engine and writes the result
 * to both sides; `stepMs` slows the steps down so a browser can watch the progress.
 */
export function fixturePlugin(phone: FixturePhone, opts: { dataDir: string; stateDb: string; stepMs: number }): DaemonPlugin & { close(): void } {
  let db: Database.Database | undefined;
  const services = () => {
    if (!db) {
      db = new Database(opts.stateDb);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
    }
    return openDesktopServices(db, opts.dataDir);
  };
  const f = phone.files;
  const paramsSchema = { type: 'object', additionalProperties: false, properties: { device: { type: 'string' }, confirm: { type: 'boolean' } } };
  const backup = (file: string, label: string) =>
    services().backups.create({ collectionPath: file, source: label === 'desktop' ? 'desktop' : 'phone', label, reason: 'pre-merge' });
  const merge: JobHandler<{ device: string }, { reviewsUnion: number }> = {
    kind: 'usb.merge',
    description: 'Fixture: merge desktop and phone (real merge engine, real backups).',
    paramsSchema,
    collectionOf: () => 'desktop',
    async run(ctx) {
      ctx.progress({ fraction: 0.1, step: 'backup', message: 'Backing up both sides' });
      backup(f.desktop, 'desktop');
      backup(f.phone, 'Pixel 7');
      await sleep(opts.stepMs, ctx.signal);
      ctx.progress({ fraction: 0.4, step: 'merge', message: 'Merging reviews and notes' });
      const out = path.join(f.dir, 'merged.anki2');
      mergeCollections({ base: f.base, desktop: f.desktop, phone: f.phone, out });
      await sleep(opts.stepMs, ctx.signal);
      ctx.progress({ fraction: 0.7, step: 'write', message: 'Writing the merged collection to both sides' });
      copyCollection(out, f.desktop);
      copyCollection(out, f.phone);
      copyCollection(out, f.base);
      await sleep(opts.stepMs, ctx.signal);
      ctx.progress({ fraction: 1, step: 'verify', message: 'Checking both sides' });
      const db = openCollectionDb(f.desktop, { readonly: true });
      const reviewsUnion = db.prepare('SELECT count(*) FROM revlog').pluck().get() as number;
      db.close();
      // The phone and the desktop now agree: the question goes away.
      setImmediate(() => phone.changed());
      return { reviewsUnion };
    },
  };
  const copy = (kind: 'usb.pull' | 'usb.push'): JobHandler<{ device: string; confirm?: boolean }, { copied: string }> => ({
    kind,
    description: `Fixture: ${kind === 'usb.pull' ? 'phone → desktop' : 'desktop → phone'} (a backup first).`,
    paramsSchema,
    collectionOf: () => 'desktop',
    async run(ctx) {
      const [from, to] = kind === 'usb.pull' ? [f.phone, f.desktop] : [f.desktop, f.phone];
      ctx.progress({ fraction: 0.2, step: 'backup' });
      backup(to, kind === 'usb.pull' ? 'desktop' : 'Pixel 7');
      await sleep(opts.stepMs, ctx.signal);
      copyCollection(from, to);
      copyCollection(from, f.base);
      setImmediate(() => phone.changed());
      return { copied: kind };
    },
  });
  const cloudSync: JobHandler<{ collection?: string }, { ok: true }> = {
    kind: 'cloud.sync',
    description: 'Fixture: cloud sync stand-in (the cloud room has no daemon plugin yet).',
    paramsSchema: { type: 'object', additionalProperties: false, properties: { collection: { type: 'string' } } },
    async run(ctx) {
      ctx.progress({ fraction: 0.5, step: 'sync' });
      await sleep(50, ctx.signal);
      return { ok: true };
    },
  };
  return {
    name: 'face fixture (USB stand-in)',
    jobHandlers: [merge as never, copy('usb.pull') as never, copy('usb.push') as never, cloudSync as never],
    providers: {
      decisions: phone,
      collectionFree: { isCollectionFree: async () => ({ free: true }) },
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}
