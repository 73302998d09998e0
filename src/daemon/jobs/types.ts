/**
 * The contract between the daemon's orchestrator and the rooms that do the work (sync, backups).
 *
 * Every action is a job. A room implements a JobHandler for a kind and registers it (see
 * src/daemon/plugins.ts); the orchestrator validates the params against `paramsSchema`, queues
 * the job behind any other job on the same collection, runs it, relays its progress as events,
 * records it in the history, and aborts `ctx.signal` when the job is cancelled or the daemon
 * shuts down.
 */
import type { Logger } from 'pino';

/** The kinds the daemon knows by name. `noop` and `selftest` are built in (for tests and health checks). */
export const JOB_KINDS = ['usb.pull', 'usb.push', 'usb.merge', 'cloud.sync', 'backup', 'restore', 'noop', 'selftest'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * Who asked for the job. Automatic origins (`scheduler`, `hotplug`, `desktop-closed`: Anki
 * Desktop closed a changed collection) are refused while paused.
 */
export type JobOrigin = 'api' | 'cli' | 'tray' | 'dashboard' | 'scheduler' | 'hotplug' | 'desktop-closed' | 'internal';
export const AUTOMATIC_ORIGINS: ReadonlySet<JobOrigin> = new Set(['scheduler', 'hotplug', 'desktop-closed']);

export interface JobProgress {
  /** 0 … 1 when the handler knows how far it is. */
  fraction?: number;
  /** A short machine-readable step name, e.g. 'backup', 'upload', 'verify'. */
  step?: string;
  /** A sentence for a person. */
  message?: string;
}

/** JSON-serialisable data (job results and params cross the HTTP API). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JobContext<P> {
  readonly id: string;
  readonly kind: JobKind;
  /** The collection this job holds exclusively while it runs. */
  readonly collection: string;
  /** Already validated against the handler's paramsSchema (defaults filled in). */
  readonly params: P;
  /**
   * Aborted when the user cancels the job or the daemon shuts down. Stop at the next safe point
   * (never leave a half-written file: finish or roll back the current step), then throw
   * `signal.reason` or a GENERAL_CANCELLED error.
   */
  readonly signal: AbortSignal;
  /** Report progress; cheap, may be called often (events are coalesced). */
  progress(p: JobProgress): void;
  /** A child logger tagged with the job id. Never log secrets. */
  readonly log: Logger;
}

export interface JobHandler<P = Record<string, Json>, R extends Json = Json> {
  readonly kind: JobKind;
  /** One sentence shown in the API document and `ankibridge status`. */
  readonly description: string;
  /** JSON schema (draft 2020-12 subset that Ajv 8 understands) of `params`; must be an object schema. */
  readonly paramsSchema: Readonly<Record<string, unknown>>;
  /** The collection a job locks. Default: `params.collection` if it is a string, else 'desktop'. */
  collectionOf?(params: P): string;
  /**
   * Does the work. Resolve with a small JSON summary (shown in history). Throw an AnkibridgeError
   * for a failure a person should understand; anything else is reported as DAEMON_JOB_FAILED.
   */
  run(ctx: JobContext<P>): Promise<R>;
}

/** What the API and the history show about a job. */
export interface JobSummary {
  id: string;
  kind: JobKind;
  collection: string;
  origin: JobOrigin;
  state: JobState;
  params: Json;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress | null;
  result: Json | null;
  error: { code: string; message: string; hint: string } | null;
}
