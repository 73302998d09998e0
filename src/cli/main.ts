import { Command, CommanderError } from 'commander';
import type { CliContext, RegisterCommand } from './commands/index.js';
import { processIO, reportError, type CliIO } from './output.js';
import { GeneralErrors } from '../errors/codes/general.js';
import { makeError } from '../errors/define.js';

export function buildProgram(ctx: CliContext, commands: RegisterCommand[]): Command {
  const program = new Command('ankibridge')
    .description(
      'Keeps Anki Desktop and AnkiDroid in step over USB and with a sync server, without losing reviews.\n' +
        'Exit codes: 0 ok, 64 usage, 65 bad input data, 66 file not found, 69 unavailable (Anki open, no phone),\n' +
        '70 internal, 73 refused by the guard (needs --force / confirmation), 74 I/O, 75 cancelled or try again.',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
  for (const register of commands) register(program, ctx);
  return program;
}

/**
 * `daemon` is the long-running process: it loads only its own verb, not every other verb's
 * modules (about 40 MB of resident memory it would carry for nothing).
 */
async function commandsFor(argv: string[]): Promise<RegisterCommand[]> {
  if (argv[0] === 'daemon') return [(await import('./commands/daemon.js')).registerDaemon];
  return (await import('./commands/index.js')).COMMANDS;
}

/** Runs the CLI and returns the exit code (never calls process.exit, so tests can call it). */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  const program = buildProgram(ctx, await commandsFor(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      return reportError(io, makeError(GeneralErrors.USAGE, { reason: e.message.replace(/^error: /, '') }), argv.includes('--json'));
    }
    return reportError(io, e, argv.includes('--json'));
  }
}
