import type { EventBus } from '../events/bus.js';
import type { StateStore } from '../state/store.js';
import { armTimer } from './timer.js';

export interface PauseInfo {
  /** ISO time automatic work resumes; null means until resumed by hand. */
  until: string | null;
  since: string;
}

const KEY = 'pause';

/**
 * Pause of automatic work (scheduled sync, hotplug actions), for a time or until resumed. Stored in
 * the state database so it survives a restart; a timed pause ends by itself (with an event).
 */
export class PauseState {
  private expiry: { cancel(): void } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: StateStore,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.arm();
  }

  get(): PauseInfo | null {
    const p = this.store.getKv<{ until: number | null; since: number }>(KEY);
    if (!p) return null;
    if (p.until !== null && p.until <= this.now()) return null;
    return { until: p.until === null ? null : new Date(p.until).toISOString(), since: new Date(p.since).toISOString() };
  }

  /** A sentence fragment for messages ("until 10:40" / "until resumed"), or undefined when not paused. */
  reason(): string | undefined {
    const p = this.get();
    if (!p) return undefined;
    return p.until === null ? 'until resumed' : `until ${p.until}`;
  }

  pause(durationMs: number | null): PauseInfo {
    const now = this.now();
    this.store.setKv(KEY, { until: durationMs === null ? null : now + durationMs, since: now });
    this.arm();
    const info = this.get() as PauseInfo;
    this.bus.emit('paused', { ...info });
    this.notify();
    return info;
  }

  resume(): void {
    const was = this.store.getKv(KEY) !== undefined;
    this.store.deleteKv(KEY);
    this.expiry?.cancel();
    this.expiry = undefined;
    if (was) {
      this.bus.emit('resumed', { by: 'user' });
      this.notify();
    }
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  dispose(): void {
    this.expiry?.cancel();
    this.expiry = undefined;
    this.listeners.clear();
  }

  private arm(): void {
    this.expiry?.cancel();
    this.expiry = undefined;
    const p = this.store.getKv<{ until: number | null }>(KEY);
    if (!p || p.until === null) return;
    this.expiry = armTimer(p.until, this.now, () => {
      this.store.deleteKv(KEY);
      this.expiry = undefined;
      this.bus.emit('resumed', { by: 'timer' });
      this.notify();
    });
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
