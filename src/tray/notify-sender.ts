/**
 * Shows a desktop notification and reports which action the person chose.
 *
 * Linux: `notify-send -A key=Label …` (libnotify ≥ 0.7.9) waits and prints the chosen key; the
 * notification server is asked first whether it does actions at all (GetCapabilities). Without
 * actions the notification is plain and the tray menu is the way in. node-notifier is not used on
 * Linux: it drops actions and reports no click (lab/desktop.md). macOS and Windows: node-notifier,
 * where a click on the notification counts as the 'default' action.
 */
import { execFile, type ChildProcess } from 'node:child_process';

export interface NotificationRequest {
  title: string;
  body: string;
  urgency: 'low' | 'normal' | 'critical';
  /** `default` is the click on the notification itself. */
  actions: Array<{ key: string; label: string }>;
}

export interface NotificationSender {
  /** Resolves with the chosen action key, or null (dismissed, expired, or no actions possible). */
  show(n: NotificationRequest): Promise<string | null>;
  dispose(): void;
}

function run(cmd: string, args: string[], children: Set<ChildProcess>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      children.delete(child);
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
    children.add(child);
  });
}

export class NotifySendSender implements NotificationSender {
  private readonly children = new Set<ChildProcess>();
  private caps: Promise<string[]> | undefined;
  private disposed = false;

  constructor(private readonly opts: { appName: string; waitMs: number; log: (msg: string, extra?: object) => void }) {}

  /** The server's capabilities ('actions', 'body', …); [] when there is no server. */
  capabilities(): Promise<string[]> {
    this.caps ??= run(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.Notifications', '/org/freedesktop/Notifications', 'org.freedesktop.Notifications.GetCapabilities'],
      this.children,
      3000,
    ).then((r) => (r.code === 0 ? [...r.stdout.matchAll(/string "([^"]*)"/g)].map((m) => m[1] as string) : []));
    return this.caps;
  }

  async show(n: NotificationRequest): Promise<string | null> {
    if (this.disposed) return null;
    const caps = await this.capabilities();
    const withActions = caps.includes('actions') && n.actions.length > 0;
    const args = ['-a', this.opts.appName, '-u', n.urgency];
    if (withActions) for (const a of n.actions) args.push('-A', `${a.key}=${a.label}`);
    // '--' so a title starting with '-' is not read as an option; execFile passes no shell.
    args.push('--', n.title, n.body);
    const r = await run('notify-send', args, this.children, withActions ? this.opts.waitMs : 10_000);
    if (r.code !== 0) {
      if (!this.disposed) this.opts.log('a desktop notification could not be shown', { reason: r.stderr.trim().slice(0, 300) });
      return null;
    }
    const key = r.stdout.trim().split('\n').pop() ?? '';
    return withActions && key !== '' ? key : null;
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.children) c.kill();
    this.children.clear();
  }
}

/** macOS and Windows. Not exercised by the test suite (which runs on Linux). */
export class NodeNotifierSender implements NotificationSender {
  constructor(private readonly appName: string) {}

  async show(n: NotificationRequest): Promise<string | null> {
    const { default: notifier } = await import('node-notifier');
    return new Promise((resolve) => {
      notifier.notify({ title: n.title, message: n.body, wait: n.actions.length > 0, appID: this.appName } as never, (_err: unknown, response: unknown) => {
        resolve(typeof response === 'string' && /click|activate/i.test(response) ? 'default' : null);
      });
    });
  }

  dispose(): void {}
}
