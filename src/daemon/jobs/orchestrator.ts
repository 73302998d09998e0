import { randomUUID } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { strictAjv } from '../ajv.js';
import type { Logger } from 'pino';
import { isAnkibridgeError, makeError, type AnkibridgeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import type { EventBus } from '../events/bus.js';
import type { JobHistory } from './history.js';
import { AUTOMATIC_ORIGINS, type Json, type JobHandler, type JobKind, type JobOrigin, type JobProgress, type JobSummary } from './types.js';

interface Job {
  summary: JobSummary;
  handler: JobHandler<never, Json>;
  controller: AbortController;
  done: Promise<void>;
  resolveDone: () => void;
  lastProgressEmit: number;
  trailingProgress: NodeJS.Timeout | undefined;
}

export interface StartJobRequest {
  kind: string;
  params?: unknown;
  collection?: string;
  origin: JobOrigin;
}

/** Minimum gap between two progress events of one job; later calls are coalesced into a trailing one. */
const PROGRESS_EVENT_GAP_MS = 100;
/** Finished jobs kept in memory for quick lookups (all are in the history table). */
const RECENT_LIMIT = 200;

/**
 * Runs jobs: at most one at a time per collection, others wait in a FIFO queue per collection;
 * each job can be cancelled; every state change is an event on the bus and a row in the history.
 */
export class Orchestrator {
  private readonly handlers = new Map<string, { handler: JobHandler<never, Json>; validate: ValidateFunction }>();
  private readonly jobs = new Map<string, Job>();
  private readonly queues = new Map<string, Job[]>();
  private readonly running = new Map<string, Job>();
  private readonly recent: string[] = [];
  private closing = false;

  constructor(
    private readonly deps: {
      bus: EventBus;
      history: JobHistory;
      log: Logger;
      maxQueuePerCollection: () => number;
      /** A reason string while automatic jobs are paused, else undefined. */
      pausedReason: () => string | undefined;
    },
  ) {}

  register(handler: JobHandler<never, Json>): void {
    if (this.handlers.has(handler.kind)) throw new Error(`a handler for job kind ${handler.kind} is already registered`);
    this.handlers.set(handler.kind, { handler, validate: strictAjv.compile(handler.paramsSchema) });
  }

  kinds(): Array<{ kind: JobKind; description: string; paramsSchema: Readonly<Record<string, unknown>> }> {
    return [...this.handlers.values()].map(({ handler }) => ({ kind: handler.kind, description: handler.description, paramsSchema: handler.paramsSchema }));
  }

  hasHandler(kind: string): boolean {
    return this.handlers.has(kind);
  }

  start(req: StartJobRequest): JobSummary {
    if (this.closing) throw makeError(DaemonErrors.SHUTTING_DOWN);
    const entry = this.handlers.get(req.kind);
    if (!entry) throw makeError(DaemonErrors.JOB_KIND_UNKNOWN, { kind: req.kind, known: [...this.handlers.keys()].join(', ') });
    if (AUTOMATIC_ORIGINS.has(req.origin)) {
      const paused = this.deps.pausedReason();
      if (paused !== undefined) throw makeError(DaemonErrors.PAUSED, { until: paused });
    }
    const params: unknown = req.params === undefined ? {} : structuredClone(req.params);
    if (!entry.validate(params)) {
      const reason = (entry.validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || 'params'} ${e.message ?? 'is invalid'}`).join('; ');
      throw makeError(DaemonErrors.JOB_INPUT_INVALID, { kind: req.kind, reason });
    }
    const collection = req.collection ?? entry.handler.collectionOf?.(params as never) ?? defaultCollection(params);
    const queue = this.queues.get(collection) ?? [];
    if (queue.length >= this.deps.maxQueuePerCollection()) {
      throw makeError(DaemonErrors.QUEUE_FULL, { collection, limit: this.deps.maxQueuePerCollection() });
    }
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const job: Job = {
      summary: {
        id: randomUUID(),
        kind: entry.handler.kind,
        collection,
        origin: req.origin,
        state: 'queued',
        params: params as Json,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        progress: null,
        result: null,
        error: null,
      },
      handler: entry.handler,
      controller: new AbortController(),
      done,
      resolveDone,
      lastProgressEmit: 0,
      trailingProgress: undefined,
    };
    this.jobs.set(job.summary.id, job);
    queue.push(job);
    this.queues.set(collection, queue);
    this.deps.history.upsert(job.summary);
    this.deps.bus.emit('job.queued', { job: { ...job.summary } });
    this.pump(collection);
    return { ...job.summary };
  }

  get(id: string): JobSummary {
    const job = this.jobs.get(id);
    if (job) return { ...job.summary };
    const stored = this.deps.history.get(id);
    if (stored) return stored;
    throw makeError(DaemonErrors.JOB_NOT_FOUND, { id });
  }

  /** Active jobs first (running, then queued in order), then recently finished ones. */
  list(): JobSummary[] {
    const active = [...this.running.values(), ...[...this.queues.values()].flat()];
    const finished = this.recent
      .map((id) => this.jobs.get(id))
      .filter((j): j is Job => j !== undefined)
      .reverse();
    return [...active, ...finished].map((j) => ({ ...j.summary }));
  }

  activeCount(): { running: number; queued: number } {
    return { running: this.running.size, queued: [...this.queues.values()].reduce((n, q) => n + q.length, 0) };
  }

  isActive(kind: string, collection: string): boolean {
    return [...this.running.values(), ...[...this.queues.values()].flat()].some((j) => j.summary.kind === kind && j.summary.collection === collection);
  }

  cancel(id: string): JobSummary {
    const job = this.jobs.get(id);
    if (!job) {
      const stored = this.deps.history.get(id);
      if (stored) throw makeError(DaemonErrors.JOB_ALREADY_FINISHED, { id, state: stored.state });
      throw makeError(DaemonErrors.JOB_NOT_FOUND, { id });
    }
    const { state } = job.summary;
    if (state === 'queued') {
      const queue = this.queues.get(job.summary.collection) ?? [];
      queue.splice(queue.indexOf(job), 1);
      this.finish(job, 'cancelled', null, makeError(GeneralErrors.CANCELLED));
    } else if (state === 'running') {
      // The handler stops at its next safe point; finish() runs when it returns.
      job.controller.abort(makeError(GeneralErrors.CANCELLED));
      this.deps.bus.emit('job.cancelling', { id });
    } else {
      throw makeError(DaemonErrors.JOB_ALREADY_FINISHED, { id, state });
    }
    return { ...job.summary };
  }

  /** Resolves when the job has finished (any state). */
  async waitFor(id: string): Promise<JobSummary> {
    const job = this.jobs.get(id);
    if (job) await job.done;
    return this.get(id);
  }

  /**
   * Stops taking jobs, cancels queued ones, gives running ones `graceMs` to finish, then aborts
   * them and waits (handlers stop at a safe point) up to `abortWaitMs` more.
   */
  async shutdown(graceMs: number, abortWaitMs: number): Promise<{ unfinished: number }> {
    this.closing = true;
    for (const queue of this.queues.values()) {
      for (const job of queue.splice(0)) this.finish(job, 'cancelled', null, makeError(DaemonErrors.SHUTTING_DOWN));
    }
    const runningDone = () => Promise.all([...this.running.values()].map((j) => j.done));
    if (this.running.size > 0) {
      await raceTimeout(runningDone(), graceMs);
      for (const job of this.running.values()) job.controller.abort(makeError(DaemonErrors.SHUTTING_DOWN));
      await raceTimeout(runningDone(), abortWaitMs);
    }
    for (const job of this.jobs.values()) clearTimeout(job.trailingProgress);
    return { unfinished: this.running.size };
  }

  private pump(collection: string): void {
    if (this.running.has(collection)) return;
    const queue = this.queues.get(collection);
    const job = queue?.shift();
    if (!job) {
      this.queues.delete(collection);
      return;
    }
    this.running.set(collection, job);
    void this.run(job);
  }

  private async run(job: Job): Promise<void> {
    const s = job.summary;
    s.state = 'running';
    s.startedAt = new Date().toISOString();
    this.deps.history.upsert(s);
    this.deps.bus.emit('job.started', { job: { ...s } });
    const log = this.deps.log.child({ job: s.id, kind: s.kind });
    try {
      const result = await job.handler.run({
        id: s.id,
        kind: s.kind,
        collection: s.collection,
        params: s.params as never,
        signal: job.controller.signal,
        progress: (p) => this.progress(job, p),
        log,
      });
      if (job.controller.signal.aborted) this.finish(job, 'cancelled', null, asCancel(job.controller.signal.reason));
      else this.finish(job, 'succeeded', result ?? null, null);
    } catch (e) {
      if (job.controller.signal.aborted) {
        this.finish(job, 'cancelled', null, asCancel(job.controller.signal.reason));
      } else {
        const err = isAnkibridgeError(e)
          ? e
          : makeError(DaemonErrors.JOB_FAILED, { id: s.id, kind: s.kind, reason: e instanceof Error ? e.message : String(e) }, e);
        log.error({ err: { code: err.code, message: err.message } }, 'job failed');
        this.finish(job, 'failed', null, err);
      }
    }
  }

  private progress(job: Job, p: JobProgress): void {
    if (job.summary.state !== 'running') return;
    const clean: JobProgress = {};
    if (typeof p.fraction === 'number' && Number.isFinite(p.fraction)) clean.fraction = Math.min(1, Math.max(0, p.fraction));
    if (typeof p.step === 'string') clean.step = p.step.slice(0, 80);
    if (typeof p.message === 'string') clean.message = p.message.slice(0, 500);
    job.summary.progress = clean;
    const now = Date.now();
    const emit = () => {
      job.trailingProgress = undefined;
      job.lastProgressEmit = Date.now();
      if (job.summary.state === 'running') this.deps.bus.emit('job.progress', { id: job.summary.id, progress: job.summary.progress });
    };
    if (now - job.lastProgressEmit >= PROGRESS_EVENT_GAP_MS) emit();
    else job.trailingProgress ??= setTimeout(emit, PROGRESS_EVENT_GAP_MS - (now - job.lastProgressEmit));
  }

  private finish(job: Job, state: 'succeeded' | 'failed' | 'cancelled', result: Json | null, error: AnkibridgeError | null): void {
    clearTimeout(job.trailingProgress);
    job.trailingProgress = undefined;
    const s = job.summary;
    s.state = state;
    s.finishedAt = new Date().toISOString();
    s.result = result;
    s.error = error ? { code: error.code, message: error.message, hint: error.hint } : null;
    this.deps.history.upsert(s);
    this.deps.bus.emit('job.finished', { job: { ...s } });
    if (this.running.get(s.collection) === job) this.running.delete(s.collection);
    this.recent.push(s.id);
    while (this.recent.length > RECENT_LIMIT) {
      const old = this.recent.shift();
      if (old !== undefined) this.jobs.delete(old);
    }
    job.resolveDone();
    if (!this.closing) this.pump(s.collection);
  }
}

function defaultCollection(params: unknown): string {
  const c = (params as { collection?: unknown } | null)?.collection;
  return typeof c === 'string' && c.length > 0 ? c : 'desktop';
}

function asCancel(reason: unknown): AnkibridgeError {
  return isAnkibridgeError(reason) ? reason : makeError(GeneralErrors.CANCELLED);
}

async function raceTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}
