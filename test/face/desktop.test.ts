// The tray and the notifications on a real (virtual) desktop: Xvfb, a private session bus,
// trayer as the tray host and dunst as the notification server, started and stopped here.
// The daemon is real (real socket, real orchestrator); the phone is the USB stand-in over
// collections made by real Anki (support/usb-fixture.ts). Screenshots in test-artifacts/face/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFace, type Face } from '../../src/tray/face.js';
import { STATE_COLOURS } from '../../src/tray/icons.js';
import { countColour, readIfExists, startDesktop, type DesktopEnv } from './support/desktop-env.js';
import { startFaceDaemon, type FaceDaemon } from './support/face-daemon.js';

const ART = 'test-artifacts/face';
let desk: DesktopEnv;
let fd: FaceDaemon;
let face: Face;
let opened: string;

async function until<T>(what: string, ms: number, f: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tray and notifications under Xvfb (trayer, dunst)', () => {
  beforeAll(async () => {
    mkdirSync(ART, { recursive: true });
    [desk, fd] = await Promise.all([startDesktop(), startFaceDaemon({ stepMs: 150 })]);
    Object.assign(process.env, desk.env);
    // What the face would open in a browser is recorded instead.
    opened = path.join(desk.dir, 'opened.txt');
    const opener = path.join(desk.dir, 'opener.sh');
    writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" >> "${opened}"\n`);
    chmodSync(opener, 0o755);
    process.env['ANKIBRIDGE_OPENER'] = opener;
    face = await startFace({ ctx: fd.daemon.ctx, url: fd.daemon.url, log: fd.daemon.log, paths: fd.daemon.paths }, { notifySettleMs: 300 });
  });

  afterAll(async () => {
    await face?.dispose();
    await fd?.stop();
    await desk?.stop();
  });

  it('shows the tray icon in the idle colour', async () => {
    expect(face.tray).toEqual({ state: 'on' });
    const c = await until('the tray icon', 10_000, () => desk.trayIconCentre());
    await new Promise((r) => setTimeout(r, 400));
    const shot = `${ART}/tray-idle.png`;
    desk.shot(shot);
    // The icon is 22-32 px; most of its disc is the idle green.
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS.idle)).toBeGreaterThan(120);
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS['needs-you'])).toBe(0);
  });

  it('opens its menu, and "Sync now" from it reaches the daemon (seen through the API)', async () => {
    const c = desk.trayIconCentre() as { x: number; y: number };
    desk.run('xdotool', ['mousemove', String(c.x), String(c.y), 'click', '1']);
    await new Promise((r) => setTimeout(r, 700));
    desk.shot(`${ART}/tray-menu.png`);
    // A GTK menu is an override-redirect window mapped at the pointer.
    expect(desk.run('xwininfo', ['-root', '-tree'])).toMatch(/"ankibridge|gtk|tray_linux_release/i);
    desk.run('xdotool', ['key', 'Down', 'Return']);
    const job = await until('a tray cloud sync in the API', 10_000, async () => {
      const r = await fd.api<{ jobs: Array<{ kind: string; origin: string; state: string }> }>('GET', '/api/v1/history');
      return r.body.jobs.find((j) => j.kind === 'cloud.sync' && j.origin === 'tray');
    });
    expect(job.kind).toBe('cloud.sync');
  });

  it('on plug-in: a notification with the question, the icon turns to "needs you", the click leads to the decision', async () => {
    fd.phone.plug();
    await until('dunst to show the notification', 10_000, () => Number(desk.run('dunstctl', ['count', 'displayed']).trim()) >= 1);
    await new Promise((r) => setTimeout(r, 400));
    const shot = `${ART}/notification.png`;
    desk.shot(shot);
    const c = desk.trayIconCentre() as { x: number; y: number };
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS['needs-you'])).toBeGreaterThan(120);
    // dunst draws the notification near the top right, below trayer: it is not blank there.
    const history = JSON.parse(desk.run('dunstctl', ['history'])) as unknown;
    expect(JSON.stringify(history)).not.toContain('Phone has 23 new reviews'); // still displayed, not in history yet
    desk.run('xdotool', ['mousemove', String(c.x), String(c.y), 'click', '1']);
    await new Promise((r) => setTimeout(r, 700));
    desk.shot(`${ART}/tray-menu-phone.png`);
    desk.run('xdotool', ['key', 'Escape']);
    // The click on the notification ('default' action) opens the dashboard at the decision.
    desk.run('dunstctl', ['action', '0']);
    const url = await until('the dashboard to be opened', 10_000, () => readIfExists(opened).trim().split('\n').pop());
    const decisions = await fd.api<{ decisions: Array<{ id: string; headline: string }> }>('GET', '/api/v1/decisions');
    const d = decisions.body.decisions[0] as { id: string; headline: string };
    expect(d.headline).toBe('Phone has 23 new reviews, desktop has 5');
    expect(url).toContain(`${fd.daemon.url}/dashboard/login?code=`);
    expect(url).toContain(`&focus=${encodeURIComponent(d.id)}`);
    // The link signs in once and lands on the dashboard focused on that decision.
    const res = await fetch(url as string, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/dashboard?focus=${encodeURIComponent(d.id)}`);
    expect(res.headers.get('set-cookie')).toMatch(/ankibridge_session=.*HttpOnly; SameSite=Strict/);
  });

  it('condenses plug/unplug flapping: the same question is not asked again', async () => {
    const before = face.notifier?.flapsCondensed ?? 0;
    // Unplugged and replugged within the settle time: no notification for the short contact.
    fd.phone.unplug();
    fd.phone.plug();
    fd.phone.unplug();
    fd.phone.plug();
    await until('the repeated question to be condensed', 10_000, () => (face.notifier?.flapsCondensed ?? 0) >= before + 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(Number(desk.run('dunstctl', ['count', 'displayed']).trim())).toBe(0);
  });

  it('an overwrite from the tray menu sits behind a confirm submenu that shows the guard; confirming runs it as a tray job', async () => {
    const c = desk.trayIconCentre() as { x: number; y: number };
    desk.run('xdotool', ['mousemove', String(c.x), String(c.y), 'click', '1']);
    await new Promise((r) => setTimeout(r, 600));
    // Insensitive items (status, phone header, summary) are skipped: Sync now, Sync both, Copy phone → desktop…, Copy desktop → phone…
    desk.run('xdotool', ['key', 'Down', 'Down', 'Down', 'Down', 'Right']);
    await new Promise((r) => setTimeout(r, 600));
    desk.shot(`${ART}/tray-confirm-submenu.png`);
    expect((await fd.api<{ jobs: unknown[] }>('GET', '/api/v1/jobs')).body.jobs.filter((j) => (j as { kind: string }).kind === 'usb.push')).toEqual([]);
    desk.run('xdotool', ['key', 'Down', 'Return']);
    const job = await until('the confirmed push from the tray', 10_000, async () => {
      const r = await fd.api<{ jobs: Array<{ kind: string; origin: string; state: string; params: { confirm?: boolean } }> }>('GET', '/api/v1/history');
      return r.body.jobs.find((j) => j.kind === 'usb.push' && j.state === 'succeeded');
    });
    expect(job).toMatchObject({ origin: 'tray', params: { confirm: true } });
    // The overwritten phone was backed up first (real backup store).
    const backups = await fd.api<{ backups: Array<{ reason: string; collection: string }> }>('GET', '/api/v1/backups');
    expect(backups.body.backups.some((b) => b.collection === 'phone')).toBe(true);
    fd.phone.reset();
  });

  it('the notification\'s "Sync both" button starts the merge through the orchestrator; the icon goes back to idle', async () => {
    // A fresh face (as after a daemon restart) asks again when the phone is plugged in.
    await face.dispose();
    face = await startFace({ ctx: fd.daemon.ctx, url: fd.daemon.url, log: fd.daemon.log, paths: fd.daemon.paths }, { notifySettleMs: 300 });
    expect(face.tray).toEqual({ state: 'on' });
    fd.phone.unplug();
    fd.phone.plug();
    await until('dunst to show the notification', 10_000, () => Number(desk.run('dunstctl', ['count', 'displayed']).trim()) >= 1);
    // dunst draws no buttons; its context menu (dmenu stand-in) picks the action, as a person would.
    writeFileSync(path.join(desk.dir, 'pick'), 'sync-both');
    desk.run('dunstctl', ['context']);
    const job = await until('the merge started from the notification', 15_000, async () => {
      const r = await fd.api<{ jobs: Array<{ kind: string; origin: string; state: string }> }>('GET', '/api/v1/history');
      return r.body.jobs.find((j) => j.kind === 'usb.merge' && j.origin === 'tray' && j.state === 'succeeded');
    });
    expect(job.state).toBe('succeeded');
    await until('the decision to go away', 10_000, async () => (await fd.api<{ decisions: unknown[] }>('GET', '/api/v1/decisions')).body.decisions.length === 0);
    await new Promise((r) => setTimeout(r, 500));
    const shot = `${ART}/tray-after-sync.png`;
    desk.shot(shot);
    const c = desk.trayIconCentre() as { x: number; y: number };
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS.idle)).toBeGreaterThan(120);
  });

  it('Pause ▸ 10 minutes from the menu pauses the daemon and greys the icon; Open dashboard opens a signed-in link', async () => {
    const c = desk.trayIconCentre() as { x: number; y: number };
    desk.run('xdotool', ['mousemove', String(c.x), String(c.y), 'click', '1']);
    await new Promise((r) => setTimeout(r, 600));
    desk.run('xdotool', ['key', 'Down', 'Down', 'Right']); // Sync now, Pause ▸ (phone items are hidden now)
    await new Promise((r) => setTimeout(r, 500));
    desk.shot(`${ART}/tray-pause-submenu.png`);
    desk.run('xdotool', ['key', 'Return']); // "For 10 minutes"
    const paused = await until('the pause in the API', 5000, async () => (await fd.api<{ paused: { until: string | null } | null }>('GET', '/api/v1/status')).body.paused);
    if (!paused?.until) throw new Error('the daemon reports no timed pause');
    const minutes = (Date.parse(paused.until) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(9);
    expect(minutes).toBeLessThanOrEqual(10);
    await new Promise((r) => setTimeout(r, 500));
    const shot = `${ART}/tray-paused.png`;
    desk.shot(shot);
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS.paused, 20)).toBeGreaterThan(120);
    const before = readIfExists(opened).trim().split('\n').length;
    desk.run('xdotool', ['mousemove', String(c.x), String(c.y), 'click', '1']);
    await new Promise((r) => setTimeout(r, 600));
    desk.run('xdotool', ['key', 'Down', 'Down', 'Down', 'Return']); // Sync now, Resume (Pause is hidden while paused), Open dashboard
    const url = await until('the dashboard link', 5000, () => {
      const lines = readIfExists(opened).trim().split('\n');
      return lines.length > before && lines[lines.length - 1];
    });
    expect(url).toMatch(new RegExp(`^${fd.daemon.url}/dashboard/login\\?code=[A-Za-z0-9_-]+$`));
  });

  it('a failed job turns the icon red and shows an error notification', async () => {
    desk.run('dunstctl', ['close-all']);
    const r = await fd.api<{ job: { id: string } }>('POST', '/api/v1/jobs', { kind: 'selftest', params: { durationMs: 0, steps: 1, fail: true } });
    expect(r.status).toBe(202);
    await until('the error notification', 10_000, () => Number(desk.run('dunstctl', ['count', 'displayed']).trim()) >= 1);
    await new Promise((res) => setTimeout(res, 400));
    const shot = `${ART}/tray-error.png`;
    desk.shot(shot);
    const c = desk.trayIconCentre() as { x: number; y: number };
    expect(countColour(shot, c.x, c.y, 12, STATE_COLOURS.error)).toBeGreaterThan(120);
    desk.run('dunstctl', ['close-all']);
    const hist = desk.run('dunstctl', ['history']);
    expect(hist).toContain('ankibridge: Self-test failed');
    expect(hist).toContain('the self-test was asked to fail');
  });

  it('leaves no tray helper or notify-send behind when the face is disposed', async () => {
    const children = () => spawnSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout.split('\n').filter((c) => /tray_linux|notify-send/.test(c));
    expect(children().length).toBeGreaterThan(0); // the tray helper while the face is up
    await face.dispose();
    await until('the tray helper to exit', 5000, () => children().length === 0);
    expect(children()).toEqual([]);
  });
});
