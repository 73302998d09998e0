import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { isAlive } from '../../daemon/lock.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

export const registerShutdown: RegisterCommand = (program, ctx) => {
  withExitCodes(
    program
      .command('shutdown')
      .description('Stops the running daemon gracefully (running jobs finish or stop at a safe point) and waits until it has exited.')
      .option('--timeout <seconds>', 'how long to wait for it to exit', '30')
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: { timeout: string; json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const client = DaemonClient.connect();
      await client.request('POST', '/api/v1/shutdown');
      const deadline = Date.now() + Number(opts.timeout) * 1000;
      while (isAlive(client.info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const exited = !isAlive(client.info.pid);
      return {
        data: { pid: client.info.pid, exited },
        human: [exited ? `Daemon ${client.info.pid} stopped.` : `Daemon ${client.info.pid} is still stopping (it finishes its running job first).`],
        exitCode: exited ? 0 : 75,
      };
    }),
  );
};
