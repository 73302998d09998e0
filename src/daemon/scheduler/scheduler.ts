import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { CollectionFreeProvider } from '../providers.js';
import type { StateStore } from '../state/store.js';
import { backoffDelayMs } from './backoff.js';
import type { PauseState } from './pause.js';
import { armTimer } from './timer.js';

interface Persisted {
  lastRunAt: number | null;
  lastResult: 'succeeded' | 'failed' | 'cancelled' | null;
  failures: number;
  backoffUntil: number | null;
  lastSkip: { at: number; reason: string } | null;
}

export interface SchedulerStatus {
  enabled: boolean;
  mode: 'interval' | 'cron';
  schedule: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastResult: Persisted['lastResult'];
  failures: number;
  backoffUntil: string | null;
  lastSkip: { at: string; reason: string } | null;
}

const KEY = 'scheduler';
/** After a start, the first overdue sync waits this long so the daemon settles first. */
const STARTUP_DELAY_MS = 10_000;
/** When a tick is skipped because Anki has the collection open, look again this soon. */
const BUSY_RETRY_MS = 5 * 60_000;

/**
 * Cloud sync on an interval or a cron expression. One timer, armed for the next due time only
 * (no polling), so an idle daemon does no work between syncs.
 */
export class Scheduler {
  private timer: { cancel(): void } | undefined;
  private nextDue: number | null = null;
  private retryAt: number | null = null;
  private stopped = false;
  private readonly startedAt: number;

  constructor(
    private readonly deps: {
      config: () => DaemonConfig;
      orchestrator: Orchestrator;
      bus: EventBus;
      store: StateStore;
      pause: PauseState;
      collectionFree: CollectionFreeProvider | undefined;
      log: Logger;
      now?: () => number;
      startupDelayMs?: number;
    },
  ) {
    this.startedAt = this.now();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): void {
    this.stopped = false;
    this.reschedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.nextDue = null;
  }

  status(): SchedulerStatus {
    const c = this.deps.config().cloud;
    const p = this.load();
    return {
      enabled: c.enabled,
      mode: c.cron ? 'cron' : 'interval',
      schedule: c.cron ?? `every ${c.intervalMinutes} min`,
      nextRunAt: iso(this.nextDue),
      lastRunAt: iso(p.lastRunAt),
      lastResult: p.lastResult,
      failures: p.failures,
      backoffUntil: iso(p.backoffUntil),
      lastSkip: p.lastSkip ? { at: new Date(p.lastSkip.at).toISOString(), reason: p.lastSkip.reason } : null,
    };
  }

  /** Recomputes the next due time (after a config change, pause/resume or a finished sync). */
  reschedule(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.nextDue = null;
    if (this.stopped) return;
    const due = this.computeDue();
    if (due === null) return;
    this.nextDue = due;
    this.timer = armTimer(due, () => this.now(), () => void this.tick());
  }

  private computeDue(): number | null {
    const cfg = this.deps.config();
    if (!cfg.cloud.enabled) return null;
    const pause = this.deps.pause.get();
    if (pause && pause.until === null) return null;
    const now = this.now();
    const p = this.load();
    let due: number;
    if (cfg.cloud.cron) {
      const next = new Cron(cfg.cloud.cron, { paused: true }).nextRun(new Date(now));
      if (!next) return null;
      due = next.getTime();
    } else {
      // A skipped attempt counts as an attempt, so a standing skip reason never makes a busy loop.
      const last = Math.max(p.lastRunAt ?? -Infinity, p.lastSkip?.at ?? -Infinity);
      due = last === -Infinity ? now : last + cfg.cloud.intervalMinutes * 60_000;
    }
    due = Math.max(due, this.startedAt + (this.deps.startupDelayMs ?? STARTUP_DELAY_MS));
    if (this.retryAt !== null) due = Math.min(due, Math.max(this.retryAt, now));
    if (p.backoffUntil !== null) due = Math.max(due, p.backoffUntil);
    if (pause?.until) due = Math.max(due, Date.parse(pause.until));
    return due;
  }

  /** Runs one scheduled attempt now (the timer calls this; tests may too). */
  async tick(): Promise<void> {
    this.timer = undefined;
    this.retryAt = null;
    const cfg = this.deps.config();
    const collection = cfg.cloud.collection;
    const reason = await this.skipReason(cfg, collection);
    if (reason !== undefined) {
      this.skip(reason);
      this.reschedule();
      return;
    }
    let jobId: string;
    try {
      jobId = this.deps.orchestrator.start({ kind: 'cloud.sync', origin: 'scheduler', params: { collection }, collection }).id;
    } catch (e) {
      this.skip((e as Error).message);
      this.reschedule();
      return;
    }
    this.save({ ...this.load(), lastRunAt: this.now() });
    this.reschedule();
    const done = await this.deps.orchestrator.waitFor(jobId);
    const p = this.load();
    if (done.state === 'succeeded') {
      this.save({ ...p, lastResult: 'succeeded', failures: 0, backoffUntil: null });
    } else if (done.state === 'failed') {
      const failures = p.failures + 1;
      const backoffUntil = this.now() + backoffDelayMs(failures, cfg.backoff.initialSeconds, cfg.backoff.maxSeconds);
      this.save({ ...p, lastResult: 'failed', failures, backoffUntil });
      this.deps.bus.emit('scheduler.backoff', { failures, until: new Date(backoffUntil).toISOString() });
    } else {
      this.save({ ...p, lastResult: 'cancelled' });
    }
    this.reschedule();
  }

  private async skipReason(cfg: DaemonConfig, collection: string): Promise<string | undefined> {
    if (!cfg.cloud.enabled) return 'scheduled cloud sync is turned off in the config';
    const paused = this.deps.pause.reason();
    if (paused) return `automatic sync is paused ${paused}`;
    if (!this.deps.orchestrator.hasHandler('cloud.sync')) return 'no cloud sync handler is installed in this daemon';
    if (this.deps.orchestrator.isActive('cloud.sync', collection)) return 'a cloud sync of this collection is already queued or running';
    if (!this.deps.collectionFree) return 'cannot tell whether Anki Desktop has the collection open (no desktop provider installed)';
    try {
      const r = await this.deps.collectionFree.isCollectionFree(collection);
      if (!r.free) {
        this.retryAt = this.now() + Math.min(BUSY_RETRY_MS, cfg.cloud.intervalMinutes * 60_000);
        return r.reason;
      }
    } catch (e) {
      return `could not check whether the collection is free: ${(e as Error).message}`;
    }
    return undefined;
  }

  private skip(reason: string): void {
    this.save({ ...this.load(), lastSkip: { at: this.now(), reason } });
    this.deps.log.info({ reason }, 'scheduled cloud sync skipped');
    this.deps.bus.emit('scheduler.skipped', { reason });
  }

  private load(): Persisted {
    return (
      this.deps.store.getKv<Persisted>(KEY) ?? { lastRunAt: null, lastResult: null, failures: 0, backoffUntil: null, lastSkip: null }
    );
  }

  private save(p: Persisted): void {
    this.deps.store.setKv(KEY, p);
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
