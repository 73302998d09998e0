import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

interface Status {
  version: string;
  pid: number;
  uptimeSeconds: number;
  paused: { until: string | null } | null;
  scheduler: { enabled: boolean; schedule: string; nextRunAt: string | null; lastRunAt: string | null; lastResult: string | null; failures: number; lastSkip: { at: string; reason: string } | null };
  jobs: { running: number; queued: number; active: Array<{ id: string; kind: string; state: string; collection: string; progress: { fraction?: number; message?: string } | null }> };
  configError: { code: string; message: string } | null;
  api: { addresses: Array<{ address: string; port: number }> };
}

export const registerStatus: RegisterCommand = (program, ctx) => {
  withExitCodes(
    program
      .command('status')
      .description('Shows what the running daemon is doing: pause, scheduled sync, jobs.')
      .option('--json', 'print the full status as JSON'),
  ).action(async (opts: { json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const client = DaemonClient.connect({ scope: 'read' });
      const s = await client.request<Status>('GET', '/api/v1/status');
      const human = [
        `ankibridge ${s.version}, daemon ${s.pid}, up ${formatUptime(s.uptimeSeconds)}, ${client.info.url}`,
        s.paused ? `Paused ${s.paused.until ? `until ${s.paused.until}` : 'until resumed'}.` : 'Not paused.',
        s.scheduler.enabled
          ? `Cloud sync ${s.scheduler.schedule}; next ${s.scheduler.nextRunAt ?? 'not scheduled'}; last ${s.scheduler.lastRunAt ?? 'never'}${s.scheduler.lastResult ? ` (${s.scheduler.lastResult})` : ''}${s.scheduler.failures ? `, ${s.scheduler.failures} failures in a row` : ''}.`
          : 'Scheduled cloud sync is off.',
        ...(s.scheduler.lastSkip ? [`Last skipped ${s.scheduler.lastSkip.at}: ${s.scheduler.lastSkip.reason}.`] : []),
        `Jobs: ${s.jobs.running} running, ${s.jobs.queued} queued.`,
        ...s.jobs.active.map(
          (j) => `  ${j.id.slice(0, 8)} ${j.kind} on ${j.collection}: ${j.state}${j.progress?.fraction !== undefined ? ` ${Math.round(j.progress.fraction * 100)}%` : ''}${j.progress?.message ? ` — ${j.progress.message}` : ''}`,
        ),
        ...(s.configError ? [`Config change refused: ${s.configError.message} (${s.configError.code})`] : []),
      ];
      return { data: { status: s }, human };
    }),
  );
};

function formatUptime(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
