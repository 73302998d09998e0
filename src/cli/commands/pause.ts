import { makeError } from '../../errors/index.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { parseDuration, runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

export const registerPause: RegisterCommand = (program, ctx) => {
  withExitCodes(
    program
      .command('pause')
      .description('Pauses automatic work (scheduled sync, plug-in actions): for a time like 10m or 1h, or until `ankibridge resume`. Survives a restart.')
      .argument('[duration]', '10m, 1h, 90 (minutes), or until-resumed (the default)')
      .option('--json', 'print the result as JSON'),
  ).action(async (duration: string | undefined, opts: { json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const minutes = parseDuration(duration);
      if (minutes === undefined || minutes === 0) throw makeError(GeneralErrors.USAGE, { reason: `"${duration}" is not a duration (try 10m, 1h or until-resumed)` });
      const r = await DaemonClient.connect().request<{ paused: { until: string | null } }>('POST', '/api/v1/pause', { minutes });
      return { data: r, human: [r.paused.until ? `Paused until ${r.paused.until}.` : 'Paused until you run `ankibridge resume`.'] };
    }),
  );
};
