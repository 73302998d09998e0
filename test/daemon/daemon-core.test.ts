// The daemon's parts on their own: config reload, migrations other rooms register, the job queue,
// the scheduler's skips/backoff/pause, SSE resume, single instance, and a clean stop.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { EventBus } from '../../src/daemon/events/bus.js';
import { JobHistory } from '../../src/daemon/jobs/history.js';
import { Orchestrator } from '../../src/daemon/jobs/orchestrator.js';
import { selftestHandler, noopHandler } from '../../src/daemon/jobs/builtin.js';
import type { Json, JobHandler } from '../../src/daemon/jobs/types.js';
import { MigrationRegistry } from '../../src/daemon/state/migrations.js';
import { DAEMON_MIGRATIONS } from '../../src/daemon/state/daemon-migrations.js';
import { StateStore } from '../../src/daemon/state/store.js';
import { PauseState } from '../../src/daemon/scheduler/pause.js';
import { Scheduler } from '../../src/daemon/scheduler/scheduler.js';
import { defaultConfig } from '../../src/daemon/config/validate.js';
import { backoffDelayMs } from '../../src/daemon/scheduler/backoff.js';
import { isolatedHome } from './support/isolated.js';

const silent = pino({ level: 'silent' });
let running: RunningDaemon | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  vi.useRealTimers();
});

function parts() {
  const home = isolatedHome();
  const { store } = StateStore.open(join(home.root, 'state.sqlite'), DAEMON_MIGRATIONS);
  const bus = new EventBus();
  const history = new JobHistory(store.db);
  const pause = new PauseState(store, bus);
  const orchestrator = new Orchestrator({ bus, history, log: silent, maxQueuePerCollection: () => 3, pausedReason: () => pause.reason() });
  orchestrator.register(selftestHandler as JobHandler<never, Json>);
  orchestrator.register(noopHandler as JobHandler<never, Json>);
  return { home, store, bus, history, pause, orchestrator };
}

describe('config', () => {
  it('reloads a valid change, and keeps the old config with a named error in the log for an invalid one', async () => {
    const home = isolatedHome({ api: { port: 0 }, cloud: { intervalMinutes: 30 } });
    home.apply();
    running = await startDaemon();
    const events: string[] = [];
    running.ctx.bus.subscribe((e) => events.push(e.type));
    writeFileSync(home.configFile, JSON.stringify({ api: { port: 0 }, cloud: { intervalMinutes: 20 } }));
    await vi.waitFor(() => expect(running?.ctx.config.get().cloud.intervalMinutes).toBe(20), { timeout: 10_000 });
    expect(events).toContain('config.changed');
    writeFileSync(home.configFile, '{"cloud": {"intervalMinutes": "often"}');
    await vi.waitFor(() => expect(running?.ctx.config.lastError?.code).toBe('ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID'), { timeout: 10_000 });
    expect(running.ctx.config.get().cloud.intervalMinutes).toBe(20);
    const log = readFileSync(running.paths.logFile, 'utf8');
    expect(log).toContain('ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID');
    expect(log).toContain('keeping the previous config');
  });

  it('refuses to start on an invalid config file with a named error', async () => {
    const home = isolatedHome({ api: { port: 'eighty' } });
    home.apply();
    await expect(startDaemon()).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_DAEMON_CONFIG_INVALID' });
    // And it left no lock behind: a good config starts.
    writeFileSync(home.configFile, '{"api":{"port":0}}');
    running = await startDaemon();
    expect(running.port).toBeGreaterThan(0);
  });
});

describe('state store migrations', () => {
  it('applies each room\'s numbered migrations once, in order, and refuses a duplicate number', () => {
    const home = isolatedHome();
    const file = join(home.root, 's.sqlite');
    const registry = new MigrationRegistry();
    registry.register(...DAEMON_MIGRATIONS);
    registry.register(
      { owner: 'sync-journal', version: 1, name: 'journal', up: (db) => db.exec('CREATE TABLE sync_journal_steps (id INTEGER PRIMARY KEY, step TEXT)') },
      { owner: 'sync-journal', version: 2, name: 'journal state', up: (db) => db.exec('ALTER TABLE sync_journal_steps ADD COLUMN state TEXT') },
    );
    expect(() => registry.register({ owner: 'sync-journal', version: 2, name: 'again', up: () => undefined })).toThrow(/sync-journal number 2/);
    const first = StateStore.open(file, registry.all());
    expect(first.applied.map((m) => `${m.owner}#${m.version}`)).toEqual(['daemon#1', 'sync-journal#1', 'sync-journal#2']);
    first.store.close();
    registry.register({ owner: 'backups', version: 1, name: 'index', up: (db) => db.exec('CREATE TABLE backups_index (id TEXT)') });
    const second = StateStore.open(file, registry.all());
    expect(second.applied.map((m) => `${m.owner}#${m.version}`)).toEqual(['backups#1']);
    second.store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').all('sync_journal_steps')).toEqual([{ name: 'id' }, { name: 'step' }, { name: 'state' }]);
    db.close();
  });

  it('rolls back a failing migration and says which file', () => {
    const home = isolatedHome();
    const file = join(home.root, 'f.sqlite');
    expect(() =>
      StateStore.open(file, [...DAEMON_MIGRATIONS, { owner: 'x', version: 1, name: 'bad', up: (db) => { db.exec('CREATE TABLE x_t (a)'); throw new Error('boom'); } }]),
    ).toThrow(/could not be opened or migrated: boom/);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'x_t'").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('orchestrator', () => {
  it('runs one job at a time per collection, others in parallel, in order, with progress events', async () => {
    const { orchestrator, bus } = parts();
    const seen: Array<{ type: string; id?: unknown }> = [];
    bus.subscribe((e) => seen.push({ type: e.type, id: (e.data['job'] as { id?: string } | undefined)?.id ?? e.data['id'] }));
    const a = orchestrator.start({ kind: 'selftest', params: { durationMs: 150, steps: 3 }, origin: 'api' });
    const b = orchestrator.start({ kind: 'selftest', params: { durationMs: 30, steps: 1 }, origin: 'api' });
    const c = orchestrator.start({ kind: 'selftest', params: { durationMs: 30, steps: 1, collection: 'phone-1' }, origin: 'api' });
    expect([a.state, b.state, c.state]).toEqual(['running', 'queued', 'running']);
    const [ra, rb, rc] = await Promise.all([orchestrator.waitFor(a.id), orchestrator.waitFor(b.id), orchestrator.waitFor(c.id)]);
    expect([ra.state, rb.state, rc.state]).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(Date.parse(rb.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(ra.finishedAt as string));
    expect(Date.parse(rc.startedAt as string)).toBeLessThan(Date.parse(ra.finishedAt as string));
    expect(seen.filter((e) => e.type === 'job.progress' && e.id === a.id).length).toBeGreaterThanOrEqual(1);
    expect(seen.filter((e) => e.id === b.id).map((e) => e.type)).toEqual(['job.queued', 'job.started', ...seen.filter((e) => e.id === b.id && e.type === 'job.progress').map(() => 'job.progress'), 'job.finished']);
  });

  it('cancels a queued job at once and a running one at its next safe point; a finished one cannot be cancelled', async () => {
    const { orchestrator } = parts();
    const a = orchestrator.start({ kind: 'selftest', params: { durationMs: 10_000, steps: 100 }, origin: 'api' });
    const b = orchestrator.start({ kind: 'noop', origin: 'api' });
    expect(orchestrator.cancel(b.id).state).toBe('cancelled');
    orchestrator.cancel(a.id);
    const done = await orchestrator.waitFor(a.id);
    expect(done.state).toBe('cancelled');
    expect(done.error?.code).toBe('ANKIBRIDGE_ERR_GENERAL_CANCELLED');
    expect(() => orchestrator.cancel(a.id)).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_JOB_ALREADY_FINISHED' }));
    expect(() => orchestrator.cancel('00000000-0000-4000-8000-000000000000')).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_JOB_NOT_FOUND' }));
  });

  it('records failures, refuses unknown kinds, bad params, a full queue, and automatic jobs while paused', async () => {
    const { orchestrator, history, pause } = parts();
    const f = orchestrator.start({ kind: 'selftest', params: { durationMs: 0, fail: true }, origin: 'api' });
    const done = await orchestrator.waitFor(f.id);
    expect(done.state).toBe('failed');
    expect(history.get(f.id)?.error?.code).toBe('ANKIBRIDGE_ERR_GENERAL_INTERNAL');
    expect(() => orchestrator.start({ kind: 'usb.push', origin: 'api' })).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_JOB_KIND_UNKNOWN' }));
    expect(() => orchestrator.start({ kind: 'selftest', params: { steps: 'many' }, origin: 'api' })).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_JOB_INPUT_INVALID' }));
    orchestrator.start({ kind: 'selftest', params: { durationMs: 5000 }, origin: 'api' });
    for (let i = 0; i < 3; i++) orchestrator.start({ kind: 'noop', origin: 'api' });
    expect(() => orchestrator.start({ kind: 'noop', origin: 'api' })).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_QUEUE_FULL' }));
    pause.pause(null);
    expect(() => orchestrator.start({ kind: 'noop', collection: 'other', origin: 'scheduler' })).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DAEMON_PAUSED' }));
    expect(orchestrator.start({ kind: 'noop', collection: 'other', origin: 'cli' }).kind).toBe('noop');
    const r = await orchestrator.shutdown(50, 1000);
    expect(r.unfinished).toBe(0);
  });
});

describe('scheduler', () => {
  function scheduler(p: ReturnType<typeof parts>, free: () => { free: true } | { free: false; reason: string }, config = defaultConfig()) {
    config.cloud.enabled = true;
    config.cloud.intervalMinutes = 1;
    let now = Date.parse('2026-11-25T10:00:00Z');
    const s = new Scheduler({
      config: () => config,
      orchestrator: p.orchestrator,
      bus: p.bus,
      store: p.store,
      pause: p.pause,
      collectionFree: { isCollectionFree: async () => free() },
      log: silent,
      now: () => now,
      startupDelayMs: 0,
    });
    return { s, config, advance: (ms: number) => (now += ms) };
  }

  it('skips with a stated reason: no handler, Anki has the collection open, paused', async () => {
    const p = parts();
    let open = true;
    const { s } = scheduler(p, () => (open ? { free: false, reason: 'Anki Desktop has the collection open' } : { free: true }));
    await s.tick();
    expect(s.status().lastSkip?.reason).toBe('no cloud sync handler is installed in this daemon');
    let runs = 0;
    p.orchestrator.register({ kind: 'cloud.sync', description: 't', paramsSchema: { type: 'object' }, run: async () => (runs++, { ok: true }) });
    await s.tick();
    expect(s.status().lastSkip?.reason).toBe('Anki Desktop has the collection open');
    p.pause.pause(10 * 60_000);
    await s.tick();
    expect(s.status().lastSkip?.reason).toMatch(/^automatic sync is paused until 20/);
    p.pause.resume();
    open = false;
    await s.tick();
    expect(runs).toBe(1);
    expect(s.status().lastResult).toBe('succeeded');
    s.stop();
    p.pause.dispose();
  });

  it('backs off after failures (doubling up to the cap) and clears it after a success', async () => {
    const p = parts();
    const { s, config } = scheduler(p, () => ({ free: true }));
    let fail = true;
    p.orchestrator.register({
      kind: 'cloud.sync',
      description: 't',
      paramsSchema: { type: 'object' },
      run: async () => {
        if (fail) throw new Error('server said no');
        return { ok: true };
      },
    });
    await s.tick();
    await s.tick();
    const st = s.status();
    expect(st.failures).toBe(2);
    expect(Date.parse(st.backoffUntil as string) - Date.parse('2026-11-25T10:00:00Z')).toBe(backoffDelayMs(2, config.backoff.initialSeconds, config.backoff.maxSeconds));
    expect(Date.parse(st.nextRunAt as string)).toBeGreaterThanOrEqual(Date.parse(st.backoffUntil as string));
    expect(backoffDelayMs(30, 60, 21600)).toBe(21600_000);
    fail = false;
    await s.tick();
    expect(s.status()).toMatchObject({ failures: 0, backoffUntil: null, lastResult: 'succeeded' });
    s.stop();
    p.pause.dispose();
  });

  it('never arms a timer sooner than 1 s, even with a standing skip reason (no busy loop)', async () => {
    vi.useFakeTimers();
    const p = parts();
    const { s } = scheduler(p, () => ({ free: false, reason: 'Anki Desktop has the collection open' }));
    const spy = vi.spyOn(globalThis, 'setTimeout');
    s.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const delays = spy.mock.calls.map((c) => Number(c[1] ?? 0));
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.length).toBeLessThan(30);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    s.stop();
    p.pause.dispose();
  });

  it('keeps a pause across a restart of the daemon, and a timed pause ends by itself', async () => {
    const home = isolatedHome();
    home.apply();
    running = await startDaemon();
    running.ctx.pause.pause(null);
    await running.stop();
    running = await startDaemon();
    expect(running.ctx.pause.get()?.until).toBeNull();
    running.ctx.pause.resume();
    running.ctx.pause.pause(1000);
    const resumed = new Promise((r) => running?.ctx.bus.subscribe((e) => e.type === 'resumed' && r(e.data['by'])));
    expect(await resumed).toBe('timer');
    expect(running.ctx.pause.get()).toBeNull();
  });
});

describe('process', () => {
  it('is a single instance: a second start fails with a clear error naming the first', async () => {
    isolatedHome().apply();
    running = await startDaemon();
    await expect(startDaemon()).rejects.toMatchObject({
      code: 'ANKIBRIDGE_ERR_DAEMON_ALREADY_RUNNING',
      message: `An ankibridge daemon is already running (process ${process.pid}, ${running.url}).`,
    });
  });

  it('streams events over SSE with ids, and a reconnect with Last-Event-ID gets exactly what it missed', async () => {
    isolatedHome().apply();
    running = await startDaemon();
    const token = readFileSync(running.paths.tokenFile, 'utf8').trim();
    const first = running.ctx.bus.emit('test.one', {});
    running.ctx.bus.emit('test.two', {});
    running.ctx.bus.emit('test.three', {});
    const ac = new AbortController();
    const res = await fetch(`${running.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': String(first.id) }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    while (!text.includes('test.three')) text += new TextDecoder().decode((await reader.read()).value);
    expect([...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1])).toEqual(['test.two', 'test.three']);
    expect(text).toContain(`id: ${first.id + 1}\n`);
    ac.abort();
    const stale = await fetch(`${running.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': '5' } });
    const r2 = stale.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let t2 = '';
    while (!t2.includes('\n\n', t2.indexOf('event:'))) t2 += new TextDecoder().decode((await r2.read()).value);
    expect(t2).toContain('event: resync');
    await r2.cancel();
  });

  it('stops cleanly: no timer, socket or watcher is left behind', async () => {
    isolatedHome().apply();
    const before = new Set(process.getActiveResourcesInfo());
    running = await startDaemon();
    await running.stop();
    running = undefined;
    await new Promise((r) => setTimeout(r, 200));
    const left = process.getActiveResourcesInfo().filter((r) => !before.has(r) && r !== 'Timeout');
    expect(left).toEqual([]);
  });
});
