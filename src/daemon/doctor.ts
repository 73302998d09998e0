import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { probeCollection } from '../apkg/desktop/probe.js';
import { resolveDesktopCollection } from '../apkg/desktop/profiles.js';
import { DaemonClient } from './client/daemon-client.js';
import { readConfigFile } from './config/store.js';
import { daemonPaths } from './paths.js';
import { serviceFiles, udevRuleInstalled, SYSTEM_UDEV_RULE } from './service/install.js';

export type CheckState = 'ok' | 'warn' | 'fail';
export interface Check {
  name: string;
  state: CheckState;
  detail: string;
}

/** Everything `ankibridge doctor` looks at. Each check says what it found and, if not ok, what to do. */
export async function runDoctor(): Promise<Check[]> {
  const checks: Check[] = [];
  let collectionPath: string | undefined;
  try {
    const r = resolveDesktopCollection();
    collectionPath = r.profile.collectionPath;
    checks.push({ name: 'anki', state: 'ok', detail: `Anki Desktop profile "${r.profile.name}" in ${r.info.base}` });
  } catch (e) {
    checks.push({ name: 'anki', state: 'fail', detail: `Anki Desktop's collection was not found: ${(e as Error).message}` });
  }
  if (collectionPath) {
    const p = probeCollection(collectionPath);
    checks.push({
      name: 'collection-free',
      state: p.state === 'free' ? 'ok' : 'warn',
      detail: p.state === 'free' ? `${collectionPath} is free (Anki Desktop is closed)` : `${collectionPath}: ${p.reason}; ankibridge waits until Anki Desktop closes it`,
    });
  } else {
    checks.push({ name: 'collection-free', state: 'fail', detail: 'cannot be checked without a collection' });
  }
  checks.push(usbCheck());
  checks.push(trayCheck());
  try {
    readConfigFile(daemonPaths().configFile);
    checks.push({ name: 'config', state: 'ok', detail: daemonPaths().configFile });
  } catch (e) {
    checks.push({ name: 'config', state: 'fail', detail: (e as Error).message });
  }
  checks.push(await apiCheck());
  const unit = serviceFiles().unitPath;
  checks.push(
    existsSync(unit)
      ? { name: 'autostart', state: 'ok', detail: `installed: ${unit}` }
      : { name: 'autostart', state: 'warn', detail: 'not installed; run `ankibridge service install` to start ankibridge at login' },
  );
  return checks;
}

function usbCheck(): Check {
  if (process.platform !== 'linux') return { name: 'usb-permissions', state: 'ok', detail: 'no extra permission needed on this system' };
  if (udevRuleInstalled()) return { name: 'usb-permissions', state: 'ok', detail: `udev rule installed (${SYSTEM_UDEV_RULE})` };
  const anyRule = ['/etc/udev/rules.d', '/lib/udev/rules.d', '/usr/lib/udev/rules.d'].some((d) => {
    try {
      return spawnSync('grep', ['-rlsE', 'idVendor}=="18d1"|ID_MTP_DEVICE|libmtp', d], { encoding: 'utf8' }).stdout.trim() !== '';
    } catch {
      return false;
    }
  });
  return anyRule
    ? { name: 'usb-permissions', state: 'warn', detail: `another package's udev rules cover some Android phones; for all of them install ankibridge's rule (\`ankibridge service install\` says how, it needs root)` }
    : { name: 'usb-permissions', state: 'fail', detail: `no udev rule lets you open Android phones without root; \`ankibridge service install\` writes one and prints the root command to install it` };
}

function trayCheck(): Check {
  if (process.platform !== 'linux') return { name: 'tray', state: 'ok', detail: 'the system tray is always there on this system' };
  if (!process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return { name: 'tray', state: 'warn', detail: 'no graphical session here (DISPLAY/WAYLAND_DISPLAY unset): no tray icon; the CLI and API still work' };
  }
  const r = spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.NameHasOwner', 'org.kde.StatusNotifierWatcher'], {
    encoding: 'utf8',
    timeout: 3000,
  });
  if (r.status === 0 && r.stdout.includes('true')) return { name: 'tray', state: 'ok', detail: 'a StatusNotifier tray host is running' };
  if (r.status === 0) return { name: 'tray', state: 'warn', detail: 'no StatusNotifier tray host (on GNOME install the AppIndicator extension); the CLI and API still work' };
  return { name: 'tray', state: 'warn', detail: 'could not ask the session bus for a tray host (gdbus missing or no session bus)' };
}

async function apiCheck(): Promise<Check> {
  let client: DaemonClient;
  try {
    client = DaemonClient.connect({ scope: 'read', client: 'cli' });
  } catch (e) {
    return { name: 'api', state: 'fail', detail: (e as Error).message };
  }
  try {
    const health = await fetch(`${client.info.url}/health`, { signal: AbortSignal.timeout(5000) });
    if (!health.ok) return { name: 'api', state: 'fail', detail: `${client.info.url}/health answered ${health.status}` };
    await client.request('GET', '/api/v1/status', undefined, 5000);
    return { name: 'api', state: 'ok', detail: `daemon ${client.info.pid} answers at ${client.info.url} and accepts the token` };
  } catch (e) {
    return { name: 'api', state: 'fail', detail: (e as Error).message };
  }
}
