import { runDoctor } from '../../daemon/doctor.js';
import { runVerb } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export const registerDoctor: RegisterCommand = (program, ctx) => {
  program
    .command('doctor')
    .description('Checks the set-up: Anki found, collection free, USB permissions (udev rule), tray host, config, the daemon\'s API, autostart.')
    .option('--json', 'print the checks as JSON')
    .addHelpText('after', '\nExit codes: 0 every check ok or a warning; 69 at least one check failed (the line says what to do).')
    .action(async (opts: { json?: boolean }) =>
      runVerb(ctx, opts.json === true, async () => {
        const checks = await runDoctor();
        const failed = checks.filter((c) => c.state === 'fail').length;
        return {
          data: { checks },
          human: [...checks.map((c) => `${MARK[c.state]} ${c.name}: ${c.detail}`), failed ? `${failed} check(s) failed.` : 'All checks passed.'],
          exitCode: failed ? 69 : 0,
        };
      }),
    );
};
