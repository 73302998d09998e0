import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { errorFromBody } from '../../daemon/client/daemon-client.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

interface Job {
  id: string;
  state: string;
  kind: string;
  result: unknown;
  error: { code: string; message: string; hint: string; details?: unknown } | null;
}

export const registerSync: RegisterCommand = (program, ctx) => {
  withExitCodes(
    program
      .command('sync')
      .description('"Sync now": asks the daemon to sync the desktop collection with AnkiWeb or your sync server.')
      .option('--collection <name>', 'which collection (default: the one in the config)')
      .option('--no-wait', 'return once the job is queued')
      .option('--json', 'print the job as JSON'),
  ).action(async (opts: { collection?: string; wait: boolean; json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const client = DaemonClient.connect();
      let { job } = await client.request<{ job: Job }>('POST', '/api/v1/sync', opts.collection ? { collection: opts.collection } : {});
      if (!opts.wait) return { data: { job }, human: [`Sync queued as job ${job.id}.`] };
      while (job.state === 'queued' || job.state === 'running') {
        await new Promise((r) => setTimeout(r, 300));
        job = (await client.request<{ job: Job }>('GET', `/api/v1/jobs/${job.id}`)).job;
      }
      if (job.state !== 'succeeded' && job.error) throw errorFromBody({ error: job.error }, 500);
      return { data: { job }, human: [`Sync ${job.state}.`] };
    }),
  );
};
