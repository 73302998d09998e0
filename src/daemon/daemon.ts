import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { makeError } from '../errors/index.js';
import { DaemonErrors } from '../errors/codes/daemon.js';
import type { FastifyInstance } from 'fastify';
import { buildApiApp } from './api/app.js';
import type { RouteSpec } from './api/route-table.js';
import type { ApiContext } from './api/context.js';
import { listenLoopback, type Listening } from './api/listen.js';
import { DashboardSessions } from './api/sessions.js';
import { DecisionBoard } from './decisions/board.js';
import { ensureTokens } from './api/tokens.js';
import { ConfigStore, readConfigFile } from './config/store.js';
import { EventBus } from './events/bus.js';
import { noopHandler, selftestHandler } from './jobs/builtin.js';
import { JobHistory } from './jobs/history.js';
import { Orchestrator } from './jobs/orchestrator.js';
import type { Json, JobHandler } from './jobs/types.js';
import { acquireInstanceLock, type InstanceLock } from './lock.js';
import { createDaemonLogger, type DaemonLogger } from './logging.js';
import { daemonPaths, type DaemonPaths } from './paths.js';
import type { DaemonPlugin } from './plugins.js';
import type { DaemonProviders } from './providers.js';
import { readRuntimeFile, removeRuntimeFile, writeRuntimeFile } from './runtime-file.js';
import { PauseState } from './scheduler/pause.js';
import { Scheduler } from './scheduler/scheduler.js';
import { DesktopCloseTrigger } from './scheduler/desktop-close.js';
import { DAEMON_MIGRATIONS } from './state/daemon-migrations.js';
import { MigrationRegistry } from './state/migrations.js';
import { StateStore } from './state/store.js';
import { VERSION } from './version.js';

export interface StartDaemonOptions {
  plugins?: DaemonPlugin[];
  /** Log to the terminal as well as the file (pretty on a TTY). */
  console?: boolean;
  /** Overrides config api.port (the CLI's --port). */
  port?: number;
  /** Stop on SIGINT/SIGTERM and reload config on SIGHUP (the real process; not in-process tests). */
  handleSignals?: boolean;
  /** How long running jobs may take to finish on shutdown before they are told to stop. */
  shutdownGraceMs?: number;
  schedulerStartupDelayMs?: number;
}

export interface RunningDaemon {
  paths: DaemonPaths;
  port: number;
  url: string;
  ctx: ApiContext;
  log: Logger;
  /** The API app, for `inject` in tests (the same app the sockets serve). */
  app: FastifyInstance;
  routes: RouteSpec[];
  /** Resolves when the daemon has fully stopped. */
  stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
}

/**
 * Starts the daemon: lock, config, state, jobs, scheduler, API, runtime file. Throws a catalogued
 * error (and leaves nothing behind) if any of it fails.
 */
export async function startDaemon(opts: StartDaemonOptions = {}): Promise<RunningDaemon> {
  const paths = daemonPaths();
  for (const dir of [paths.configDir, paths.dataDir, paths.runtimeDir, paths.logDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });

  const got = acquireInstanceLock(paths.lockFile);
  if (!got.ok) {
    const info = readRuntimeFile(paths.runtimeFile);
    throw makeError(DaemonErrors.ALREADY_RUNNING, { pid: got.holderPid, url: info?.url ?? 'address not yet published' });
  }
  const cleanups: Array<() => void | Promise<void>> = [() => got.lock.release()];
  const undo = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    return await boot(paths, got.lock, opts, cleanups);
  } catch (e) {
    await undo();
    throw e;
  }
}

async function boot(paths: DaemonPaths, lock: InstanceLock, opts: StartDaemonOptions, cleanups: Array<() => void | Promise<void>>): Promise<RunningDaemon> {
  const initial = readConfigFile(paths.configFile).config;
  const dlog: DaemonLogger = await createDaemonLogger({
    file: paths.logFile,
    level: initial.log.level,
    maxFileBytes: initial.log.maxFileBytes,
    maxFiles: initial.log.maxFiles,
    console: opts.console ?? false,
  });
  cleanups.push(() => dlog.close());
  const log = dlog.logger;
  const startedAt = Date.now();

  const config = new ConfigStore(paths.configFile, log);
  cleanups.push(() => config.close());

  const plugins = opts.plugins ?? [];
  const registry = new MigrationRegistry();
  registry.register(...DAEMON_MIGRATIONS);
  for (const p of plugins) registry.register(...(p.migrations ?? []));
  const { store, applied } = StateStore.open(paths.stateDb, registry.all());
  cleanups.push(() => store.close());
  for (const m of applied) log.info({ owner: m.owner, version: m.version, name: m.name }, 'state migration applied');

  const history = new JobHistory(store.db);
  const interrupted = history.markInterrupted();
  if (interrupted > 0) log.warn({ interrupted }, 'jobs left unfinished by the previous run are marked failed');

  const bus = new EventBus();
  const pause = new PauseState(store, bus);
  cleanups.push(() => pause.dispose());
  const orchestrator = new Orchestrator({
    bus,
    history,
    log,
    maxQueuePerCollection: () => config.get().jobs.maxQueuePerCollection,
    pausedReason: () => pause.reason(),
  });
  const handlers: Array<JobHandler<never, Json>> = [noopHandler as JobHandler<never, Json>, selftestHandler as JobHandler<never, Json>];
  for (const p of plugins) handlers.push(...(p.jobHandlers ?? []));
  // A later plugin's handler replaces an earlier one of the same kind, as providers do.
  for (const h of new Map(handlers.map((h) => [h.kind, h])).values()) orchestrator.register(h);
  const providers: DaemonProviders = Object.assign({}, ...plugins.map((p) => p.providers ?? {}));
  // After migrations, before the scheduler or the API: e.g. journal recovery (invariant 6).
  for (const p of plugins) {
    if (p.stop) cleanups.push(() => p.stop?.());
    await p.start?.({ log, history, bus, config: () => config.get() });
  }

  const scheduler = new Scheduler({
    config: () => config.get(),
    orchestrator,
    bus,
    store,
    pause,
    collectionFree: providers.collectionFree,
    log,
    ...(opts.schedulerStartupDelayMs === undefined ? {} : { startupDelayMs: opts.schedulerStartupDelayMs }),
  });
  cleanups.push(() => scheduler.stop());
  pause.onChange(() => scheduler.reschedule());
  // cloud sync after Anki Desktop closes a changed collection
  const closeTrigger = new DesktopCloseTrigger({ config: () => config.get(), orchestrator, bus, pause, log });
  cleanups.push(() => closeTrigger.stop());

  const decisions = new DecisionBoard({ bus, orchestrator, source: providers.decisions });
  cleanups.push(() => decisions.dispose());

  const tokens = ensureTokens(paths.tokenFile, paths.readTokenFile);
  let listening: Listening | undefined = undefined;
  let stopPromise: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const ctx: ApiContext = {
    version: VERSION,
    startedAt,
    tokens,
    tokenFile: paths.tokenFile,
    config,
    orchestrator,
    scheduler,
    pause,
    bus,
    history,
    providers,
    sessions: new DashboardSessions(),
    decisions,
    log,
    port: () => listening?.port,
    addresses: () => listening?.addresses ?? [],
    requestShutdown: (reason) => void stop(reason),
  };

  const api = await buildApiApp(ctx);
  cleanups.push(() => api.app.close());
  listening = await listenLoopback(api, opts.port ?? initial.api.port, (msg) => log.warn(msg));
  const l = listening;
  cleanups.push(() => l.close());
  const url = `http://127.0.0.1:${listening.port}`;
  writeRuntimeFile(paths.runtimeFile, {
    pid: process.pid,
    version: VERSION,
    startedAt: new Date(startedAt).toISOString(),
    port: listening.port,
    url,
    addresses: listening.addresses,
    tokenFile: paths.tokenFile,
    readTokenFile: paths.readTokenFile,
    logFile: paths.logFile,
    configFile: paths.configFile,
  });
  cleanups.push(() => removeRuntimeFile(paths.runtimeFile, process.pid));

  config.onChange((next, previous) => {
    log.level = next.log.level;
    dlog.file.setLimits(next.log.maxFileBytes, next.log.maxFiles);
    if (next.api.port !== previous.api.port) log.warn({ port: next.api.port }, 'the new API port takes effect after a restart');
    scheduler.reschedule();
    closeTrigger.update();
    bus.emit('config.changed', {});
  });
  await config.watch();
  scheduler.start();
  closeTrigger.start();

  const onSignal = (sig: NodeJS.Signals) => void stop(`signal ${sig}`);
  const onHup = () => config.reload();
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('SIGHUP', onHup);
  }
  log.info({ url, addresses: listening.addresses, version: VERSION, configFile: paths.configFile }, 'daemon started');
  bus.emit('daemon.started', { version: VERSION });

  async function stop(reason = 'requested'): Promise<void> {
    stopPromise ??= (async () => {
      log.info({ reason }, 'daemon stopping');
      bus.emit('daemon.stopping', { reason });
      if (opts.handleSignals) process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('SIGHUP', onHup);
      scheduler.stop();
      await closeTrigger.stop();
      const { unfinished } = await orchestrator.shutdown(opts.shutdownGraceMs ?? 10_000, 5_000);
      if (unfinished > 0) log.warn({ unfinished }, 'some jobs did not stop in time; the journal finishes or rolls them back on the next start');
      await l.close();
      for (const p of plugins) await p.stop?.();
      await config.close();
      pause.dispose();
      decisions.dispose();
      store.close();
      removeRuntimeFile(paths.runtimeFile, process.pid);
      lock.release();
      log.info('daemon stopped');
      dlog.close();
      resolveStopped();
    })();
    return stopPromise;
  }

  return { paths, port: listening.port, url, ctx, log, app: api.app, routes: api.routes, stopped, stop };
}
