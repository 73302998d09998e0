// Must-show 6 of issue 7: every daemon CLI verb end to end against a real running daemon process
// in isolated XDG folders, in human and --json output.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedHome } from './support/isolated.js';
import { runCli, spawnDaemon, type SpawnedDaemon } from './support/spawn-daemon.js';

const home = isolatedHome();
const env = home.env;
let daemon: SpawnedDaemon | undefined;

function json(args: string[]) {
  const r = runCli([...args, '--json'], env);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`ankibridge ${args.join(' ')} --json did not print JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, out: parsed, stderr: r.stderr };
}

function errCode(out: Record<string, unknown>): string {
  return (out['error'] as { code: string }).code;
}

afterAll(async () => {
  await daemon?.stop();
});

describe('ankibridge CLI against a real daemon', () => {
  it('says clearly when no daemon runs (exit 69), and config/logs work without one', () => {
    const human = runCli(['status'], env);
    expect(human.code).toBe(69);
    expect(human.stderr).toMatch(/ANKIBRIDGE_ERR_DAEMON_NOT_RUNNING: No ankibridge daemon is running/);
    const j = json(['status']);
    expect(j.code).toBe(69);
    expect(j.out['ok']).toBe(false);
    expect(errCode(j.out)).toBe('ANKIBRIDGE_ERR_DAEMON_NOT_RUNNING');
    expect(runCli(['logs'], env).code, 'no log before the first run').toBe(66);
    const set = json(['config', 'set', 'cloud.intervalMinutes', '45']);
    expect(set.code).toBe(0);
    expect(set.out).toMatchObject({ ok: true, key: 'cloud.intervalMinutes', value: 45, source: 'file' });
    expect(JSON.parse(readFileSync(home.configFile, 'utf8'))).toMatchObject({ api: { port: 0 }, cloud: { intervalMinutes: 45 } });
    const bad = runCli(['config', 'set', 'cloud.intervalMinutes', '"soon"'], env);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain('ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID');
  });

  it('daemon: starts, and a second start says one is running (exit 69) in both outputs', async () => {
    daemon = await spawnDaemon(env);
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const second = runCli(['daemon'], env);
    expect(second.code).toBe(69);
    expect(second.stderr).toContain(`ANKIBRIDGE_ERR_DAEMON_ALREADY_RUNNING: An ankibridge daemon is already running (process ${daemon.pid}, ${daemon.url})`);
    const secondJson = json(['daemon']);
    expect(secondJson.code).toBe(69);
    expect(errCode(secondJson.out)).toBe('ANKIBRIDGE_ERR_DAEMON_ALREADY_RUNNING');
  });

  it('status', () => {
    const h = runCli(['status'], env);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain(`daemon ${daemon?.pid}`);
    expect(h.stdout).toContain('Not paused.');
    const j = json(['status']);
    expect(j.code).toBe(0);
    expect(j.out).toMatchObject({ ok: true, status: { pid: daemon?.pid, paused: null } });
  });

  it('pause and resume (10m, 1h, until resumed; a bad duration is a usage error)', () => {
    const h = runCli(['pause', '10m'], env);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Paused until \d{4}-/);
    const j = json(['pause', '1h']);
    expect(j.code).toBe(0);
    const until = Date.parse((j.out['paused'] as { until: string }).until);
    expect(until - Date.now()).toBeGreaterThan(59 * 60_000);
    const forever = json(['pause']);
    expect((forever.out['paused'] as { until: null }).until).toBeNull();
    expect(runCli(['status'], env).stdout).toContain('Paused until resumed.');
    const bad = runCli(['pause', 'soonish'], env);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('ANKIBRIDGE_ERR_GENERAL_USAGE');
    const r = runCli(['resume'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('Resumed.');
    const rj = json(['resume']);
    expect(rj.out).toEqual({ ok: true, paused: null });
  });

  it('config get/set/path go through the daemon, which validates', () => {
    const g = runCli(['config', 'get', 'cloud.intervalMinutes'], env);
    expect(g.stdout.trim()).toBe('45');
    const set = json(['config', 'set', 'cloud.enabled', 'true']);
    expect(set.out).toMatchObject({ ok: true, value: true, source: 'daemon' });
    const whole = json(['config', 'get']);
    expect(whole.out).toMatchObject({ value: { cloud: { enabled: true, intervalMinutes: 45 }, log: { level: 'info' } } });
    const bad = json(['config', 'set', 'log.level', 'loud']);
    expect(bad.code).toBe(65);
    expect(errCode(bad.out)).toBe('ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID');
    const level = runCli(['config', 'get', 'log.level'], env);
    expect(level.stdout.trim(), level.stderr).toBe('info');
    expect(runCli(['config', 'path'], env).stdout.trim()).toBe(home.configFile);
    expect(json(['config', 'path']).out).toMatchObject({ path: home.configFile, exists: true });
    expect(runCli(['config', 'get', 'no.such'], env).code).toBe(64);
  });

  it('sync: queues a cloud sync and waits for it; refuses while Anki has the collection open', async () => {
    const h = runCli(['sync'], env);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout.trim()).toBe('Sync succeeded.');
    const j = json(['sync']);
    expect(j.out).toMatchObject({ ok: true, job: { kind: 'cloud.sync', state: 'succeeded', origin: 'cli' } });
    const { writeFileSync, rmSync } = await import('node:fs');
    const marker = `${env.XDG_DATA_HOME}/anki-open.marker`;
    writeFileSync(marker, '');
    const busy = json(['sync']);
    rmSync(marker);
    expect(busy.code).toBe(69);
    expect(errCode(busy.out)).toBe('ANKIBRIDGE_ERR_DAEMON_COLLECTION_BUSY');
  });

  it('logs: the last lines, readable and as JSON, with no token in them', () => {
    const h = runCli(['logs', '-n', '20'], env);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}daemon started/);
    const j = json(['logs', '-n', '5']);
    expect((j.out['entries'] as unknown[]).length).toBe(5);
    const token = readFileSync(`${env.XDG_CONFIG_HOME}/ankibridge/api-token`, 'utf8').trim();
    expect(runCli(['logs', '-n', '1000'], env).stdout).not.toContain(token);
  });

  it('doctor: checks each part and says what is wrong (no Anki here: exit 69)', () => {
    const h = runCli(['doctor'], env);
    expect(h.code).toBe(69);
    expect(h.stdout).toMatch(/^FAIL anki: Anki Desktop's collection was not found/m);
    expect(h.stdout).toMatch(/^ok {3}api: daemon \d+ answers at http:\/\/127\.0\.0\.1:\d+ and accepts the token/m);
    expect(h.stdout).toMatch(/^ok {3}config:/m);
    const j = json(['doctor']);
    const names = (j.out['checks'] as Array<{ name: string }>).map((c) => c.name);
    expect(names).toEqual(['anki', 'collection-free', 'usb-permissions', 'tray', 'config', 'api', 'autostart']);
  });

  it('service install --no-enable / status / uninstall write and remove the unit in the XDG folder', () => {
    const unit = `${env.XDG_CONFIG_HOME}/systemd/user/ankibridge.service`;
    const h = runCli(['service', 'install', '--no-enable'], env);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain(`Installed: ${unit}`);
    expect(h.stdout).toMatch(/udev rule .* needs root/);
    expect(readFileSync(unit, 'utf8')).toContain(`ExecStart=${process.execPath} `);
    const st = json(['service', 'status']);
    expect(st.out).toMatchObject({ ok: true, service: { installed: true, unitPath: unit } });
    expect(runCli(['service', 'status'], env).stdout).toContain('installed: yes');
    const un = json(['service', 'uninstall']);
    expect(un.out).toMatchObject({ ok: true, service: { installed: false } });
    expect(existsSync(unit)).toBe(false);
    expect(runCli(['service', 'uninstall'], env).stdout).toContain('Uninstalled:');
  });

  it('--help documents the exit codes of every verb', async () => {
    const { main } = await import('../../src/cli/main.js');
    for (const verb of [['daemon'], ['status'], ['pause'], ['resume'], ['logs'], ['config', 'get'], ['service', 'install'], ['doctor'], ['sync'], ['shutdown']]) {
      let out = '';
      const code = await main([...verb, '--help'], { out: (t) => (out += t), err: (t) => (out += t) });
      expect(code, verb.join(' ')).toBe(0);
      expect(out, verb.join(' ')).toMatch(/Exit codes: 0 /);
    }
  });

  it('shutdown: stops the daemon gracefully and waits for it (then status says it is not running)', async () => {
    const h = runCli(['shutdown'], env);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout.trim()).toBe(`Daemon ${daemon?.pid} stopped.`);
    expect(await daemon?.exited).toBe(0);
    expect(daemon?.output(), 'the daemon closed every handle it opened').not.toContain('handles still open');
    expect(existsSync(`${env.XDG_DATA_HOME}/ankibridge/runtime/daemon.json`)).toBe(false);
    expect(json(['shutdown']).out['ok']).toBe(false);
    // A fresh one for the --json shutdown.
    daemon = await spawnDaemon(env);
    const j = json(['shutdown']);
    expect(j.out).toMatchObject({ ok: true, pid: daemon.pid, exited: true });
    expect(await daemon.exited).toBe(0);
    expect(runCli(['status'], env).code).toBe(69);
  });
});
