/**
 * The third trigger of cloud sync (besides the schedule and "Sync now"): when Anki Desktop closes
 * the collection and the collection changed since it was last synced, run `cloud.sync` once.
 *
 *  - "Closes": the desktop room's watch (src/apkg/desktop/watch.ts: file events on the profile
 *    folder plus a slow probe) reports the collection going from open to free.
 *  - Debounced: the sync starts only after the collection stayed free for `settleMs` (Anki closes
 *    and reopens it for a profile switch, Check Database, an import); closing again meanwhile
 *    restarts the wait, reopening cancels it — one sync per closing, however many events.
 *  - "Changed since its last sync": col.mod > col.ls. A finished sync — ours or Anki's own —
 *    sets both to the same time, so a collection Anki synced itself before closing is left alone.
 *  - Not while automatic work is paused, not when cloud sync is off in the config
 *    (`cloud.enabled`) or is for another collection, not while a cloud sync of it is queued or
 *    running. While a job of ours works on the desktop collection, its own opening and closing
 *    of the file is not taken for Anki Desktop. A skipped trigger is logged and sent as a `cloud.trigger.skipped` event; a started
 *    one as `cloud.trigger` with its job id (origin `desktop-closed`).
 */
import type { Logger } from 'pino';
import { openCollectionDb } from '../../apkg/sqlite.js';
import { resolveDesktopCollection } from '../../apkg/desktop/profiles.js';
import { probeCollection, type CollectionState, type ProbeResult } from '../../apkg/desktop/probe.js';
import { watchCollection, type CollectionWatch } from '../../apkg/desktop/watch.js';
import type { DaemonConfig } from '../config/schema.js';
import type { EventBus } from '../events/bus.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { PauseState } from './pause.js';

/** How long the collection must stay closed before the sync starts. */
const SETTLE_MS = 5_000;

export interface DesktopCloseTriggerDeps {
  config: () => DaemonConfig;
  orchestrator: Orchestrator;
  bus: EventBus;
  pause: PauseState;
  log: Logger;
  /** The desktop collection (default: Anki Desktop's current profile). */
  collectionPath?: () => string;
  settleMs?: number;
}

export class DesktopCloseTrigger {
  private watch: CollectionWatch | undefined;
  private watchedPath: string | undefined;
  private last: CollectionState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: DesktopCloseTriggerDeps) {}

  start(): void {
    this.stopped = false;
    this.update();
  }

  /** Follows the config: watches while cloud sync of the desktop collection is on. */
  update(): void {
    if (this.stopped) return;
    const cloud = this.deps.config().cloud;
    if (!cloud.enabled || cloud.collection !== 'desktop') {
      void this.unwatch();
      return;
    }
    let file: string;
    try {
      file = (this.deps.collectionPath ?? (() => resolveDesktopCollection().profile.collectionPath))();
    } catch (e) {
      this.deps.log.info({ reason: (e as Error).message }, 'not watching for Anki Desktop closing the collection: it was not found');
      void this.unwatch();
      return;
    }
    if (this.watch && this.watchedPath === file) return;
    void this.unwatch();
    this.watchedPath = file;
    this.last = undefined;
    this.watch = watchCollection(file, { onState: (r) => this.onState(r) });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.unwatch();
  }

  private async unwatch(): Promise<void> {
    this.cancel();
    const w = this.watch;
    this.watch = undefined;
    this.watchedPath = undefined;
    await w?.close();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onState(r: ProbeResult): void {
    // Our own jobs open the collection too (a sync, a backup): that is not Anki Desktop, and a
    // sync that failed would otherwise trigger itself again and again.
    if (this.deps.orchestrator.list().some((j) => j.collection === 'desktop' && (j.state === 'running' || j.state === 'queued'))) return;
    const previous = this.last;
    this.last = r.state;
    if (r.state === 'open') return this.cancel(); // reopened before it settled: wait for the next closing
    if (previous === 'open' && r.state === 'free') {
      this.cancel();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.fire();
      }, this.deps.settleMs ?? SETTLE_MS);
    }
  }

  private fire(): void {
    const file = this.watchedPath;
    if (!file || this.stopped) return;
    const reason = this.skipReason(file);
    if (reason) {
      this.deps.log.info({ reason }, 'Anki Desktop closed the collection; no cloud sync');
      this.deps.bus.emit('cloud.trigger.skipped', { trigger: 'desktop-closed', reason });
      return;
    }
    try {
      const job = this.deps.orchestrator.start({ kind: 'cloud.sync', origin: 'desktop-closed', params: { collection: 'desktop' }, collection: 'desktop' });
      this.deps.log.info({ jobId: job.id }, 'Anki Desktop closed a changed collection; cloud sync started');
      this.deps.bus.emit('cloud.trigger', { trigger: 'desktop-closed', jobId: job.id });
    } catch (e) {
      this.deps.log.info({ reason: (e as Error).message }, 'Anki Desktop closed the collection; the cloud sync could not be queued');
      this.deps.bus.emit('cloud.trigger.skipped', { trigger: 'desktop-closed', reason: (e as Error).message });
    }
  }

  private skipReason(file: string): string | undefined {
    const cloud = this.deps.config().cloud;
    if (!cloud.enabled) return 'cloud sync is turned off in the config';
    const paused = this.deps.pause.reason();
    if (paused) return `automatic sync is paused ${paused}`;
    if (!this.deps.orchestrator.hasHandler('cloud.sync')) return 'no cloud sync handler is installed in this daemon';
    if (this.deps.orchestrator.isActive('cloud.sync', 'desktop')) return 'a cloud sync of the collection is already queued or running';
    const probe = probeCollection(file);
    if (probe.state !== 'free') return `the collection is ${probe.state} again: ${probe.reason}`;
    try {
      const db = openCollectionDb(file, { readonly: true });
      try {
        const col = db.prepare('SELECT mod, ls FROM col').get() as { mod: number; ls: number } | undefined;
        if (col && col.mod <= col.ls) return 'the collection has not changed since its last sync';
      } finally {
        db.close();
      }
    } catch (e) {
      return `the collection could not be read: ${(e as Error).message}`;
    }
    return undefined;
  }
}
