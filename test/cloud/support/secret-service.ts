// A real freedesktop Secret Service for the credential tests: gnome-keyring-daemon on a private
// D-Bus session bus, its login keyring in a throw-away HOME, created and unlocked with a known
// password. With `prompter`, Xvfb runs and the bus may activate the real gcr-prompter (and only
// that): a locked keyring then shows its unlock prompt and waits for an answer that never comes,
// as on a desktop where nobody types the password. secret-tool (libsecret) checks what is stored,
// independently of our code. Everything started here is stopped by stop(), by pid.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SecretService {
  dir: string;
  /** Variables that put a process on this bus, with this HOME (and this display, with a prompter). */
  env: Record<string, string>;
  secretTool(args: string[], input?: string): { status: number | null; stdout: string; stderr: string };
  /** Locks the login keyring (org.freedesktop.Secret.Service.Lock). */
  lock(): void;
  isLocked(): boolean;
  /** Processes running on this bus (gnome-keyring, a gcr-prompter showing an unlock prompt), by command name. */
  activated(): string[];
  stop(): Promise<void>;
}

const LOGIN = '/org/freedesktop/secrets/collection/login';
const PROMPTERS = ['org.gnome.keyring.SystemPrompter.service', 'org.gnome.keyring.PrivatePrompter.service'];

async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Processes started on this bus (activated ones daemonize: gcr-prompter's parent is init), found by their environment. */
function startedOnBus(address: string): { pid: number; name: string }[] {
  const out: { pid: number; name: string }[] = [];
  const mark = Buffer.from(`DBUS_SESSION_BUS_ADDRESS=${address}\0`);
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x) && Number(x) !== process.pid)) {
    try {
      if (!readFileSync(`/proc/${p}/environ`).includes(mark)) continue;
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      out.push({ pid: Number(p), name: /^Name:\t(.*)$/m.exec(status)?.[1] ?? '?' });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export async function startSecretService(opts: { prompter?: boolean; password?: string } = {}): Promise<SecretService> {
  const needs = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool', ...(opts.prompter ? ['Xvfb'] : [])];
  const missing = needs.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length) throw new Error(`the Secret Service tests need ${missing.join(', ')}: install the packages in .ci/apt-packages.txt (dbus-daemon dbus-bin gnome-keyring libsecret-tools xvfb)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-secrets-'));
  const runtime = path.join(dir, 'runtime');
  const home = path.join(dir, 'home');
  const services = path.join(dir, 'services');
  mkdirSync(runtime, { mode: 0o700 });
  mkdirSync(home, { recursive: true });
  mkdirSync(services);
  const children: ChildProcess[] = [];
  let busPid = 0;
  const env: Record<string, string> = {
    HOME: home, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: path.join(home, '.local', 'share'), NO_AT_BRIDGE: '1', GTK_A11Y: 'none',
  };
  const stop = async (): Promise<void> => {
    // what the bus activated (the prompter) — not our own children, stopped below
    const ours = new Set(children.map((c) => c.pid));
    if (env.DBUS_SESSION_BUS_ADDRESS) for (const c of startedOnBus(env.DBUS_SESSION_BUS_ADDRESS)) if (!ours.has(c.pid)) process.kill(c.pid, 'SIGTERM');
    for (const c of [...children].reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    if (busPid) {
      try {
        process.kill(busPid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (opts.prompter) {
      const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '800x600x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
      children.push(xvfb);
      env.DISPLAY = await new Promise<string>((resolve, reject) => {
        let buf = '';
        (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(`:${buf.trim()}`);
        });
        xvfb.once('exit', (c) => reject(new Error(`Xvfb exited (${c})`)));
        setTimeout(() => reject(new Error('Xvfb did not start in 15 s')), 15_000).unref();
      });
      // only the real prompter can be activated on this bus
      for (const f of PROMPTERS) copyFileSync(path.join('/usr/share/dbus-1/services', f), path.join(services, f));
    }
    const conf = path.join(dir, 'bus.conf');
    writeFileSync(
      conf,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><keep_umask/><listen>unix:dir=${runtime}</listen><auth>EXTERNAL</auth>
<servicedir>${services}</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    // the bus hands its environment (DISPLAY, HOME) to what it activates
    const out = execFileSync('dbus-daemon', [`--config-file=${conf}`, '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8', env: { ...process.env, ...env } }).trim().split('\n');
    env.DBUS_SESSION_BUS_ADDRESS = out[0] as string;
    busPid = Number(out[1]);
    const full = { ...process.env, ...env };
    // --unlock reads the login keyring's password from stdin and creates the keyring if needed
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env: full, stdio: ['pipe', 'ignore', 'pipe'] });
    children.push(keyring);
    let keyringLog = '';
    keyring.stderr!.on('data', (d: Buffer) => (keyringLog += d.toString()));
    keyring.stdin!.end(opts.password ?? 'keyring password');
    const send = (args: string[]) => spawnSync('dbus-send', ['--session', '--print-reply', ...args], { env: full, encoding: 'utf8', timeout: 10_000 });
    await waitFor(`gnome-keyring-daemon's login keyring (log: ${keyringLog})`, 15_000, () =>
      send(['--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default']).stdout?.includes(LOGIN),
    );
    const isLocked = () => /boolean true/.test(send(['--dest=org.freedesktop.secrets', LOGIN, 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked']).stdout);
    if (isLocked()) throw new Error('the login keyring did not unlock with its password');
    return {
      dir,
      env,
      secretTool: (args, input) => {
        const r = spawnSync('secret-tool', args, { env: full, encoding: 'utf8', input: input ?? '', timeout: 10_000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      },
      lock: () => {
        const r = send(['--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', `array:objpath:${LOGIN}`]);
        if (r.status !== 0) throw new Error(`could not lock the keyring: ${r.stderr}`);
      },
      isLocked,
      activated: () => startedOnBus(env.DBUS_SESSION_BUS_ADDRESS as string).map((c) => c.name),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
