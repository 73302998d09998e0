import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { daemonPaths } from '../paths.js';
import { defaultVars, renderFile, TEMPLATES } from './render.js';

export type Platform = 'linux' | 'darwin' | 'win32';

export interface ServiceFiles {
  platform: Platform;
  /** Where the autostart definition goes. */
  unitPath: string;
  /** Linux: where the rendered udev rule is left for the user to install with root. */
  udevRulePath?: string;
}

export interface ServiceReport {
  platform: Platform;
  unitPath: string;
  installed: boolean;
  enabled: boolean | null;
  active: boolean | null;
  /** Things the user must do by hand (root, or no service manager reachable). */
  todo: string[];
  ran: string[];
}

export const UDEV_RULE_NAME = '51-ankibridge-android.rules';
export const SYSTEM_UDEV_RULE = `/etc/udev/rules.d/${UDEV_RULE_NAME}`;

export function currentPlatform(): Platform {
  const p = process.platform;
  if (p === 'linux' || p === 'darwin' || p === 'win32') return p;
  throw makeError(DaemonErrors.SERVICE_UNSUPPORTED, { platform: p });
}

export function serviceFiles(platform: Platform = currentPlatform()): ServiceFiles {
  const paths = daemonPaths();
  if (platform === 'linux') {
    const configHome = process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
    return { platform, unitPath: join(configHome, 'systemd', 'user', 'ankibridge.service'), udevRulePath: join(paths.dataDir, 'udev', UDEV_RULE_NAME) };
  }
  if (platform === 'darwin') return { platform, unitPath: join(homedir(), 'Library', 'LaunchAgents', 'org.ankibridge.daemon.plist') };
  return { platform, unitPath: join(paths.dataDir, 'ankibridge-task.xml') };
}

/** The rendered definition for a platform (used by install and by the tests that verify it). */
export function renderService(platform: Platform): string {
  const vars = defaultVars(daemonPaths().logDir);
  if (platform === 'linux') return renderFile(TEMPLATES.systemd, vars, 'systemd');
  if (platform === 'darwin') return renderFile(TEMPLATES.launchd, vars, 'xml');
  return renderFile(TEMPLATES.windowsTask, vars, 'xml');
}

function run(cmd: string, args: string[], ran: string[]): { ok: boolean; out: string } {
  ran.push([cmd, ...args].join(' '));
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || (r.error?.message ?? '') };
}

/** Is a user service manager reachable (a user systemd with a session bus)? */
function systemdUserAvailable(): boolean {
  const r = spawnSync('systemctl', ['--user', 'show-environment'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0;
}

export function installService(opts: { enable: boolean }): ServiceReport {
  const files = serviceFiles();
  const ran: string[] = [];
  const todo: string[] = [];
  mkdirSync(dirname(files.unitPath), { recursive: true });
  const text = renderService(files.platform);
  let enabled: boolean | null = null;
  if (files.platform === 'linux') {
    writeFileSync(files.unitPath, text, { mode: 0o644 });
    const rule = files.udevRulePath as string;
    mkdirSync(dirname(rule), { recursive: true });
    writeFileSync(rule, readFileSync(TEMPLATES.udevRule, 'utf8'), { mode: 0o644 });
    if (!udevRuleInstalled()) {
      todo.push(
        `The udev rule that lets you open Android phones without root needs root to install, once:\n` +
          `  sudo install -m 0644 ${rule} /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger`,
      );
    }
    if (opts.enable) {
      if (systemdUserAvailable()) {
        const reload = run('systemctl', ['--user', 'daemon-reload'], ran);
        const en = run('systemctl', ['--user', 'enable', '--now', 'ankibridge.service'], ran);
        if (!reload.ok || !en.ok) {
          throw makeError(DaemonErrors.SERVICE_COMMAND_FAILED, { command: 'systemctl --user enable --now ankibridge.service', reason: en.out || reload.out, path: files.unitPath });
        }
        enabled = true;
      } else {
        todo.push('No user systemd is reachable from here. In your desktop session run:\n  systemctl --user daemon-reload && systemctl --user enable --now ankibridge.service');
      }
    }
  } else if (files.platform === 'darwin') {
    writeFileSync(files.unitPath, text, { mode: 0o644 });
    if (opts.enable) {
      const uid = process.getuid?.() ?? 0;
      run('launchctl', ['bootout', `gui/${uid}`, files.unitPath], ran);
      const r = run('launchctl', ['bootstrap', `gui/${uid}`, files.unitPath], ran);
      if (!r.ok) throw makeError(DaemonErrors.SERVICE_COMMAND_FAILED, { command: `launchctl bootstrap gui/${uid}`, reason: r.out, path: files.unitPath });
      enabled = true;
    }
  } else {
    // Task Scheduler reads UTF-16 task files most reliably.
    writeFileSync(files.unitPath, `\ufeff${text.replace('encoding="UTF-8"', 'encoding="UTF-16"')}`, { encoding: 'utf16le' });
    if (opts.enable) {
      const r = run('schtasks', ['/Create', '/TN', 'ankibridge', '/XML', files.unitPath, '/F'], ran);
      if (!r.ok) throw makeError(DaemonErrors.SERVICE_COMMAND_FAILED, { command: 'schtasks /Create /TN ankibridge', reason: r.out, path: files.unitPath });
      enabled = true;
    }
  }
  if (!opts.enable) todo.push('The service was written but not enabled (--no-enable).');
  return { platform: files.platform, unitPath: files.unitPath, installed: true, enabled, active: null, todo, ran };
}

export function uninstallService(): ServiceReport {
  const files = serviceFiles();
  const ran: string[] = [];
  const todo: string[] = [];
  if (files.platform === 'linux') {
    if (systemdUserAvailable()) run('systemctl', ['--user', 'disable', '--now', 'ankibridge.service'], ran);
    else if (existsSync(files.unitPath)) todo.push('No user systemd is reachable from here; if the service runs, stop it with: systemctl --user disable --now ankibridge.service');
    rmSync(files.unitPath, { force: true });
    if (systemdUserAvailable()) run('systemctl', ['--user', 'daemon-reload'], ran);
    if (udevRuleInstalled()) todo.push(`The udev rule stays (removing it needs root): sudo rm ${SYSTEM_UDEV_RULE}`);
  } else if (files.platform === 'darwin') {
    run('launchctl', ['bootout', `gui/${process.getuid?.() ?? 0}`, files.unitPath], ran);
    rmSync(files.unitPath, { force: true });
  } else {
    run('schtasks', ['/Delete', '/TN', 'ankibridge', '/F'], ran);
    rmSync(files.unitPath, { force: true });
  }
  return { platform: files.platform, unitPath: files.unitPath, installed: false, enabled: false, active: null, todo, ran };
}

export function serviceStatus(): ServiceReport {
  const files = serviceFiles();
  const ran: string[] = [];
  const todo: string[] = [];
  const installed = existsSync(files.unitPath);
  let enabled: boolean | null = null;
  let active: boolean | null = null;
  if (files.platform === 'linux') {
    if (systemdUserAvailable()) {
      enabled = run('systemctl', ['--user', 'is-enabled', 'ankibridge.service'], ran).ok;
      active = run('systemctl', ['--user', 'is-active', 'ankibridge.service'], ran).ok;
    } else todo.push('No user systemd is reachable from here, so whether the service is enabled is unknown.');
    if (!udevRuleInstalled()) todo.push(`The udev rule is not installed in ${SYSTEM_UDEV_RULE} (see \`ankibridge service install\`).`);
  }
  if (!installed) todo.push('Not installed: run `ankibridge service install`.');
  return { platform: files.platform, unitPath: files.unitPath, installed, enabled, active, todo, ran };
}

export function udevRuleInstalled(): boolean {
  return existsSync(SYSTEM_UDEV_RULE) || existsSync(`/lib/udev/rules.d/${UDEV_RULE_NAME}`) || existsSync(`/usr/lib/udev/rules.d/${UDEV_RULE_NAME}`);
}
