/**
 * Where media jobs (media-jobs.ts) run. Hashing, zstd and CRC-32 of a big media folder are CPU
 * work; in worker threads they run on every core and the main thread stays free for the zip
 * writer and the event loop. Anki does the same work on one thread.
 *
 * - `openMediaRunner({ workers: n })` with n ≥ 1 starts n worker threads; each takes up to two
 *   jobs at a time (the next one waits in its queue, so a worker never idles on a round trip),
 *   or works through a shared list (runList).
 * - With n = 0 the jobs run on the calling thread, one per event-loop turn: for a few small
 *   files a worker's start-up costs more than the work, and on a machine whose cores are all
 *   busy workers gain nothing (mediaWorkersFor).
 * close() ends the workers; a worker that dies fails its jobs and the runner.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deserializeJobError, type SerializedJobError } from './media-job-error.js';
import { MediaJobState, runMediaJob, unpackMediaEntry, type MediaJob, type MediaJobResult, type UnpackJob, type UnpackResult } from './media-jobs.js';

export interface MediaRunner {
  /** Worker threads in use (0: the calling thread). */
  readonly workers: number;
  run<J extends MediaJob>(job: J, transfer?: ArrayBuffer[]): Promise<MediaJobResult<J>>;
  /**
   * Runs a whole list of unpack jobs: every worker takes the next job from a shared counter, so
   * the list goes on without a round trip per job — also while this thread is busy (a
   * collection's integrity check). `onResult` gets each job's result or error as it comes;
   * stop() leaves the jobs not yet started; `done` resolves when no job runs any more.
   * Jobs with `rename: 'gate'` rename their file themselves once openGate() was called (else
   * they return it for the caller to rename).
   */
  runList(jobs: UnpackJob[], onResult: ListResult): ListRun;
  close(): Promise<void>;
}

export type ListResult = (i: number, result: UnpackResult | undefined, error: unknown) => void;

export interface ListRun {
  done: Promise<void>;
  stop(): void;
  openGate(): void;
}

/**
 * Workers worth starting for this much work: none below `minBytes`; none while every core is
 * busy already (1-minute load average ≥ cores): more threads then only add their start-up
 * (~130 ms of CPU for two) and contend for the caches — measured on a 2-core machine at load
 * 5–8, two workers took 10–40 % longer and ~20 % more CPU than this thread alone; else one per
 * core (2..4). A background service also should not push harder on a busy machine.
 */
export function mediaWorkersFor(totalBytes: number, requested?: number, minBytes = WORKERS_MIN_BYTES, load = loadavg()[0] ?? 0): number {
  if (requested !== undefined) return Math.max(0, Math.floor(requested));
  if (totalBytes < minBytes) return 0;
  const cores = availableParallelism();
  if (load >= cores) return 0;
  return Math.min(4, Math.max(2, cores));
}

/** Below this much media, jobs run on the calling thread (a worker starts in ~20-40 ms). */
export const WORKERS_MIN_BYTES = 32 * 2 ** 20;

export function openMediaRunner(opts: { workers: number }): MediaRunner {
  return opts.workers > 0 ? new WorkerRunner(opts.workers) : new InlineRunner();
}

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

class InlineRunner implements MediaRunner {
  readonly workers = 0;
  private readonly state = new MediaJobState();

  async run<J extends MediaJob>(job: J): Promise<MediaJobResult<J>> {
    // One job per turn of the event loop, so timers and I/O callbacks still run in between.
    await nextTurn();
    return runMediaJob(job, this.state).result as MediaJobResult<J>;
  }

  runList(jobs: UnpackJob[], onResult: ListResult): ListRun {
    let stopped = false;
    let gate = false;
    const done = (async () => {
      for (let i = 0; i < jobs.length && !stopped; i++) {
        await nextTurn();
        if (stopped) break;
        let result: UnpackResult | undefined;
        let error: unknown;
        try {
          result = unpackMediaEntry(jobs[i] as UnpackJob, this.state, () => gate);
        } catch (e) {
          error = e ?? new Error('a media job failed');
        }
        onResult(i, result, error);
      }
    })();
    return { done, stop: () => void (stopped = true), openGate: () => void (gate = true) };
  }

  async close(): Promise<void> {}
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: Set<number>;
}

/** Jobs queued in one worker at a time. */
export const DEPTH = 2;

/** One list job's outcome as a worker reports it. */
interface ListItem {
  i: number;
  result?: UnpackResult;
  error?: SerializedJobError;
}

interface ListState {
  onResult: ListResult;
  counter: Int32Array;
  length: number;
  running: number;
  resolve(): void;
  reject(e: unknown): void;
}

class WorkerRunner implements MediaRunner {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly lists = new Map<number, ListState>();
  private readonly queue: Array<{ id: number; job: MediaJob; transfer: ArrayBuffer[] }> = [];
  private nextId = 1;
  private failure: unknown;
  private closed = false;

  constructor(readonly workers: number) {
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { worker: startWorker(), busy: new Set() };
      slot.worker.on('message', (msg: { id: number; result?: unknown; error?: SerializedJobError; list?: number; items?: ListItem[]; done?: boolean }) => {
        if (msg.list !== undefined) {
          this.listMessage(msg.list, msg);
          return;
        }
        slot.busy.delete(msg.id);
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(deserializeJobError(msg.error));
        else p?.resolve(msg.result);
        this.dispatch();
      });
      // A worker that dies (out of memory, a bug) fails every job: the work is not redone elsewhere.
      const died = (e: unknown): void => {
        if (this.closed || this.failure !== undefined) return;
        this.failure = e;
        this.failAll(e);
      };
      slot.worker.on('error', died);
      slot.worker.on('exit', (code) => died(new Error(`a media worker stopped (exit code ${code})`)));
      this.slots.push(slot);
    }
  }

  run<J extends MediaJob>(job: J, transfer: ArrayBuffer[] = []): Promise<MediaJobResult<J>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the media runner is closed'));
    const id = this.nextId++;
    const p = new Promise<MediaJobResult<J>>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.queue.push({ id, job, transfer });
    this.dispatch();
    return p;
  }

  runList(jobs: UnpackJob[], onResult: ListResult): ListRun {
    // [0]: the next job to take; [1]: 1 once the gate is open.
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const stop = (): void => {
      Atomics.store(counter, 0, jobs.length);
    };
    const openGate = (): void => {
      Atomics.store(counter, 1, 1);
    };
    if (this.failure !== undefined || this.closed) return { done: Promise.reject(this.failure ?? new Error('the media runner is closed')), stop, openGate };
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.lists.set(id, { onResult, counter, length: jobs.length, running: this.slots.length, resolve, reject });
    });
    for (const s of this.slots) s.worker.postMessage({ list: id, jobs, counter: counter.buffer });
    return { done, stop, openGate };
  }

  private listMessage(id: number, msg: { items?: ListItem[]; done?: boolean }): void {
    const l = this.lists.get(id);
    if (!l) return;
    if (msg.done) {
      if (--l.running === 0) {
        this.lists.delete(id);
        l.resolve();
      }
      return;
    }
    for (const it of msg.items ?? []) l.onResult(it.i, it.error ? undefined : it.result, it.error ? deserializeJobError(it.error) : undefined);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.failure === undefined) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.busy.size < DEPTH && (!best || s.busy.size < best.busy.size)) best = s;
      if (!best) return;
      const next = this.queue.shift() as { id: number; job: MediaJob; transfer: ArrayBuffer[] };
      best.busy.add(next.id);
      best.worker.postMessage({ id: next.id, job: next.job }, next.transfer);
    }
    if (this.failure !== undefined) this.failQueued(this.failure);
  }

  private failQueued(e: unknown): void {
    for (const q of this.queue.splice(0)) {
      this.pending.get(q.id)?.reject(e);
      this.pending.delete(q.id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('the media runner was closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Fails every job, queued or running; a list's counter is run out so its workers stop taking files. */
  private failAll(e: unknown): void {
    this.failQueued(e);
    for (const [id, p] of this.pending) {
      p.reject(e);
      this.pending.delete(id);
    }
    for (const [id, l] of this.lists) {
      Atomics.store(l.counter, 0, l.length);
      l.reject(e);
      this.lists.delete(id);
    }
  }
}

/**
 * The compiled worker (dist/…/media-worker.js) when there is one; run from the TypeScript
 * sources (tests, `tsx`), the .ts file is loaded through tsx's loader inside the worker.
 */
function startWorker(): Worker {
  const compiled = new URL('./media-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled);
  // tsx's ESM entry (the CommonJS one cannot register its loader from inside a worker); it lies
  // beside the CommonJS entry that require.resolve finds.
  const require = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(path.join(path.dirname(require.resolve('tsx/esm/api')), 'index.mjs')).href;
  const source = new URL('./media-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); });`;
  // No transform cache: tsx would create it in the OS temp folder, where nothing of ours may appear.
  return new Worker(boot, { eval: true, env: { ...process.env, TSX_DISABLE_CACHE: '1' } });
}
