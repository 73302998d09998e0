// Headless start: the real `ankibridge daemon` process with no DISPLAY. It runs, its API answers,
// and exactly one log line says the tray is off (and why); nothing of the tray is left running.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY } from '../daemon/support/spawn-daemon.js';
import { isolatedHome } from '../daemon/support/isolated.js';

const home = isolatedHome({ api: { port: 0 } });
const env: NodeJS.ProcessEnv = { ...process.env, ...home.env };
delete env['DISPLAY'];
delete env['WAYLAND_DISPLAY'];
let child: ReturnType<typeof spawn> | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('headless daemon (no display)', () => {
  it('runs, answers on the API, and says once that the tray is off', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'daemon', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    const start = await new Promise<{ url: string; logFile: string }>((resolve, reject) => {
      const t = setInterval(() => {
        const line = out.split('\n').find((l) => l.startsWith('{"ok":true'));
        if (line) {
          clearInterval(t);
          resolve(JSON.parse(line) as { url: string; logFile: string });
        }
      }, 50);
      void exited.then((c) => (clearInterval(t), reject(new Error(`daemon exited (${c}): ${out}`))));
    });
    const token = readFileSync(`${home.env.XDG_CONFIG_HOME}/ankibridge/api-token`, 'utf8').trim();
    const health = await fetch(`${start.url}/health`);
    expect(health.status).toBe(200);
    const status = await fetch(`${start.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { decisions: unknown[] }).decisions).toEqual([]);
    const decisions = await fetch(`${start.url}/api/v1/decisions`, { headers: { authorization: `Bearer ${token}` } });
    // The USB sync room is installed, so decisions are available; with no phone there are none.
    expect(await decisions.json()).toEqual({ decisions: [], available: true });
    // The face starts after the start line; give it time to decide, then read the log.
    let lines: string[] = [];
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      lines = readFileSync(start.logFile, 'utf8').split('\n').filter((l) => /tray is off/.test(l));
      if (lines.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    lines = readFileSync(start.logFile, 'utf8').split('\n').filter((l) => /tray/i.test(l));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).msg).toMatch(/^tray is off: no display \(DISPLAY and WAYLAND_DISPLAY are not set\); the daemon runs on without it/);
    // `ankibridge dashboard --json`: a one-time sign-in link to this daemon's dashboard.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'dashboard', '--json'], { env, encoding: 'utf8' });
    expect(cli.status).toBe(0);
    const link = (JSON.parse(cli.stdout) as { url: string }).url;
    expect(link).toMatch(new RegExp(`^${start.url}/dashboard/login\\?code=[A-Za-z0-9_-]{40,}$`));
    const signIn = await fetch(link, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401); // once only
    // Still serving after that.
    expect((await fetch(`${start.url}/health`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/handles still open/);
  });
});
