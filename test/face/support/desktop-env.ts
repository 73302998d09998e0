// A throw-away desktop for the tray and notification tests: Xvfb on a free display, a private
// D-Bus session bus (nothing on it can be D-Bus-activated behind our back), trayer as the XEmbed
// tray host, dunst as the notification server. Everything started here is stopped by stop(),
// by pid. Facts from the team's lab notes (shared/lab/desktop.md); the code is our own.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface DesktopEnv {
  dir: string;
  env: Record<string, string>;
  /** Runs a tool against this desktop. */
  run(cmd: string, args: string[]): string;
  shot(file: string): void;
  trayIconCentre(): { x: number; y: number } | undefined;
  stop(): Promise<void>;
}

const REQUIRED = ['Xvfb', 'dbus-daemon', 'trayer', 'dunst', 'dunstctl', 'notify-send', 'xdotool', 'import', 'xwininfo', 'xdpyinfo', 'convert'];

async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export async function startDesktop(): Promise<DesktopEnv> {
  const missing = REQUIRED.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length) throw new Error(`the desktop test needs ${missing.join(', ')}: install the packages in .ci/apt-packages.txt (xvfb trayer dunst libnotify-bin xdotool imagemagick x11-utils dbus-daemon)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-desktop-'));
  const runtime = path.join(dir, 'runtime');
  mkdirSync(runtime, { mode: 0o700 });
  mkdirSync(path.join(dir, 'services'));
  const children: ChildProcess[] = [];
  const pids: number[] = [];
  const stop = async () => {
    for (const p of pids.reverse()) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  };
  try {
    // 1. Xvfb; -displayfd reports the display number once the server accepts connections.
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    children.push(xvfb);
    pids.push(xvfb.pid as number);
    const display = await new Promise<string>((resolve, reject) => {
      let buf = '';
      (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(`:${buf.trim()}`);
      });
      xvfb.once('exit', (c) => reject(new Error(`Xvfb exited (${c})`)));
      setTimeout(() => reject(new Error('Xvfb did not start in 15 s')), 15_000).unref();
    });
    // 2. A private session bus.
    const conf = path.join(dir, 'bus.conf');
    writeFileSync(
      conf,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><keep_umask/><listen>unix:dir=${runtime}</listen><auth>EXTERNAL</auth>
<servicedir>${path.join(dir, 'services')}</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    const out = execFileSync('dbus-daemon', [`--config-file=${conf}`, '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' }).trim().split('\n');
    const bus = out[0] as string;
    pids.push(Number(out[1]));
    const env = { DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: bus, NO_AT_BRIDGE: '1', GTK_A11Y: 'none', XDG_RUNTIME_DIR: runtime };
    const full = { ...process.env, ...env };
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { env: full, encoding: 'utf8', timeout: 15_000 });
    await waitFor('the X display', 10_000, () => spawnSync('xdpyinfo', [], { env: full }).status === 0);
    // 3. trayer: an XEmbed tray; libayatana-appindicator falls back to it when no SNI watcher is on the bus.
    const trayer = spawn('trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'pixel', '--width', '200', '--height', '32', '--SetDockType', 'true', '--transparent', 'false', '--tint', '0xffffffff'], { env: full, stdio: 'ignore' });
    children.push(trayer);
    pids.push(trayer.pid as number);
    await waitFor('trayer', 10_000, () => run('xwininfo', ['-root', '-tree']).includes('("panel" "trayer")'));
    // 4. dunst, with a dmenu stand-in so a test can pick any action from its context menu.
    const dmenu = path.join(dir, 'fake-dmenu.sh');
    writeFileSync(dmenu, `#!/bin/sh\nk=$(cat "${path.join(dir, 'pick')}" 2>/dev/null); in=$(cat); [ -n "$k" ] && printf '%s\\n' "$in" | grep -m1 -- ",$k]$"\nexit 0\n`);
    chmodSync(dmenu, 0o755);
    const dunstrc = path.join(dir, 'dunstrc');
    writeFileSync(dunstrc, `[global]\n    font = DejaVu Sans 10\n    origin = top-right\n    offset = 10x50\n    width = 360\n    show_indicators = yes\n    dmenu = ${dmenu}\n    mouse_left_click = do_action, close_current\n`);
    const dunst = spawn('dunst', ['-config', dunstrc], { env: full, stdio: 'ignore' });
    children.push(dunst);
    pids.push(dunst.pid as number);
    await waitFor('dunst on the bus', 10_000, () =>
      run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.ListNames']).includes('org.freedesktop.Notifications'),
    );
    return {
      dir,
      env,
      run,
      shot: (file) => void run('import', ['-window', 'root', file]),
      trayIconCentre() {
        const tree = run('xwininfo', ['-root', '-tree']);
        const panel = /^\s+(0x[0-9a-f]+) .*\("panel" "trayer"\)/m.exec(tree)?.[1];
        if (!panel) return undefined;
        for (const line of run('xwininfo', ['-children', '-id', panel]).split('\n')) {
          const m = /^\s+0x[0-9a-f]+ .* (\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)\s*$/.exec(line);
          if (!m) continue;
          const [w, h, ax, ay] = [Number(m[1]), Number(m[2]), Number(m[5]), Number(m[6])];
          if (w < 2) continue;
          return { x: ax + Math.floor(w / 2), y: ay + Math.floor(h / 2) };
        }
        return undefined;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Counts pixels in a square around (x, y) within `tol` of an RGB colour, from a PNG screenshot. */
export function countColour(png: string, x: number, y: number, half: number, rgb: [number, number, number], tol = 40): number {
  const txt = execFileSync('convert', [png, '-crop', `${half * 2}x${half * 2}+${x - half}+${y - half}`, '+repage', 'txt:-'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  let n = 0;
  for (const m of txt.matchAll(/\((\d+),(\d+),(\d+)/g)) {
    if (Math.abs(Number(m[1]) - rgb[0]) <= tol && Math.abs(Number(m[2]) - rgb[1]) <= tol && Math.abs(Number(m[3]) - rgb[2]) <= tol) n++;
  }
  return n;
}

export function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
