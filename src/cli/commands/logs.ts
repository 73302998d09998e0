import { closeSync, existsSync, openSync, readSync, statSync, watch } from 'node:fs';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { daemonPaths } from '../../daemon/paths.js';
import { reportError } from '../output.js';
import type { RegisterCommand } from './index.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino line for a person: time, level, message, then the other fields. */
export function formatLogLine(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, pid: _pid, ...rest } = o;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${new Date(Number(time)).toISOString()} ${(LEVELS[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extra}`;
  } catch {
    return line;
  }
}

function readTail(path: string, lines: number): string[] {
  const size = statSync(path).size;
  const want = Math.min(size, Math.max(64 * 1024, lines * 400));
  const buf = Buffer.alloc(want);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, want, size - want);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  if (want < size) all.shift(); // the first line may be cut
  return all.slice(-lines);
}

export const registerLogs: RegisterCommand = (program, ctx) => {
  program
    .command('logs')
    .description('Shows the daemon\'s log (it works whether or not the daemon is running).')
    .option('-n, --lines <n>', 'how many of the last lines', '50')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--json', 'print the log entries as JSON objects (one array; with --follow one object per line)')
    .addHelpText('after', '\nExit codes: 0 ok; 64 usage; 66 no log file yet (the daemon never ran for this user).')
    .action(async (opts: { lines: string; follow?: boolean; json?: boolean }) => {
      const json = opts.json === true;
      const path = daemonPaths().logFile;
      try {
        if (!existsSync(path)) throw makeError(DaemonErrors.LOG_NOT_FOUND, { path });
        const n = Math.max(1, Number.parseInt(opts.lines, 10) || 50);
        const lines = readTail(path, n);
        if (json) ctx.io.out(JSON.stringify({ ok: true, path, entries: lines.map((l) => safeParse(l)) }, null, 2));
        else ctx.io.out(lines.map(formatLogLine).join('\n'));
        ctx.exitCode = 0;
        if (opts.follow) await follow(path, (l) => ctx.io.out(json ? JSON.stringify(safeParse(l)) : formatLogLine(l)));
      } catch (e) {
        ctx.exitCode = reportError(ctx.io, e, json);
      }
    });
};

function safeParse(l: string): unknown {
  try {
    return JSON.parse(l);
  } catch {
    return { msg: l };
  }
}

/** Prints lines appended to the file until SIGINT; follows a rotation by reopening. */
async function follow(path: string, print: (line: string) => void): Promise<void> {
  let pos = statSync(path).size;
  let rest = '';
  const readNew = () => {
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size < pos) pos = 0; // rotated
    if (size === pos) return;
    const buf = Buffer.alloc(size - pos);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, pos);
    } finally {
      closeSync(fd);
    }
    pos = size;
    const parts = (rest + buf.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) print(p);
  };
  const watcher = watch(path, () => readNew());
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  watcher.close();
}
