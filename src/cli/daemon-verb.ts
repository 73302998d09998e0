import type { Command } from 'commander';
import type { CliContext } from './commands/index.js';
import { reportError } from './output.js';

/** Exit codes of verbs that talk to the daemon; shown in each verb's --help. */
export const DAEMON_EXIT_CODES =
  'Exit codes: 0 ok; 64 usage; 65 bad input (e.g. an invalid config value); 66 not found;\n' +
  '69 the daemon is not running or not reachable; 70 internal error; 75 try again later or cancelled; 77 refused (token or scope).';

export function withExitCodes(cmd: Command, extra = ''): Command {
  return cmd.addHelpText('after', `\n${DAEMON_EXIT_CODES}${extra ? `\n${extra}` : ''}`);
}

/**
 * Runs a verb's body: on success prints JSON (`--json`) or the human lines; on failure prints the
 * catalogued error and sets the exit code.
 */
export async function runVerb(
  ctx: CliContext,
  json: boolean,
  body: () => Promise<{ data: unknown; human: string[]; exitCode?: number }>,
): Promise<void> {
  try {
    const { data, human, exitCode } = await body();
    if (json) ctx.io.out(JSON.stringify({ ok: (exitCode ?? 0) === 0, ...(data as object) }, null, 2));
    else if (human.length > 0) ctx.io.out(human.join('\n'));
    ctx.exitCode = exitCode ?? 0;
  } catch (e) {
    ctx.exitCode = reportError(ctx.io, e, json);
  }
}

/** "10m", "1h", "90" (minutes), "1h30m" → minutes; "until-resumed"/"forever" → null. */
export function parseDuration(text: string | undefined): number | null | undefined {
  if (text === undefined || text === 'until-resumed' || text === 'forever' || text === 'indefinitely') return null;
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$/.exec(text);
  if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
