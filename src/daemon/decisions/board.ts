import { makeError } from '../../errors/index.js';
import { DecisionErrors } from '../../errors/codes/decision.js';
import type { EventBus } from '../events/bus.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { JobOrigin, JobSummary } from '../jobs/types.js';
import type { DecisionSource, DecisionView, PendingDecision } from './types.js';

/**
 * The daemon's view of pending decisions: mirrors the source, announces changes on the bus
 * (`decision.pending` for a new or changed question, `decision.cleared` when one goes away,
 * `decisions.changed` with the whole list), and turns an answer into an orchestrator job —
 * refusing an answer that loses work unless it is confirmed (DESIGN.md invariant 3).
 */
export class DecisionBoard {
  private current = new Map<string, PendingDecision>();
  private readonly jobs = new Map<string, string>();
  private readonly disposers: Array<() => void> = [];

  constructor(
    private readonly deps: { bus: EventBus; orchestrator: Orchestrator; source?: DecisionSource | undefined },
  ) {
    if (deps.source) {
      this.disposers.push(deps.source.onChange(() => this.refresh()));
      this.disposers.push(
        deps.bus.subscribe((e) => {
          if (e.type !== 'job.finished') return;
          const job = e.data['job'] as JobSummary;
          for (const [decision, id] of this.jobs) {
            if (id !== job.id) continue;
            this.jobs.delete(decision);
            this.deps.bus.emit('decision.job-finished', { decisionId: decision, jobId: job.id, state: job.state });
          }
        }),
      );
      this.refresh();
    }
  }

  get available(): boolean {
    return this.deps.source !== undefined;
  }

  list(): DecisionView[] {
    return [...this.current.values()].map((d) => this.view(d));
  }

  get(id: string): DecisionView {
    const d = this.current.get(id);
    if (!d) throw makeError(DecisionErrors.NOT_FOUND, { id });
    return this.view(d);
  }

  /** Carries out one of the decision's actions as a job, through the same orchestrator as every other action. */
  act(id: string, actionId: string, opts: { confirm: boolean; origin: JobOrigin }): JobSummary {
    const d = this.current.get(id);
    if (!d) throw makeError(DecisionErrors.NOT_FOUND, { id });
    const action = d.actions.find((a) => a.id === actionId);
    if (!action || !action.available) {
      throw makeError(DecisionErrors.ACTION_UNKNOWN, {
        id,
        action: actionId.slice(0, 40),
        offered: d.actions.filter((a) => a.available).map((a) => a.id).join(', ') || 'none',
      });
    }
    const running = this.jobs.get(id);
    if (running !== undefined) throw makeError(DecisionErrors.IN_PROGRESS, { id, job: running });
    if (action.needsConfirmation && !opts.confirm) {
      const safe = d.actions.find((a) => a.id === d.recommended);
      throw makeError(DecisionErrors.CONFIRMATION_REQUIRED, { guard: action.guard ?? 'work on the other side would be lost', recommended: safe?.label ?? 'none' });
    }
    const params = action.needsConfirmation ? { ...action.job.params, confirm: true } : { ...action.job.params };
    const job = this.deps.orchestrator.start({ kind: action.job.kind, params, collection: action.job.collection, origin: opts.origin });
    this.jobs.set(id, job.id);
    this.deps.bus.emit('decision.acted', { decisionId: id, action: action.id, jobId: job.id, origin: opts.origin });
    return job;
  }

  dispose(): void {
    for (const d of this.disposers.splice(0)) d();
  }

  private view(d: PendingDecision): DecisionView {
    return { ...structuredClone(d), activeJob: this.jobs.get(d.id) ?? null };
  }

  private refresh(): void {
    const next = new Map((this.deps.source?.list() ?? []).map((d) => [d.id, d] as const));
    let changed = false;
    for (const [id, d] of next) {
      const before = this.current.get(id);
      if (before && JSON.stringify(before) === JSON.stringify(d)) continue;
      changed = true;
      this.deps.bus.emit('decision.pending', { decision: this.view(d) });
    }
    for (const id of this.current.keys()) {
      if (next.has(id)) continue;
      changed = true;
      this.deps.bus.emit('decision.cleared', { id, deviceId: this.current.get(id)?.deviceId ?? null });
    }
    this.current = next;
    if (changed) this.deps.bus.emit('decisions.changed', { decisions: this.list() });
  }
}
