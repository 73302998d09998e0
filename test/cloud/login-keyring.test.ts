// `ankibridge login` / `logout` (the real bin/ankibridge.js, run from dist/) against Anki's own
// sync server, with the key kept in a real Secret Service (gnome-keyring-daemon on a private
// bus; secret-tool checks it independently of our code), in a locked keyring whose unlock
// prompt (the real gcr-prompter on Xvfb) nobody answers, and with no Secret Service at all.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer, type SyncServer } from '../peer/peer.js';
import { isolatedHome, type IsolatedHome } from '../daemon/support/isolated.js';
import { startSecretService, type SecretService } from './support/secret-service.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'ankibridge.js');
const PTY = fileURLToPath(new URL('./support/pty-run.py', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const HEX40 = /^[0-9a-f]{40}$/;

let server: SyncServer;
const running: SecretService[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'commands', 'login.js'))) throw new Error('dist/ has no login verb: run `npm run build` first (these tests run bin/ankibridge.js)');
  server = await startSyncServer({ users: [{ user: 'alice', password: PASSWORD }] });
});
afterAll(async () => {
  for (const s of running) await s.stop();
  await server?.stop();
});

/** The environment of a user with no desktop session (no bus, no display) and isolated folders. */
function baseEnv(home: IsolatedHome, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...home.env, ...extra };
  for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'WAYLAND_DISPLAY']) if (!(k in extra)) delete env[k];
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv, input = '') {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0, timedOut: r.error !== undefined };
}

function loginJson(env: NodeJS.ProcessEnv, extra: string[] = []) {
  const r = cli(['login', '--endpoint', server.endpoint, '-u', 'alice', '--password-stdin', '--json', ...extra], env, `${PASSWORD}\n`);
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`login --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, out };
}

/**
 * Our own code (compiled, as the daemon runs it) reads the key and syncs with it: a profile with
 * no collection yet against an account with none is "noChanges" — the server took the key (a
 * wrong one is a 403, CLOUD_AUTH_FAILED).
 */
function readAndSync(env: NodeJS.ProcessEnv, home: IsolatedHome, col: string) {
  const code = `
    import { defaultCredentialStore, CloudSync } from ${JSON.stringify(path.join(ROOT, 'dist/sync/cloud/index.js'))};
    const store = defaultCredentialStore(${JSON.stringify(path.join(home.env.XDG_CONFIG_HOME, 'ankibridge'))});
    const out = {};
    try {
      const c = await store.get(${JSON.stringify(server.endpoint)});
      out.hkey = c?.hkey ?? null;
      if (c) out.sync = (await new CloudSync({ collectionPath: ${JSON.stringify(col)}, endpoint: ${JSON.stringify(server.endpoint)}, credentials: store,
        isCollectionFree: () => true, backup: async () => undefined, media: false }).run()).kind;
    } catch (e) { out.error = e.code ?? String(e); out.message = e.message; }
    console.log(JSON.stringify(out));`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`the reader printed nothing (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { ...(JSON.parse(line) as { hkey?: string | null; sync?: string; error?: string; message?: string }), ms: Date.now() - t0 };
}

/** Every file under a folder, read as text: the password must be in none of them. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}
function expectNoPasswordUnder(...dirs: string[]): void {
  for (const f of dirs.flatMap(filesUnder)) expect(readFileSync(f).includes(PASSWORD), `the password is in ${f}`).toBe(false);
}

describe('the sync key in a real Secret Service (gnome-keyring)', () => {
  it('login keeps only the host key in the login keyring (secret-tool reads it), our client syncs with it, logout removes it', async () => {
    const ss = await startSecretService();
    running.push(ss);
    const home = isolatedHome();
    const env = baseEnv(home, ss.env);
    const login = loginJson(env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.out).toMatchObject({ ok: true, endpoint: server.endpoint, user: 'alice', storedIn: 'the OS keyring (Secret Service, login keyring)' });
    expect(login.out.fileMode).toBeUndefined();

    // independently of our code: libsecret's secret-tool finds exactly our item, holding the key
    const found = ss.secretTool(['lookup', 'service', 'ankibridge-sync', 'username', server.endpoint]);
    expect(found.status, found.stderr).toBe(0);
    const secret = JSON.parse(found.stdout) as { user: string; hkey: string };
    expect(secret.user).toBe('alice');
    expect(secret.hkey).toMatch(HEX40);
    const all = ss.secretTool(['search', '--all', 'service', 'ankibridge-sync']);
    expect(all.stdout.match(/^secret = /gm)).toHaveLength(1);
    expect(all.stdout + all.stderr).not.toContain(PASSWORD);
    expect(existsSync(path.join(home.env.XDG_CONFIG_HOME, 'ankibridge', 'sync-keys.json'))).toBe(false);
    expectNoPasswordUnder(home.root, ss.dir);

    // our client reads it back and the server takes it
    const read = readAndSync(env, home, path.join(home.root, 'col', 'collection.anki2'));
    expect(read).toMatchObject({ hkey: secret.hkey, sync: 'noChanges' });

    const logout = cli(['logout', '--endpoint', server.endpoint], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toContain(`Forgot the sync key for ${server.endpoint}`);
    expect(ss.secretTool(['lookup', 'service', 'ankibridge-sync', 'username', server.endpoint]).stdout).toBe('');
    expect(readAndSync(env, home, path.join(home.root, 'col', 'collection.anki2'))).toMatchObject({ hkey: null });

    // locked, with no prompter on this bus: the read comes back empty at once; we name the lock
    // instead of saying "not logged in"
    expect(loginJson(env).code).toBe(0);
    ss.lock();
    const locked = readAndSync(env, home, path.join(home.root, 'col', 'collection.anki2'));
    expect(locked.error, locked.message).toBe('ANKIBRIDGE_ERR_CLOUD_KEYRING_LOCKED');
  });

  it('a locked keyring whose unlock prompt nobody answers: our timeout and a named error, login falls back to the 0600 file, nothing hangs', async () => {
    const ss = await startSecretService({ prompter: true });
    running.push(ss);
    const home = isolatedHome();
    const env = baseEnv(home, ss.env);
    expect(loginJson(env).out.storedIn).toBe('the OS keyring (Secret Service, login keyring)');
    ss.lock();
    expect(ss.isLocked()).toBe(true);

    // reading opens the real unlock prompt (gcr-prompter on Xvfb), which waits forever: our 3 s
    // timeout, a named error, and the process ends (the helper holding the call is killed)
    const locked = readAndSync(env, home, path.join(home.root, 'col', 'collection.anki2'));
    expect(locked.error, locked.message).toBe('ANKIBRIDGE_ERR_CLOUD_KEYRING_TIMEOUT');
    expect(locked.message).toContain('did not answer within 3 seconds when asked to read the sync key');
    expect(locked.ms).toBeLessThan(20_000);
    expect(ss.activated(), 'the unlock prompt is up (real gcr-prompter)').toContain('gcr-prompter');

    // writing opens the real unlock prompt, which waits forever: our 3 s timeout, then the file
    const login = loginJson(env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.ms, 'login must not wait for the prompt').toBeLessThan(30_000);
    const file = path.join(home.env.XDG_CONFIG_HOME, 'ankibridge', 'sync-keys.json');
    expect(login.out).toMatchObject({ storedIn: file, fileMode: '0600' });
    expect(String(login.out.keyringProblem)).toMatch(/did not answer within 3 seconds/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const inFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { user: string; hkey: string }>;
    expect(inFile[server.endpoint]).toMatchObject({ user: 'alice', hkey: expect.stringMatching(HEX40) });
    expectNoPasswordUnder(home.root);

    // the file's (newer) key is used at once, without asking the keyring
    const read = readAndSync(env, home, path.join(home.root, 'col2', 'collection.anki2'));
    expect(read).toMatchObject({ hkey: inFile[server.endpoint]!.hkey, sync: 'noChanges' });
    expect(read.ms).toBeLessThan(20_000);

    // logout: the file copy goes; the keyring cannot be reached and the output says so
    const logout = cli(['logout', '--endpoint', server.endpoint, '--json'], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.ms).toBeLessThan(30_000);
    expect(JSON.parse(logout.stdout)).toMatchObject({ ok: true, keyringProblem: expect.stringMatching(/did not answer/) });
    expect(existsSync(file)).toBe(false);
  });

  it('no Secret Service at all: the key goes to a 0600 file and the output says where and why', () => {
    const home = isolatedHome();
    const env = baseEnv(home);
    const r = cli(['login', '--endpoint', server.endpoint, '-u', 'alice', '--password-stdin'], env, PASSWORD);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(home.env.XDG_CONFIG_HOME, 'ankibridge', 'sync-keys.json');
    expect(r.stdout).toContain(`Logged in to ${server.endpoint} as alice.`);
    expect(r.stdout).toContain(`The sync key is stored in ${file} (readable by you only, mode 0600), because the OS keyring could not take it`);
    expect(r.stdout).toContain('The password was not stored.');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(file, 'utf8')) as Record<string, { hkey: string }>)[server.endpoint]!.hkey).toMatch(HEX40);
    expectNoPasswordUnder(home.root);
  });
});

describe('ankibridge login / logout', () => {
  it('asks at a terminal, the password without echo, and uses cloud.endpoint from the config', () => {
    const home = isolatedHome({ api: { port: 0 }, cloud: { endpoint: server.endpoint } });
    const env = baseEnv(home);
    const req = {
      argv: [process.execPath, BIN, 'login'],
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)),
      steps: [
        ['User name for ', 'alice\r'],
        ['Password for alice (not shown, not stored): ', `${PASSWORD}\r`],
      ],
      timeout: 60,
    };
    const r = spawnSync('python3', [PTY], { input: JSON.stringify(req), encoding: 'utf8', timeout: 90_000 });
    const out = JSON.parse(r.stdout) as { status: number; transcript: string; unanswered: string[] };
    // eslint-disable-next-line no-control-regex
    out.transcript = out.transcript.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    expect(out.unanswered, out.transcript).toEqual([]);
    expect(out.status, out.transcript).toBe(0);
    expect(out.transcript).toContain(`User name for ${server.endpoint}: alice`); // the name is echoed
    expect(out.transcript).not.toContain(PASSWORD); // the password is not
    expect(out.transcript).toContain(`Logged in to ${server.endpoint} as alice.`);
    const file = path.join(home.env.XDG_CONFIG_HOME, 'ankibridge', 'sync-keys.json');
    expect((JSON.parse(readFileSync(file, 'utf8')) as Record<string, { hkey: string }>)[server.endpoint]!.hkey).toMatch(HEX40);
  });

  it('named errors: wrong password, no terminal and no --password-stdin, unreachable server, bad endpoint; --help helps', () => {
    const home = isolatedHome();
    const env = baseEnv(home);
    const wrong = cli(['login', '--endpoint', server.endpoint, '-u', 'alice', '--password-stdin'], env, 'nope\n');
    expect(wrong.code).toBe(77);
    expect(wrong.stderr).toContain('ANKIBRIDGE_ERR_CLOUD_AUTH_FAILED');
    expect(existsSync(path.join(home.env.XDG_CONFIG_HOME, 'ankibridge', 'sync-keys.json'))).toBe(false);

    const noTty = cli(['login', '--endpoint', server.endpoint, '-u', 'alice', '--json'], env, PASSWORD);
    expect(noTty.code).toBe(64);
    expect(JSON.parse(noTty.stdout)).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_GENERAL_USAGE', message: expect.stringContaining('--password-stdin') } });
    const noUser = cli(['login', '--endpoint', server.endpoint, '--password-stdin'], env, PASSWORD);
    expect(noUser.code).toBe(64);
    expect(noUser.stderr).toContain('pass --username');
    const empty = cli(['login', '--endpoint', server.endpoint, '-u', 'alice', '--password-stdin'], env, '\n');
    expect(empty.code).toBe(64);
    expect(empty.stderr).toContain('the password is empty');

    const closed = cli(['login', '--endpoint', 'http://127.0.0.1:9/', '-u', 'alice', '--password-stdin'], env, PASSWORD);
    expect(closed.code).toBe(69);
    expect(closed.stderr).toContain('ANKIBRIDGE_ERR_CLOUD_NETWORK');
    const bad = cli(['login', '--endpoint', 'ftp://x/', '-u', 'alice', '--password-stdin'], env, PASSWORD);
    expect(bad.stderr).toContain('ANKIBRIDGE_ERR_CLOUD_BAD_ENDPOINT');

    writeFileSync(home.configFile, '{"cloud": {"endpoint": 5}}');
    const badConfig = cli(['login', '-u', 'alice', '--password-stdin'], env, PASSWORD);
    expect(badConfig.code).toBe(65);
    expect(badConfig.stderr).toContain('ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID');

    const help = cli(['login', '--help'], env);
    expect(help.code).toBe(0);
    for (const part of ['--password-stdin', '--username', '--endpoint', 'never the password', 'mode 0600', 'Exit codes', 'Examples']) expect(help.stdout).toContain(part);
    const logoutHelp = cli(['logout', '--help'], env);
    expect(logoutHelp.stdout).toContain('Forgets the sync key');
    expect(cli(['--help'], env).stdout).toMatch(/login \[options\][\s\S]*logout \[options\]/);
  });
});
