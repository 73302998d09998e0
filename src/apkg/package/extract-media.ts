/**
 * Writing a package's media files into a folder. Each file is written under a temporary name
 * and renamed only after its size and checksum were verified, so a damaged or lying package
 * never leaves a partial or wrong file. Existing files are never deleted.
 *
 * Small zip entries (most media) are unpacked whole by media jobs (media-jobs.ts): the whole
 * list goes to the runner at once, in worker threads when there is enough media to be worth it
 * (media-pool.ts), each worker taking the next entry as it is free. Large ones stream through
 * this thread. Memory stays at a few buffers per worker.
 *
 * A `gate` (openPackage's `media` option): files are written under temporary names while the
 * collection is still being checked; none gets its media name before the gate opens, and if it
 * fails every temporary file (and a folder made for them) is removed again.
 *
 * Durable (the default): each file is fsynced under its temporary name as soon as it is written
 * (while the next files are decoded, so the disk works in parallel with the CPU), then renamed,
 * and the folder is fsynced once at the end — on return every file is on disk under its name,
 * and a crash before that leaves whole files or temporary ones, never a partial file under a
 * media name.
 */
import { mkdir, open, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileAtomic } from './write-file.js';
import { hashFile } from '../fs-durable.js';
import type { MediaEntryInfo } from './media-map.js';
import type { ExtractedMedia, ExtractMediaOptions } from './types.js';
import { isNormalizedMediaName } from './media-name.js';
import { asIoError } from './io-error.js';
import type { UnpackJob } from './media-jobs.js';
import { mediaWorkersFor, openMediaRunner, type ListRun } from './media-pool.js';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';

/** What a media job needs to unpack one entry, beyond where to and how. */
export type UnpackSource = Omit<UnpackJob, 'kind' | 'dir' | 'mode' | 'skipExistingSameContent' | 'rename'>;

/** Large entries streamed at once (their I/O overlaps). */
const STREAMS = 2;
/** fsync-and-rename tasks in flight at once (fsyncs share journal commits). */
const SYNCS = 8;
const OPEN = Promise.resolve();

export async function extractMediaFiles(
  entries: readonly MediaEntryInfo[],
  open: (e: MediaEntryInfo) => AsyncIterable<Buffer>,
  toDir: string,
  opts: ExtractMediaOptions = {},
  /** A whole-entry job for a small entry, or undefined to stream it with `open`. */
  jobFor?: (e: MediaEntryInfo) => UnpackSource | undefined,
  /** Nothing gets its media name before this resolves; if it rejects, nothing is left behind. */
  gate: Promise<void> = OPEN,
): Promise<ExtractedMedia> {
  const gated = gate !== OPEN;
  let failure: unknown;
  let list: ListRun | undefined = undefined;
  const fail = (e: unknown): void => {
    failure ??= e;
    list?.stop();
  };
  // A failing gate stops the work at once (and is never an unhandled rejection, even before
  // the first await below); an open one lets the workers rename what they write from then on.
  let gateOpen = false;
  gate.then(() => {
    gateOpen = true;
    list?.openGate();
  }, fail);
  let created: string | undefined;
  try {
    created = await mkdir(toDir, { recursive: true });
  } catch (e) {
    throw asIoError(e, toDir, 'create the folder');
  }
  const durable = opts.durable ?? true;
  const skipSame = opts.skipExistingSameContent ?? false;
  const total = entries.length;
  const outcome: Array<'written' | 'skipped' | undefined> = new Array(total);
  let done = 0;
  const progress = (): void => opts.onProgress?.({ phase: 'media', done: ++done, total });
  opts.onProgress?.({ phase: 'media', done: 0, total });

  // Renames (after an fsync when durable) wait for the gate; a failure removes the file instead.
  const syncs = new SyncQueue(SYNCS);
  const commit = (tmp: string, target: string): void =>
    syncs.add(tmp, async () => {
      await gate;
      if (failure !== undefined) throw failure;
      if (durable) await fsyncFile(tmp);
      await rename(tmp, target);
    });

  const discarded: Array<Promise<void>> = [];
  const small: number[] = [];
  const large: number[] = [];
  const jobs: UnpackJob[] = [];
  for (const [i, e] of entries.entries()) {
    const source = jobFor?.(e);
    if (!source) {
      large.push(i);
      continue;
    }
    small.push(i);
    // Workers rename themselves unless an fsync has to come first; behind a gate, only once it is open.
    jobs.push({ ...source, kind: 'unpack', dir: toDir, mode: 0o644, skipExistingSameContent: skipSame, rename: durable ? false : gated ? 'gate' : true });
  }
  const jobBytes = small.reduce((n, i) => n + (entries[i] as MediaEntryInfo).size, 0);
  const runner = openMediaRunner({ workers: mediaWorkersFor(jobBytes, opts.mediaWorkers) });
  list = jobs.length > 0
    ? runner.runList(jobs, (j, result, error) => {
        const i = small[j] as number;
        if (error !== undefined || !result) return fail(error ?? new Error('a media job gave no result'));
        if (result.outcome === 'written' && result.tmp) {
          // Written after a failure elsewhere: not wanted any more.
          if (failure !== undefined) return void discarded.push(unlink(result.tmp).catch(() => undefined));
          commit(result.tmp, path.join(toDir, (entries[i] as MediaEntryInfo).name));
        }
        outcome[i] = result.outcome;
        progress();
      })
    : undefined;
  if (gateOpen) list?.openGate();

  // Large files stream through this thread, once the gate is open.
  let nextLarge = 0;
  const streamLane = async (): Promise<void> => {
    await gate;
    while (failure === undefined && !syncs.failed && nextLarge < large.length) {
      const i = large[nextLarge++] as number;
      const entry = entries[i] as MediaEntryInfo;
      // Names were checked when the map was read; checked again because this is where they hit the disk.
      if (!isNormalizedMediaName(entry.name)) throw makeError(PackageErrors.MEDIA_NAME_INVALID, { path: toDir, name: entry.name });
      const target = path.join(toDir, entry.name);
      if (skipSame && (await sameContent(target, entry))) {
        outcome[i] = 'skipped';
      } else {
        // Fsynced before its rename when durable; the folder once at the end.
        await writeFileAtomic(target, open(entry), { mode: 0o644, durable, syncDir: false });
        outcome[i] = 'written';
      }
      progress();
    }
  };
  const streams = Array.from({ length: Math.min(STREAMS, large.length) }, () => streamLane().catch(fail));

  // Everything ends — no job still reads the package or writes here — before anything returns.
  await Promise.all([list?.done.catch(fail), ...streams]);
  await runner.close();
  await gate.catch(fail);
  const syncFailure = await syncs.settle(failure !== undefined);
  await Promise.all(discarded);
  failure ??= syncFailure;
  if (failure !== undefined) {
    if (gated && created) await removeCreated(created, toDir);
    throw asIoError(failure, toDir, 'write media into');
  }
  if (durable) await syncDir(toDir);
  const written = entries.filter((_, i) => outcome[i] === 'written').map((e) => e.name);
  const skipped = entries.filter((_, i) => outcome[i] === 'skipped').map((e) => e.name);
  return { written, skipped, mediaWorkers: runner.workers };
}

/** fs-durable's fsyncFile, on the thread pool: many in flight while the next files are decoded. */
async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The folders mkdir made for a gated extraction that failed, if they are empty (they should be). */
async function removeCreated(created: string, toDir: string): Promise<void> {
  for (let dir = toDir; ; dir = path.dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) return;
    if (dir === created || path.dirname(dir) === dir) return;
  }
}

/**
 * fsync-and-rename tasks, a bounded number at once, in the order they come. The first failure
 * stops the rest; settle() waits for those running and removes the files of those not started.
 */
class SyncQueue {
  private readonly waiting: Array<{ tmp: string; run: () => Promise<void> }> = [];
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  private stopped = false;

  constructor(private readonly limit: number) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  add(tmp: string, run: () => Promise<void>): void {
    this.waiting.push({ tmp, run });
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.limit && this.waiting.length > 0) {
      const t = this.waiting.shift() as { tmp: string; run: () => Promise<void> };
      const p: Promise<void> = t
        .run()
        .catch(async (e: unknown) => {
          this.failure ??= e;
          this.stopped = true;
          await unlink(t.tmp).catch(() => undefined);
        })
        .finally(() => {
          this.running.delete(p);
          this.pump();
        });
      this.running.add(p);
    }
  }

  /** Waits for every task (all of them, or with `stop` only those running); returns the first failure. */
  async settle(stop: boolean): Promise<unknown> {
    if (stop) this.stopped = true;
    while (this.running.size > 0) await Promise.all([...this.running]);
    await Promise.all(this.waiting.splice(0).map((t) => unlink(t.tmp).catch(() => undefined)));
    return this.failure;
  }
}

/** Same test as Anki's colpkg import: sha1 when the map has one, else the size. */
async function sameContent(file: string, entry: MediaEntryInfo): Promise<boolean> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  if (size !== entry.size) return false;
  if (!entry.sha1) return true;
  return (await hashFile(file, 'sha1').catch(() => '')) === entry.sha1;
}
