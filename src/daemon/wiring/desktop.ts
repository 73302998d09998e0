/**
 * The desktop room (src/sync/desktop/daemon-plugin.ts) in the running daemon: its migrations go
 * through the daemon's registry, its BackupsProvider and restore job are installed, and journal
 * recovery runs once at start, after migrations and before any job or request (invariant 6) —
 * its outcome is logged and recorded in the job history.
 */
import { desktopSyncPlugin } from '../../sync/desktop/daemon-plugin.js';
import type { RecoveryResult } from '../../sync/journal/recover.js';
import type { DaemonPlugin, PluginStartContext } from '../plugins.js';
import type { Json, JobHandler, JobKind } from '../jobs/types.js';
import { randomUUID } from 'node:crypto';
import { makeError, type AnkibridgeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';

/** History rows of journal recovery carry this kind (not a job anyone can start). */
export const RECOVERY_KIND = 'recovery' as JobKind;

export function desktopWiring(paths: { dataDir: string; stateDb: string }): DaemonPlugin {
  const room = desktopSyncPlugin(paths);
  return {
    name: room.name,
    migrations: room.migrations,
    jobHandlers: room.jobHandlers as unknown as Array<JobHandler<never, Json>>,
    providers: room.providers,
    start(ctx) {
      // Opening the room's services runs recovery; doing it here (not at the first request)
      // means no job of another room can be running while it rolls transactions back.
      reportRecovery(ctx, room.recoverAtStart());
    },
    stop() {
      room.close();
    },
  };
}

/** One warning and one history row per transaction recovery finished or rolled back. */
export function reportRecovery(ctx: PluginStartContext, results: RecoveryResult[]): void {
  for (const r of results) {
    const failed = r.outcome === 'failed';
    const line = `an unfinished ${r.kind} transaction (${r.txnId}) from the previous run was ${describe(r.outcome)}: ${r.note}`;
    ctx.log[failed ? 'error' : 'warn']({ txnId: r.txnId, txnKind: r.kind, outcome: r.outcome, note: r.note }, line);
    const now = new Date().toISOString();
    ctx.history.upsert({
      id: randomUUID(),
      kind: RECOVERY_KIND,
      collection: 'desktop',
      origin: 'internal',
      state: failed ? 'failed' : 'succeeded',
      params: { txnId: r.txnId, txnKind: r.kind },
      createdAt: now,
      startedAt: now,
      finishedAt: now,
      progress: null,
      result: { txnId: r.txnId, txnKind: r.kind, outcome: r.outcome, note: r.note },
      error: failed ? errorOf(makeError(DaemonErrors.JOB_FAILED, { id: r.txnId, kind: r.kind, reason: r.note })) : null,
    });
    ctx.bus.emit('journal.recovered', { txnId: r.txnId, txnKind: r.kind, outcome: r.outcome, note: r.note });
  }
}

function describe(outcome: RecoveryResult['outcome']): string {
  return outcome === 'failed' ? 'not recovered' : outcome.replace(/-/g, ' ');
}

function errorOf(e: AnkibridgeError): { code: string; message: string; hint: string } {
  return { code: e.code, message: e.message, hint: e.hint };
}
