/**
 * What `ankibridge push`, `pull` and `merge` share: through the running daemon's API, find the
 * connected phone (its pending decision), queue the USB job (usb.push / usb.pull / usb.merge) and
 * wait for it. A refusal by the guard comes back as USBSYNC_GUARD_REFUSED (exit 73) naming what
 * would be lost; `--confirm` accepts that loss (the overwritten side is backed up first).
 */
import type { Command } from 'commander';
import { DaemonClient, errorFromBody } from '../../daemon/client/daemon-client.js';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { CliContext } from './index.js';

interface Job {
  id: string;
  state: string;
  result: { message?: string } | null;
  error: { code: string; message: string; hint: string; details?: unknown } | null;
}

export function registerUsbTransfer(program: Command, ctx: CliContext, verb: 'push' | 'pull' | 'merge', description: string): void {
  withExitCodes(
    program
      .command(verb)
      .description(description)
      .option('--device <id>', 'which phone (default: the only one connected)')
      .option('--confirm', 'accept the loss the guard names (the overwritten side is backed up first)')
      .option('--format <format>', 'package format for the phone: latest or legacy2 (default: what its AnkiDroid reads)')
      .option('--json', 'print the job as JSON'),
    '73 refused by the guard (what would be lost is named)',
  ).action(async (opts: { device?: string; confirm?: boolean; format?: string; json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      if (opts.format !== undefined && opts.format !== 'latest' && opts.format !== 'legacy2') {
        throw makeError(GeneralErrors.USAGE, { reason: '--format must be latest or legacy2' });
      }
      const client = DaemonClient.connect();
      let deviceId = opts.device;
      if (deviceId === undefined) {
        const { decisions } = await client.request<{ decisions: Array<{ deviceId: string }> }>('GET', '/api/v1/decisions');
        const devices = [...new Set(decisions.map((d) => d.deviceId))];
        if (devices.length !== 1) {
          throw makeError(GeneralErrors.USAGE, { reason: devices.length === 0 ? 'no phone with a pending sync is connected' : `several phones are connected (${devices.join(', ')}); name one with --device` });
        }
        deviceId = devices[0] as string;
      }
      const params = { deviceId, ...(opts.confirm ? { confirm: true } : {}), ...(opts.format ? { format: opts.format } : {}) };
      let { job } = await client.request<{ job: Job }>('POST', '/api/v1/jobs', { kind: `usb.${verb}`, params });
      while (job.state === 'queued' || job.state === 'running') {
        await new Promise((r) => setTimeout(r, 300));
        job = (await client.request<{ job: Job }>('GET', `/api/v1/jobs/${job.id}`)).job;
      }
      if (job.state !== 'succeeded' && job.error) throw errorFromBody({ error: job.error }, 409);
      return { data: { job }, human: [job.result?.message ?? `${verb} ${job.state}.`] };
    }),
  );
}
