/**
 * Writing a package's media files into a folder. Each file is written under a temporary name
 * and renamed only after its size and checksum were verified, so a damaged or lying package
 * never leaves a partial or wrong file. Existing files are never deleted.
 *
 * Small zip entries (most media) are unpacked whole by media jobs (media-jobs.ts) — in worker
 * threads when there is enough media to be worth it (media-pool.ts) — a few per worker in
 * flight; large ones stream through this thread. Memory stays at a few buffers per job.
 *
 * Durable (the default): each file is fsynced under its temporary name as soon as it is written
 * (while the next files are decoded, so the disk works in parallel with the CPU), then renamed,
 * and the folder is fsynced once at the end — on return every file is on disk under its name,
 * and a crash before that leaves whole files or temporary ones, never a partial file under a
 * media name.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileAtomic } from './write-file.js';
import type { MediaEntryInfo } from './media-map.js';
import type { ExtractMediaOptions } from './types.js';
import { isNormalizedMediaName } from './media-name.js';
import { asIoError } from './io-error.js';
import type { UnpackJob } from './media-jobs.js';
import { DEPTH, mediaWorkersFor, openMediaRunner } from './media-pool.js';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';

/** What a media job needs to unpack one entry, beyond where to and how. */
export type UnpackSource = Omit<UnpackJob, 'kind' | 'dir' | 'mode' | 'skipExistingSameContent' | 'rename'>;

/** Entries handled at once when there are no workers (streams overlap their I/O). */
const CONCURRENCY = 4;
/** fsyncs in flight at once (they share journal commits). */
const SYNCS = 8;

export async function extractMediaFiles(
  entries: readonly MediaEntryInfo[],
  open: (e: MediaEntryInfo) => AsyncIterable<Buffer>,
  toDir: string,
  opts: ExtractMediaOptions = {},
  /** A whole-entry job for a small entry, or undefined to stream it with `open`. */
  jobFor?: (e: MediaEntryInfo) => UnpackSource | undefined,
): Promise<{ written: string[]; skipped: string[] }> {
  await mkdir(toDir, { recursive: true }).catch((e: unknown) => {
    throw asIoError(e, toDir, 'create the folder');
  });
  const durable = opts.durable ?? true;
  const skipSame = opts.skipExistingSameContent ?? false;
  const jobs = entries.map((e) => jobFor?.(e));
  const jobBytes = entries.reduce((n, e, i) => n + (jobs[i] ? e.size : 0), 0);
  const runner = openMediaRunner({ workers: mediaWorkersFor(jobBytes, opts.mediaWorkers) });
  const syncs = new SyncQueue(SYNCS);
  const outcome: Array<'written' | 'skipped' | undefined> = new Array(entries.length);
  const total = entries.length;
  let done = 0;
  let next = 0;
  let failure: unknown;
  opts.onProgress?.({ phase: 'media', done: 0, total });
  const lane = async (): Promise<void> => {
    while (failure === undefined && !syncs.failed && next < entries.length) {
      const i = next++;
      const entry = entries[i] as MediaEntryInfo;
      try {
        const job = jobs[i];
        if (job) {
          const r = await runner.run({ ...job, kind: 'unpack', dir: toDir, mode: 0o644, skipExistingSameContent: skipSame, rename: !durable });
          if (r.outcome === 'written' && r.tmp) {
            const tmp = r.tmp;
            syncs.add(tmp, () => syncThenRename(tmp, path.join(toDir, entry.name)));
          }
          outcome[i] = r.outcome;
        } else {
          // Names were checked when the map was read; checked again because this is where they hit the disk.
          if (!isNormalizedMediaName(entry.name)) throw makeError(PackageErrors.MEDIA_NAME_INVALID, { path: toDir, name: entry.name });
          const target = path.join(toDir, entry.name);
          if (skipSame && (await sameContent(target, entry))) {
            outcome[i] = 'skipped';
          } else {
            // A large file: fsynced before its rename when durable; the folder once at the end.
            await writeFileAtomic(target, open(entry), { mode: 0o644, durable, syncDir: false });
            outcome[i] = 'written';
          }
        }
      } catch (e) {
        failure ??= e;
        return;
      }
      opts.onProgress?.({ phase: 'media', done: ++done, total });
    }
  };
  const lanes = runner.workers > 0 ? runner.workers * DEPTH + 1 : CONCURRENCY;
  // Every lane ends (no job still reads the package or writes here) before anything returns.
  await Promise.all(Array.from({ length: Math.min(lanes, entries.length) }, lane));
  await runner.close();
  const syncFailure = await syncs.settle(failure !== undefined);
  failure ??= syncFailure;
  if (failure !== undefined) throw asIoError(failure, toDir, 'write media into');
  if (durable) await syncDir(toDir);
  const written = entries.filter((_, i) => outcome[i] === 'written').map((e) => e.name);
  const skipped = entries.filter((_, i) => outcome[i] === 'skipped').map((e) => e.name);
  return { written, skipped };
}

async function syncThenRename(tmp: string, target: string): Promise<void> {
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, target);
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
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex') === entry.sha1;
}
