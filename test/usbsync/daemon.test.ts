// USB sync inside the real daemon (in process, isolated folders): the plugin's migration and
// recovery run at start, a connected phone's decision shows on /api/v1/decisions, an answer that
// loses work is refused without confirmation, the safe answer runs as a usb.* job, and the CLI
// verbs push/pull reach the same jobs through the API (guard refusal = exit 73).
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { comparable } from '../merge/harness.js';
import { isolatedHome } from '../daemon/support/isolated.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import type { DaemonPlugin } from '../../src/daemon/plugins.js';
import { daemonPaths } from '../../src/daemon/paths.js';
import { main } from '../../src/cli/main.js';
import { usbSyncPlugin } from '../../src/sync/usb-sync/daemon-plugin.js';
import { openFolderTransport } from '../../src/usb/folder-transport.js';
import { copyCollection } from './support/scene.js';

const home = isolatedHome();
home.apply();
let d: RunningDaemon;
let peer: AnkiPeer;
let token: string;
let room: ReturnType<typeof usbSyncPlugin>;
const desktop = path.join(home.root, 'anki', 'User 1', 'collection.anki2');
const phoneRoot = path.join(home.root, 'phone');
const phone = path.join(phoneRoot, 'AnkiDroid', 'collection.anki2');

async function call(method: string, url: string, body?: unknown) {
  const res = await d.app.inject({
    method: method as 'GET',
    url,
    headers: { host: `127.0.0.1:${d.port}`, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: res.json() as Record<string, unknown> };
}

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  const seed = path.join(home.root, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 20, seed: 5, reviewsPerCard: 1 });
  copyCollection(seed, desktop);
  copyCollection(seed, phone);
  const paths = daemonPaths();
  room = usbSyncPlugin({ dataDir: paths.dataDir, stateDb: paths.stateDb });
  d = await startDaemon({ plugins: [room as unknown as DaemonPlugin] });
  token = readFileSync(d.paths.tokenFile, 'utf8').trim();
});
afterAll(async () => {
  await d?.stop();
  await peer?.close();
});

describe('USB sync in the daemon', () => {
  it('plug-in → decision on the API; refused without confirmation; the safe action runs as a job; CLI verbs through the API', async () => {
    const conn = {
      target: { profile: 'User 1', collectionPath: desktop, mediaDir: path.join(path.dirname(desktop), 'collection.media') },
      phone: { serial: 'SER1', manufacturer: 'Google', model: 'Pixel 7', label: 'Pixel 7' },
      transport: openFolderTransport(phoneRoot, 'Pixel 7'),
    };
    // the plugin's migration went through the daemon's registry
    const state = new Database(d.paths.stateDb, { readonly: true });
    expect(state.prepare("SELECT version FROM schema_migrations WHERE owner = 'usb-sync'").pluck().all()).toEqual([1]);
    state.close();
    expect((await room.connect('SER1', conn)).state).toBe('in-step');
    expect((await call('GET', '/api/v1/decisions')).json['decisions']).toEqual([]);
    await peer.modify(phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
    await room.refresh('SER1');
    const list = (await call('GET', '/api/v1/decisions')).json['decisions'] as Array<{ id: string; state: string; recommended: string }>;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'phone-ahead', recommended: 'copy-phone-to-desktop' });
    const id = list[0]!.id;
    // copying desktop → phone would lose the phone's 3 reviews
    const refused = await call('POST', `/api/v1/decisions/${encodeURIComponent(id)}/actions/copy-desktop-to-phone`, {});
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.json)).toContain('3 reviews made on the phone');
    // the CLI's push is refused by the guard too (exit 73)
    const out: string[] = [];
    const code = await main(['push', '--json'], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(code, out.join('\n')).toBe(73);
    expect(out.join('\n')).toContain('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
    const acted = await call('POST', `/api/v1/decisions/${encodeURIComponent(id)}/actions/copy-phone-to-desktop`, {});
    expect(acted.status).toBe(202);
    const jobId = (acted.json['job'] as { id: string }).id;
    await d.ctx.orchestrator.waitFor(jobId);
    const job = (await call('GET', `/api/v1/jobs/${jobId}`)).json['job'] as { state: string; kind: string };
    expect(job).toMatchObject({ state: 'succeeded', kind: 'usb.pull' });
    expect(comparable(await peer.dump(desktop, { ignoreSync: true }))).toEqual(comparable(await peer.dump(phone, { ignoreSync: true })));
    expect((await call('GET', '/api/v1/decisions')).json['decisions']).toEqual([]);
    room.disconnect('SER1');
    await conn.transport.close();
  });
});
