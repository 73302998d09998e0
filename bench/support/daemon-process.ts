// Starts a real `ankibridge daemon` process (from source) in throw-away XDG folders, for benches.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(ROOT, 'test-artifacts', 'bench-dist');

/**
 * The daemon is measured as users run it: compiled JavaScript (like bin/ankibridge.js → dist/),
 * not through the tsx loader, which alone adds tens of MB. Compiled into test-artifacts/ so the
 * shared dist/ is left alone.
 */
function compiledEntryArgs(): string[] {
  compileForBench('src/daemon');
  const main = pathToFileURL(join(BUILD, 'cli', 'main.js')).href;
  return [...SERVICE_NODE_FLAGS, '--input-type=module', '-e', `import { main } from '${main}'; process.exitCode = await main(process.argv.slice(1));`];
}

/** Compiles src/ into test-artifacts/bench-dist (once per process); returns that folder. */
let compiled = false;
export function compileForBench(mustCompile = 'src/'): string {
  if (compiled) return BUILD;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD], { encoding: 'utf8' });
  if (r.status !== 0 && r.stdout.includes(mustCompile)) throw new Error(`${mustCompile} does not compile:\n${r.stdout}`);
  compiled = true;
  return BUILD;
}

/** The V8 flag the login service runs the daemon with (service/linux/ankibridge.service). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1'];

export interface BenchDaemon {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  token: string;
  readToken: string;
  stop(): Promise<void>;
}

export async function startBenchDaemon(config: Record<string, unknown>, extraArgs: string[] = []): Promise<BenchDaemon> {
  const root = mkdtempSync(join(tmpdir(), 'ankibridge-bench-'));
  const env = { XDG_CONFIG_HOME: join(root, 'c'), XDG_DATA_HOME: join(root, 'd'), XDG_STATE_HOME: join(root, 's'), ANKI_BASE: join(root, 'none') };
  mkdirSync(join(env.XDG_CONFIG_HOME, 'ankibridge'), { recursive: true });
  writeFileSync(join(env.XDG_CONFIG_HOME, 'ankibridge', 'config.json'), JSON.stringify(config));
  const child = spawn(process.execPath, [...compiledEntryArgs(), 'daemon', '--json', ...extraArgs], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const start = await new Promise<{ pid: number; port: number; url: string }>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ok":true'));
      if (line) resolve(JSON.parse(line) as { pid: number; port: number; url: string });
    });
    child.once('exit', (c) => reject(new Error(`daemon exited with ${c}: ${out}`)));
  });
  const token = readFileSync(join(env.XDG_CONFIG_HOME, 'ankibridge', 'api-token'), 'utf8').trim();
  const readToken = readFileSync(join(env.XDG_CONFIG_HOME, 'ankibridge', 'api-token-read'), 'utf8').trim();
  return {
    child,
    ...start,
    token,
    readToken,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
