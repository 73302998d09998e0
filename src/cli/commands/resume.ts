import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

export const registerResume: RegisterCommand = (program, ctx) => {
  withExitCodes(program.command('resume').description('Ends a pause: automatic work starts again.').option('--json', 'print the result as JSON')).action(
    async (opts: { json?: boolean }) =>
      runVerb(ctx, opts.json === true, async () => {
        const r = await DaemonClient.connect().request<{ paused: null }>('POST', '/api/v1/resume');
        return { data: r, human: ['Resumed.'] };
      }),
  );
};
