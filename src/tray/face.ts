/**
 * The face of a running daemon: the tray icon and menu, and desktop notifications. A view of the
 * daemon's state (refreshed from its events) and a source of commands, which go through the same
 * functions and orchestrator as the HTTP API. Without a display or a tray host the daemon runs on;
 * the reason is logged once.
 */
import type { Logger } from 'pino';
import { syncNow } from '../daemon/actions.js';
import type { ApiContext } from '../daemon/api/context.js';
import type { DaemonEvent } from '../daemon/events/bus.js';
import { isAnkibridgeError } from '../errors/index.js';
import { faceSnapshot, type FaceSnapshot } from './face-state.js';
import { trayIconBase64 } from './icons.js';
import { applySnapshot, createMenuModel, type MenuCommand, type TrayItem, type TrayMenuModel } from './menu.js';
import { Notifier } from './notifier.js';
import { NodeNotifierSender, NotifySendSender, type NotificationSender } from './notify-sender.js';
import { openTarget } from './open.js';
import { startTrayHost, trayUnavailableReason, type TrayHandle } from './tray-host.js';

export interface FaceDaemon {
  ctx: ApiContext;
  url: string;
  log: Logger;
  paths: { dataDir: string; logFile: string };
}

export interface Face {
  /** 'on' once the icon is up; 'off' with the reason otherwise. */
  readonly tray: { state: 'starting' | 'on' | 'off'; reason?: string };
  readonly notifier: Notifier | undefined;
  snapshot(): FaceSnapshot;
  /** Carries out a menu command (what a click does); exposed for tests and other front ends. */
  run(cmd: MenuCommand): Promise<void>;
  dashboardUrl(focus?: string): string;
  dispose(): Promise<void>;
}

export async function startFace(d: FaceDaemon, opts: { readyTimeoutMs?: number; notifySettleMs?: number } = {}): Promise<Face> {
  const { ctx, log } = d;
  const model: TrayMenuModel = createMenuModel();
  let lastError: { message: string } | undefined;
  let tray: TrayHandle | undefined;
  const trayState: Face['tray'] = { state: 'starting' };
  let disposed = false;
  let refreshTimer: NodeJS.Timeout | undefined;

  const config = () => ctx.config.get().face;
  const noDisplay = trayUnavailableReason();
  const canNotify = noDisplay === undefined || process.platform !== 'linux';

  let sender: NotificationSender | undefined;
  let notifier: Notifier | undefined;
  if (canNotify) {
    let warned = false;
    sender =
      process.platform === 'linux'
        ? new NotifySendSender({
            appName: 'ankibridge',
            waitMs: 10 * 60_000,
            log: (msg, extra) => {
              // Once: a missing notification server would otherwise fill the log.
              if (warned) return;
              warned = true;
              log.warn(extra ?? {}, `${msg}; notifications stay off until one works`);
            },
          })
        : new NodeNotifierSender('ankibridge');
    const s = sender;
    notifier = new Notifier({
      config: () => config().notify,
      show: (n) => s.show(n),
      onAnswer: ({ decision, key }) => {
        if (key === 'default') void run({ type: 'open-dashboard', focusDecision: decision.id });
        else void act(decision.id, key, false);
      },
      ...(opts.notifySettleMs === undefined ? {} : { settleMs: opts.notifySettleMs }),
    });
  }

  function dashboardUrl(focus?: string): string {
    const { code } = ctx.sessions.newLoginCode();
    return `${d.url}/dashboard/login?code=${code}${focus ? `&focus=${encodeURIComponent(focus)}` : ''}`;
  }

  async function act(decisionId: string, action: string, confirm: boolean): Promise<void> {
    try {
      ctx.decisions.act(decisionId, action, { confirm, origin: 'tray' });
    } catch (e) {
      report(e, 'the action could not be started');
    }
  }

  function report(e: unknown, what: string): void {
    const message = isAnkibridgeError(e) ? e.message : (e as Error).message;
    log.warn({ err: { code: isAnkibridgeError(e) ? e.code : undefined, message } }, what);
    lastError = { message };
    scheduleRefresh();
    if (notifier && config().notify.errors) void sender?.show({ title: 'ankibridge', body: message, urgency: 'critical', actions: [] });
  }

  async function run(cmd: MenuCommand): Promise<void> {
    try {
      switch (cmd.type) {
        case 'sync-now':
          await syncNow(ctx, 'tray');
          break;
        case 'decide': {
          const dec = ctx.decisions.list()[cmd.slot];
          if (dec) await act(dec.id, cmd.action, cmd.confirm);
          break;
        }
        case 'pause':
          ctx.pause.pause(cmd.minutes === null ? null : cmd.minutes * 60_000);
          break;
        case 'resume':
          ctx.pause.resume();
          break;
        case 'open-dashboard': {
          const focus = cmd.focusDecision ?? (cmd.slot === undefined ? undefined : ctx.decisions.list()[cmd.slot]?.id);
          await openTarget(dashboardUrl(focus));
          break;
        }
        case 'open-logs':
          await openTarget(d.paths.logFile);
          break;
        case 'quit':
          ctx.requestShutdown('Quit from the tray menu');
          break;
      }
    } catch (e) {
      report(e, `the tray command ${cmd.type} failed`);
    }
  }

  const snapshot = () => faceSnapshot(ctx, lastError);
  const menu = () => {
    const snap = snapshot();
    applySnapshot(model, snap);
    return { icon: trayIconBase64(snap.state), title: '', tooltip: snap.statusLine, items: model.root };
  };
  function scheduleRefresh(): void {
    if (disposed || !tray || refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      if (!disposed) tray?.update(menu());
    }, 50);
  }

  const onEvent = (e: DaemonEvent) => {
    if (e.type === 'job.finished') {
      const job = e.data['job'] as { state: string; error: { message: string } | null };
      if (job.state === 'failed') lastError = { message: job.error?.message ?? 'a job failed' };
      else if (job.state === 'succeeded') lastError = undefined;
    }
    notifier?.handle(e);
    if (e.type === 'daemon.stopping') void face.dispose();
    else scheduleRefresh();
  };
  const unsubscribe = ctx.bus.subscribe(onEvent);

  const face: Face = {
    tray: trayState,
    notifier,
    snapshot,
    run,
    dashboardUrl,
    async dispose() {
      if (disposed) return;
      disposed = true;
      unsubscribe();
      clearTimeout(refreshTimer);
      notifier?.dispose();
      sender?.dispose();
      await tray?.close();
      tray = undefined;
    },
  };

  const off = (reason: string) => {
    trayState.state = 'off';
    trayState.reason = reason;
    const notes = canNotify ? 'notifications still work where a notification server runs' : 'no notifications either';
    log.info({ reason }, `tray is off: ${reason}; the daemon runs on without it (${notes}; use the dashboard or the CLI)`);
  };
  if (!config().tray) {
    off('turned off in the config (face.tray)');
    return face;
  }
  const started = await startTrayHost({
    menu: menu(),
    dataDir: d.paths.dataDir,
    ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
    onClick: (item: TrayItem) => {
      if (item.command) void run(item.command);
    },
    onLost: (reason) => {
      if (disposed) return;
      tray = undefined;
      off(`the tray went away (${reason})`);
    },
  });
  if (disposed) {
    if (started.ok) await started.tray.close();
    return face;
  }
  if (started.ok) {
    tray = started.tray;
    trayState.state = 'on';
    log.info({ helperPid: started.tray.pid }, 'tray icon is up');
  } else {
    off(started.reason);
  }
  return face;
}
