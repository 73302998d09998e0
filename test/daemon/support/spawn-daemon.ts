import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
export const TEST_PLUGIN = fileURLToPath(new URL('./test-plugin.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface SpawnedDaemon {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  output(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `ankibridge daemon --json` as a real process (from source, via tsx) and waits for its start line. */
export async function spawnDaemon(env: Record<string, string>, extraArgs: string[] = ['--plugin', TEST_PLUGIN]): Promise<SpawnedDaemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'daemon', '--json', ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const start = await new Promise<{ url: string; port: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start within 60 s; output:\n${out}`)), 60_000);
    const onData = () => {
      const line = out.split('\n').find((l) => l.startsWith('{"ok":true'));
      if (line) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(JSON.parse(line) as { url: string; port: number; pid: number });
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before starting; output:\n${out}`));
    });
  });
  return {
    child,
    pid: start.pid,
    url: start.url,
    port: start.port,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs one CLI command as its own process and returns exit code and output. */
export function runCli(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
