import type { Command } from 'commander';
import { installService, serviceStatus, uninstallService, type ServiceReport } from '../../daemon/service/install.js';
import { runVerb } from '../daemon-verb.js';
import type { CliContext, RegisterCommand } from './index.js';

const EXIT = '\nExit codes: 0 ok; 64 usage; 69 the service manager refused (message says which command) or this platform has none; 74 the file could not be written.';

function human(r: ServiceReport, verb: string): string[] {
  return [
    `${verb}: ${r.unitPath} (${r.platform})`,
    `installed: ${r.installed ? 'yes' : 'no'}; enabled: ${r.enabled === null ? 'unknown' : r.enabled ? 'yes' : 'no'}${r.active === null ? '' : `; running: ${r.active ? 'yes' : 'no'}`}`,
    ...r.ran.map((c) => `ran: ${c}`),
    ...r.todo.map((t) => `to do: ${t}`),
  ];
}

function sub(parent: Command, ctx: CliContext, name: string, description: string, act: (opts: { enable: boolean }) => ServiceReport, verb: string): void {
  const cmd = parent.command(name).description(description).option('--json', 'print the result as JSON').addHelpText('after', EXIT);
  if (name === 'install') cmd.option('--no-enable', 'only write the files; do not enable or start the service');
  cmd.action(async (opts: { json?: boolean; enable?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const r = act({ enable: opts.enable !== false });
      return { data: { service: r }, human: human(r, verb) };
    }),
  );
}

export const registerService: RegisterCommand = (program, ctx) => {
  const service = program
    .command('service')
    .description('Starts ankibridge at login: a systemd user unit (Linux), a LaunchAgent (macOS) or a Task Scheduler task (Windows).');
  sub(service, ctx, 'install', 'Writes the autostart definition with this installation\'s paths and enables it (on Linux also leaves the udev rule to install with root).', installService, 'Installed');
  sub(service, ctx, 'uninstall', 'Disables and removes the autostart definition.', () => uninstallService(), 'Uninstalled');
  sub(service, ctx, 'status', 'Says whether the autostart definition is installed, enabled and running.', () => serviceStatus(), 'Service');
};
