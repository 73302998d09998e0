import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { openTarget } from '../../tray/open.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

export const registerDashboard: RegisterCommand = (program, ctx) => {
  withExitCodes(
    program
      .command('dashboard')
      .description('Opens the dashboard in the browser, signed in (the link works once, within 60 s).')
      .option('--print', 'print the link instead of opening it')
      .option('--json', 'print the link as JSON instead of opening it'),
  ).action(async (opts: { print?: boolean; json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const client = DaemonClient.connect({ scope: 'write' });
      const r = await client.request<{ path: string; expiresAt: string }>('POST', '/api/v1/session');
      const url = client.info.url + r.path;
      if (opts.print || opts.json) return { data: { url, expiresAt: r.expiresAt }, human: [url] };
      await openTarget(url);
      return { data: { url }, human: ['Opened the dashboard in the browser.'] };
    }),
  );
};
