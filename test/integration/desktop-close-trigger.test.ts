// The third cloud-sync trigger in a real `ankibridge daemon` process: after Anki Desktop closes a
// changed collection, one cloud.sync (origin desktop-closed) runs — debounced, not while paused,
// not when cloud sync is off, not for an unchanged collection. "Anki Desktop" is the real Anki
// peer holding the collection open as Desktop does (exclusive lock, WAL) and studying in it; the
// server is Anki's own, and another real Anki client checks what reached it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type SyncServer } from '../peer/peer.js';
import { makeAnkiBase } from '../desktop/support/anki-base.js';
import { spawnDaemon, type SpawnedDaemon } from '../daemon/support/spawn-daemon.js';
import { FileStore, normalizeEndpoint } from '../../src/sync/cloud/index.js';
import { daemonApi, tapEvents, type Api, type JobView } from './support/daemon-api.js';

let peer: AnkiPeer;
let server: SyncServer;
let root: string;
let env: Record<string, string>;
let collectionPath: string;
let daemon: SpawnedDaemon | undefined;
let api: Api;
let hkey: string;
let client: string;
let seed = 100;

/** The trigger waits 5 s after the close, the watch may take a few more: a generous window. */
const WINDOW_MS = 15_000;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ab-close-trigger-'));
  env = {
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_STATE_HOME: path.join(root, 'state'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    ANKI_BASE: path.join(root, 'Anki2'),
  };
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer()]);
  const [desk] = await makeAnkiBase(peer, env['ANKI_BASE']!, [{ name: 'User 1', notes: 20, seed: 5, reviewsPerCard: 1 }], 'User 1');
  collectionPath = desk!.collectionPath;
  mkdirSync(path.join(env['XDG_CONFIG_HOME']!, 'ankibridge'), { recursive: true });
  // cloud sync on, but the schedule far away (1 January): only the close trigger runs syncs here
  writeFileSync(
    path.join(env['XDG_CONFIG_HOME']!, 'ankibridge', 'config.json'),
    JSON.stringify({ api: { port: 0 }, cloud: { enabled: true, endpoint: server.endpoint, cron: '0 0 1 1 *' }, face: { tray: false } }),
  );
  hkey = (await peer.syncLogin({ endpoint: server.endpoint, user: 'user', password: 'pass' })).hkey;
  await new FileStore(path.join(env['XDG_CONFIG_HOME']!, 'ankibridge', 'sync-keys.json')).set({ endpoint: normalizeEndpoint(server.endpoint), user: 'user', hkey });
  daemon = await spawnDaemon(env, []);
  api = daemonApi(daemon.url, env['XDG_CONFIG_HOME']!);
  const up = await api.runJob('cloud.sync', { fullSync: 'upload', confirm: true });
  expect(up.state, JSON.stringify(up.error)).toBe('succeeded');
  client = path.join(root, 'client', 'collection.anki2');
  mkdirSync(path.dirname(client), { recursive: true });
  await peer.fullSync({ path: client, endpoint: server.endpoint, hkey, direction: 'download' });
}, 180_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop(), daemon.output()).toBe(0);
  await server?.stop();
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Anki Desktop opens the collection, adds `notes` notes (0: just looks), and closes it. */
async function ankiSession(notes: number, opts: { reopenAfterMs?: number } = {}): Promise<void> {
  await peer.hold(collectionPath);
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // a session lasts a while: the watch sees it open
    if (notes) await peer.modify(collectionPath, [{ op: 'advanceClock', seconds: 1 }, { op: 'addNotes', count: notes }], { seed: seed++ });
  } finally {
    await peer.release(collectionPath);
  }
  if (opts.reopenAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, opts.reopenAfterMs));
    await peer.hold(collectionPath);
    await new Promise((r) => setTimeout(r, 1_000));
    await peer.release(collectionPath);
  }
}

async function closeTriggerJobs(): Promise<JobView[]> {
  const { body } = await api.request<{ jobs: JobView[] }>('GET', '/api/v1/history');
  return body.jobs.filter((j) => j.kind === 'cloud.sync' && j.origin === 'desktop-closed');
}

/** Runs `fn`, then collects the trigger's events for the window. */
async function triggerEvents(fn: () => Promise<void>): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const tap = await tapEvents(daemon!.url, env['XDG_CONFIG_HOME']!);
  await fn();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  return (await tap.stop()).filter((e) => e.type.startsWith('cloud.trigger'));
}

describe('cloud sync after Anki Desktop closes the collection', () => {
  it('a changed collection: one cloud.sync carries what Anki Desktop did to the server', async () => {
    const before = (await closeTriggerJobs()).length;
    const events = await triggerEvents(() => ankiSession(6));
    expect(events.map((e) => e.type)).toEqual(['cloud.trigger']);
    const jobs = await closeTriggerJobs();
    expect(jobs).toHaveLength(before + 1);
    const job = await api.waitJob(events[0]!.data['jobId'] as string);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result).toMatchObject({ kind: 'normal', stats: { sentNotes: 6 } });
    // another Anki client gets exactly what Anki Desktop did
    expect((await peer.sync({ path: client, endpoint: server.endpoint, hkey })).did).toBe('normal');
    const { config: _c1, ...desktop } = await peer.dump(collectionPath, { ignoreSync: true });
    const { config: _c2, ...pulled } = await peer.dump(client, { ignoreSync: true });
    expect(pulled).toEqual(desktop);
  });

  it('debounced: closed and reopened within the wait gives one sync after the last close; an unchanged collection none', async () => {
    const before = (await closeTriggerJobs()).length;
    const events = await triggerEvents(() => ankiSession(3, { reopenAfterMs: 1_000 }));
    expect(events.map((e) => e.type), JSON.stringify(events)).toEqual(['cloud.trigger']);
    expect(await closeTriggerJobs()).toHaveLength(before + 1);
    expect((await api.waitJob(events[0]!.data['jobId'] as string)).state).toBe('succeeded');

    const unchanged = await triggerEvents(() => ankiSession(0));
    expect(unchanged, JSON.stringify(unchanged)).toHaveLength(1);
    expect(unchanged[0]).toMatchObject({ type: 'cloud.trigger.skipped', data: { trigger: 'desktop-closed', reason: 'the collection has not changed since its last sync' } });
    expect(await closeTriggerJobs()).toHaveLength(before + 1);
  });

  it('not while paused; not when cloud sync is turned off', async () => {
    const before = (await closeTriggerJobs()).length;
    expect((await api.request('POST', '/api/v1/pause', {})).status).toBe(200);
    const paused = await triggerEvents(() => ankiSession(2));
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ type: 'cloud.trigger.skipped', data: { reason: expect.stringMatching(/^automatic sync is paused/) } });
    expect((await api.request('POST', '/api/v1/resume', {})).status).toBe(200);

    const off = await api.request('PATCH', '/api/v1/config', { cloud: { enabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    // the watch is gone: not even a skip
    expect(await triggerEvents(() => ankiSession(2))).toEqual([]);
    expect(await closeTriggerJobs()).toHaveLength(before);

    // turned on again, the next closing of the (still changed) collection syncs it
    expect((await api.request('PATCH', '/api/v1/config', { cloud: { enabled: true } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_000)); // the new watch's first scan of the folder
    const on = await triggerEvents(() => ankiSession(1));
    expect(on.map((e) => e.type)).toEqual(['cloud.trigger']);
    const job = await api.waitJob(on[0]!.data['jobId'] as string);
    expect(job.result).toMatchObject({ kind: 'normal', stats: { sentNotes: 5 } }); // 2 paused + 2 off + 1
  });
});
