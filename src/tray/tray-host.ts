/**
 * systray2, guarded. Its helper program shows the icon; on Linux it needs a display, GTK and
 * libayatana-appindicator. Known traps (lab/desktop.md): the Linux helper ships without its
 * execute bit (systray2's own chmod fails silently), and without a display the helper exits at
 * once while `ready()` never settles. So: check for a display first, make the helper executable
 * (in place, else a copy in our data folder), and race `ready()` against the helper's exit and a
 * timeout. Any failure is a reason string; the daemon runs on without a tray.
 */
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { TrayItem } from './menu.js';

export interface TrayMenu {
  icon: string;
  title: string;
  tooltip: string;
  items: TrayItem[];
}

export interface TrayHandle {
  update(menu: TrayMenu): void;
  /** Resolves when the helper has gone. */
  close(): Promise<void>;
  readonly pid: number | undefined;
}

/** The part of systray2's class we use (its typings do not survive ESM interop). */
interface SysTrayLike {
  readonly process: ChildProcess | null;
  ready(): Promise<void>;
  onClick(listener: (e: { item: unknown }) => void): Promise<unknown>;
  sendAction(action: object): Promise<unknown>;
  kill(exitNode?: boolean): Promise<void>;
}

export type TrayStart = { ok: true; tray: TrayHandle } | { ok: false; reason: string };

const HELPER_NAMES: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'tray_linux_release',
  darwin: 'tray_darwin_release',
  win32: 'tray_windows_release.exe',
};

/** Why there can be no tray here, or undefined when it is worth trying. */
export function trayUnavailableReason(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!HELPER_NAMES[platform]) return `systray2 has no tray helper for ${platform}`;
  if (platform === 'linux' && !env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return 'no display (DISPLAY and WAYLAND_DISPLAY are not set)';
  return undefined;
}

/** The helper's path and a copyDir for systray2 if the packaged one cannot be made executable. */
function prepareHelper(dataDir: string): { copyDir: string | false } {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('systray2/package.json'));
  const name = HELPER_NAMES[process.platform] as string;
  const packaged = join(pkgDir, 'traybin', name);
  if (process.platform === 'win32') return { copyDir: false };
  try {
    accessSync(packaged, constants.X_OK);
    return { copyDir: false };
  } catch {
    /* not executable: fix below */
  }
  try {
    chmodSync(packaged, 0o755);
    return { copyDir: false };
  } catch {
    // A read-only install: systray2 uses `<copyDir>/<version>/<name>` as it is when it exists.
    const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
    const copyDir = join(dataDir, 'tray-helper');
    const target = join(copyDir, version, name);
    if (!existsSync(target)) {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      copyFileSync(packaged, target);
    }
    chmodSync(target, 0o700);
    return { copyDir };
  }
}

export async function startTrayHost(opts: {
  menu: TrayMenu;
  onClick: (item: TrayItem) => void;
  /** Called once if the helper ends after it was ready (the tray host went away). */
  onLost: (reason: string) => void;
  dataDir: string;
  readyTimeoutMs?: number;
}): Promise<TrayStart> {
  const why = trayUnavailableReason();
  if (why) return { ok: false, reason: why };
  let copyDir: string | false;
  try {
    copyDir = prepareHelper(opts.dataDir).copyDir;
  } catch (e) {
    return { ok: false, reason: `the tray helper could not be made executable (${(e as Error).message})` };
  }
  // GTK must not start accessibility or D-Bus helpers of its own behind our back (lab/desktop.md).
  process.env['NO_AT_BRIDGE'] ??= '1';
  // systray2 is CommonJS with its class on `.default`.
  const SysTray = (createRequire(import.meta.url)('systray2') as { default: new (conf: object) => SysTrayLike }).default;
  const tray = new SysTray({ menu: opts.menu as never, copyDir });
  let ready = false;
  let exited: ((reason: string) => void) | undefined;
  const exitReason = new Promise<string>((resolve) => (exited = resolve));
  let stderr = '';
  const watch = setInterval(() => {
    const p = tray.process;
    if (!p) return;
    clearInterval(watch);
    p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    // A write after the helper died (an update racing its exit) must not become an uncaught EPIPE.
    p.stdin?.on('error', () => undefined);
    p.once('error', (e: Error) => exited?.(`the tray helper could not start (${e.message})`));
    p.once('exit', (code: number | null, signal: string | null) => {
      const detail = stderr.trim().split('\n').pop() ?? '';
      const reason = `the tray helper exited (${signal ?? `code ${code}`})${detail ? `: ${detail.slice(0, 200)}` : ''}`;
      if (ready) opts.onLost(reason);
      exited?.(reason);
    });
  }, 5);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    tray.ready().then(() => 'ready' as const, (e: Error) => `the tray helper failed to start (${e.message})`),
    exitReason,
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the tray helper did not answer within the time limit'), opts.readyTimeoutMs ?? 8000))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    clearInterval(watch);
    tray.process?.kill();
    return { ok: false, reason: outcome };
  }
  ready = true;
  const sent = new WeakMap<TrayItem, string>();
  for (const it of flatten(opts.menu.items)) sent.set(it, JSON.stringify([it.title, it.enabled, it.hidden, it.checked]));
  await tray.onClick((ev: { item: unknown }) => opts.onClick(ev.item as unknown as TrayItem));
  return {
    ok: true,
    tray: {
      pid: tray.process?.pid,
      update(menu) {
        const p = tray.process;
        if (!ready || !p || p.exitCode !== null || p.signalCode !== null || p.stdin?.writable !== true) return;
        // The Linux helper takes only the icon and tooltip from 'update-menu'; items change
        // through 'update-item' (by the id systray2 gave each item at start).
        void tray.sendAction({ type: 'update-menu', menu: menu as never }).catch(() => undefined);
        for (const it of flatten(menu.items)) {
          const key = JSON.stringify([it.title, it.enabled, it.hidden, it.checked]);
          if (sent.get(it) === key) continue;
          sent.set(it, key);
          void tray.sendAction({ type: 'update-item', item: it as never }).catch(() => undefined);
        }
      },
      async close() {
        ready = false;
        const p = tray.process;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise<void>((r) => p.once('exit', () => r()));
        await tray.kill(false);
        await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      },
    },
  };
}

function flatten(items: TrayItem[]): TrayItem[] {
  return items.flatMap((it) => [it, ...flatten(it.items ?? [])]);
}
