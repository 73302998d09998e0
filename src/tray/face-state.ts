/**
 * What the face shows, derived from the daemon: one state for the icon and a status line. The
 * order says what matters most: a running job, then a person being needed, then an error, then
 * a pause.
 */
import type { ApiContext } from '../daemon/api/context.js';
import type { DecisionView } from '../daemon/decisions/types.js';
import type { JobSummary } from '../daemon/jobs/types.js';
import type { FaceState } from './icons.js';

export const JOB_WORDS: Readonly<Record<string, string>> = {
  'usb.merge': 'Sync both',
  'usb.pull': 'Copy phone → desktop',
  'usb.push': 'Copy desktop → phone',
  'cloud.sync': 'Cloud sync',
  restore: 'Restore',
  backup: 'Backup',
  noop: 'No-op',
  selftest: 'Self-test',
};

export interface FaceSnapshot {
  state: FaceState;
  statusLine: string;
  decisions: DecisionView[];
  paused: boolean;
  running: JobSummary | undefined;
}

export function faceSnapshot(ctx: ApiContext, lastError: { message: string } | undefined): FaceSnapshot {
  const active = ctx.orchestrator.list().filter((j) => j.state === 'running' || j.state === 'queued');
  const running = active.find((j) => j.state === 'running') ?? active[0];
  const decisions = ctx.decisions.list();
  const waiting = decisions.filter((d) => d.activeJob === null);
  const paused = ctx.pause.get();
  let state: FaceState;
  let statusLine: string;
  if (running) {
    state = 'working';
    const pct = typeof running.progress?.fraction === 'number' ? ` ${Math.round(running.progress.fraction * 100)} %` : '';
    statusLine = `Working: ${JOB_WORDS[running.kind] ?? running.kind}${pct}`;
  } else if (waiting.length > 0) {
    state = 'needs-you';
    statusLine = waiting.length === 1 ? `${(waiting[0] as DecisionView).deviceLabel} needs a decision` : `${waiting.length} phones need a decision`;
  } else if (lastError) {
    state = 'error';
    statusLine = `Error: ${lastError.message}`;
  } else if (paused) {
    state = 'paused';
    statusLine = paused.until === null ? 'Paused until resumed' : `Paused until ${new Date(paused.until).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`;
  } else {
    state = 'idle';
    statusLine = 'Idle: everything is in step';
  }
  return { state, statusLine: `ankibridge — ${statusLine}`.slice(0, 120), decisions, paused: paused !== null, running };
}
