/**
 * Which notifications to show, and when. Only decisions and errors by default; "synced" when the
 * config asks for it. A phone that is plugged and unplugged in quick succession (a loose cable,
 * a phone asking "allow access?") is one notification, not one per contact: a decision is shown
 * only after it has stood for `settleMs`, and the same question is not asked again within
 * `repeatMs`. Errors are limited to one per `errorGapMs`; the ones held back are counted into
 * the next.
 */
import type { DaemonEvent } from '../daemon/events/bus.js';
import type { DecisionActionId, DecisionView } from '../daemon/decisions/types.js';
import { PAIR_STATE_WORDS } from '../daemon/decisions/types.js';
import type { JobSummary } from '../daemon/jobs/types.js';
import { JOB_WORDS } from './face-state.js';
import type { NotificationRequest } from './notify-sender.js';

export interface NotifierDeps {
  config(): { decisions: boolean; errors: boolean; synced: boolean };
  show(n: NotificationRequest): Promise<string | null>;
  /** The person clicked the notification or one of its buttons. */
  onAnswer(answer: { decision: DecisionView; key: string }): void;
  now?: () => number;
  settleMs?: number;
  repeatMs?: number;
  errorGapMs?: number;
}

export class Notifier {
  private readonly settling = new Map<string, { timer: NodeJS.Timeout; decision: DecisionView }>();
  private readonly lastShown = new Map<string, { signature: string; at: number }>();
  private lastErrorAt = -Infinity;
  private heldErrors = 0;
  /** Counted for the log and tests: how many plug/unplug flaps were swallowed. */
  flapsCondensed = 0;
  private disposed = false;

  constructor(private readonly deps: NotifierDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  handle(e: DaemonEvent): void {
    if (this.disposed) return;
    if (e.type === 'decision.pending') this.pending(e.data['decision'] as DecisionView);
    else if (e.type === 'decision.cleared') this.cleared(String(e.data['deviceId'] ?? ''));
    else if (e.type === 'job.finished') this.finished(e.data['job'] as JobSummary);
  }

  private pending(d: DecisionView): void {
    if (!this.deps.config().decisions) return;
    const prev = this.settling.get(d.deviceId);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => {
      this.settling.delete(d.deviceId);
      this.announce(d);
    }, this.deps.settleMs ?? 1500);
    this.settling.set(d.deviceId, { timer, decision: d });
  }

  private cleared(deviceId: string): void {
    const s = this.settling.get(deviceId);
    if (!s) return;
    clearTimeout(s.timer);
    this.settling.delete(deviceId);
    this.flapsCondensed++;
  }

  private announce(d: DecisionView): void {
    const signature = JSON.stringify([d.state, d.desktop.reviewsSinceBase, d.phone.reviewsSinceBase, d.recommended]);
    const last = this.lastShown.get(d.deviceId);
    if (last && last.signature === signature && this.now() - last.at < (this.deps.repeatMs ?? 10 * 60_000)) {
      this.flapsCondensed++;
      return;
    }
    this.lastShown.set(d.deviceId, { signature, at: this.now() });
    const rec = d.actions.find((a) => a.id === d.recommended && a.available && !a.needsConfirmation);
    const actions = [{ key: 'default', label: 'Open the dashboard' }];
    if (rec) actions.push({ key: rec.id, label: rec.label });
    // A phone that cannot be read yet (charging only, locked, …): the headline is what to do.
    const notReady = d.state === 'phone-not-ready';
    const body = notReady ? d.headline : rec ? `${d.headline}. Recommended: ${rec.label}.` : `${d.headline}. Choose what to do in the dashboard or the tray menu.`;
    const title = notReady ? `${d.deviceLabel}: ${PAIR_STATE_WORDS[d.state]}` : `${d.deviceLabel}: what should happen?`;
    void this.deps.show({ title, body, urgency: 'normal', actions }).then((key) => {
      if (key && !this.disposed) this.deps.onAnswer({ decision: d, key: key as DecisionActionId | 'default' });
    });
  }

  private finished(job: JobSummary): void {
    const cfg = this.deps.config();
    const what = JOB_WORDS[job.kind] ?? job.kind;
    if (job.state === 'failed' && cfg.errors) {
      const now = this.now();
      if (now - this.lastErrorAt < (this.deps.errorGapMs ?? 30_000)) {
        this.heldErrors++;
        return;
      }
      this.lastErrorAt = now;
      const more = this.heldErrors > 0 ? ` (and ${this.heldErrors} more error${this.heldErrors === 1 ? '' : 's'} since the last notice)` : '';
      this.heldErrors = 0;
      void this.deps.show({ title: `ankibridge: ${what} failed`, body: `${job.error?.message ?? 'The job failed.'}${more}`, urgency: 'critical', actions: [] });
    } else if (job.state === 'succeeded' && cfg.synced && job.kind !== 'noop' && job.kind !== 'selftest') {
      void this.deps.show({ title: `ankibridge: ${what} done`, body: 'Both sides are in step.', urgency: 'low', actions: [] });
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const s of this.settling.values()) clearTimeout(s.timer);
    this.settling.clear();
  }
}
