import { Option } from 'commander';
import { startDaemon } from '../../daemon/daemon.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { INSTALLED_PLUGINS, type DaemonPlugin } from '../../daemon/plugins.js';
import { reportError } from '../output.js';
import { startFace } from '../../tray/face.js';
import type { RegisterCommand } from './index.js';

export const registerDaemon: RegisterCommand = (program, ctx) => {
  program
    .command('daemon')
    .description('Runs the ankibridge daemon in the foreground (what the login service starts). Stop it with Ctrl-C or `ankibridge shutdown`.')
    .addOption(new Option('--port <port>', 'listen on this port instead of the config value (0 picks a free one)').argParser((v) => Number.parseInt(v, 10)))
    .option('--json', 'print the start line as JSON (logs then go to the log file only)')
    .addOption(
      new Option('--plugin <module...>', 'also load these plugin modules (each exports `plugin: DaemonPlugin`); for development and tests').hideHelp(),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped cleanly; 65 invalid config file; 69 another daemon is already running, or the port is taken; 74 state database or log folder not writable.',
    )
    .action(async (opts: { port?: number; json?: boolean; plugin?: string[] }) => {
      const json = opts.json === true;
      try {
        const extra: DaemonPlugin[] = [];
        for (const m of opts.plugin ?? []) extra.push(((await import(pathToFileURL(resolve(m)).href)) as { plugin: DaemonPlugin }).plugin);
        const d = await startDaemon({ plugins: [...INSTALLED_PLUGINS, ...extra], console: !json, handleSignals: true, ...(opts.port === undefined ? {} : { port: opts.port }) });
        if (json) ctx.io.out(JSON.stringify({ ok: true, pid: process.pid, url: d.url, port: d.port, logFile: d.paths.logFile }));
        else ctx.io.out(`ankibridge daemon ${process.pid} listening on ${d.url} (log: ${d.paths.logFile})`);
        // The tray and notifications (src/tray): after the start line, so a slow or absent tray
        // host never delays the daemon; it stops itself when the daemon stops.
        void startFace(d).catch((e: unknown) => d.log.warn({ err: { message: (e as Error).message } }, 'the tray could not start; the daemon runs on without it'));
        await d.stopped;
        ctx.exitCode = 0;
        // Everything is closed; if some handle still holds the process (a library's socket or
        // timer), say which in stderr and leave anyway: a stopped daemon must not linger.
        setTimeout(() => {
          process.stderr.write(`ankibridge daemon: exiting with handles still open: ${process.getActiveResourcesInfo().join(', ')}\n`);
          process.exit(0);
        }, 2000).unref();
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};
