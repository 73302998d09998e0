// The rooms plugged into the real daemon (src/daemon/wiring/): a real `ankibridge daemon` process
// in isolated XDG folders, a desktop profile made by real Anki, and Anki's own sync server.
//  - recovery at start: a desktop replace killed mid-journal is finished or rolled back by the
//    next daemon start, and the log and the history say which;
//  - backups listed through the API, a `backup` job, a `restore` job that restores exactly;
//  - `cloud.sync`: full sync required is reported (nothing moved), a confirmed upload, a real Anki
//    client downloads an equal collection; "Sync now" (`ankibridge sync`) runs a normal sync.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, REPO_ROOT, startSyncServer, type CanonicalDump, type SyncServer } from '../peer/peer.js';
import { makeAnkiBase } from '../desktop/support/anki-base.js';
import { CLI_ENTRY, runCli, spawnDaemon, type SpawnedDaemon } from '../daemon/support/spawn-daemon.js';
import { FileStore, normalizeEndpoint } from '../../src/sync/cloud/index.js';
import { daemonApi, tapEvents, type Api } from './support/daemon-api.js';

let peer: AnkiPeer;
let server: SyncServer;
let root: string;
let env: Record<string, string>;
let collectionPath: string;
let mediaDir: string;
let packagePath: string;
let daemon: SpawnedDaemon | undefined;
let api: Api;

const logFile = () => path.join(env['XDG_STATE_HOME']!, 'ankibridge', 'daemon.log');
const fullDump = () => peer.dump(collectionPath, { mediaDir });

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ab-integration-'));
  env = {
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_STATE_HOME: path.join(root, 'state'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    ANKI_BASE: path.join(root, 'Anki2'),
  };
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer()]);
  const [desk] = await makeAnkiBase(peer, env['ANKI_BASE']!, [{ name: 'User 1', notes: 30, seed: 21, media: 3, reviewsPerCard: 2 }], 'User 1');
  collectionPath = desk!.collectionPath;
  mediaDir = desk!.mediaDir;
  // a package that differs from the desktop: a copy that moved on, exported by Anki
  const phone = path.join(root, 'phone', 'collection.anki2');
  mkdirSync(path.dirname(phone), { recursive: true });
  cpSync(collectionPath, phone);
  await peer.modify(phone, [{ op: 'advanceClock', seconds: 1 }, { op: 'addNotes', count: 4 }, { op: 'review', count: 5, ease: 3 }], { seed: 2 });
  packagePath = path.join(root, 'phone.colpkg');
  await peer.exportPackage({ path: phone, out: packagePath, kind: 'colpkg' });
  // the daemon's config: any free port, the sync server as endpoint, no tray in a test
  mkdirSync(path.join(env['XDG_CONFIG_HOME']!, 'ankibridge'), { recursive: true });
  writeFileSync(
    path.join(env['XDG_CONFIG_HOME']!, 'ankibridge', 'config.json'),
    JSON.stringify({ api: { port: 0 }, cloud: { endpoint: server.endpoint }, face: { tray: false } }),
  );
}, 120_000);

afterAll(async () => {
  if (daemon) expect(await daemon.stop(), daemon.output()).toBe(0);
  await server?.stop();
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function killedImport(killAt: number): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'import', packagePath, '--force', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE: String(killAt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, out }));
  });
}

describe('the wired daemon with real Anki', () => {
  it('finishes or rolls back an interrupted desktop replace at start, and says which in the log and history', async () => {
    const old = await fullDump();
    const { media: _none, ...phoneContent } = await peer.dump(path.join(root, 'phone', 'collection.anki2'), { ignoreSync: true });
    // killed right after its 3rd journal write (lock taken, nothing replaced): rolled back;
    // after its 11th ("install done", the new file in place): finished.
    const rounds: Array<{ killAt: number; expect: 'rolled-back' | 'finished' }> = [
      { killAt: 3, expect: 'rolled-back' },
      { killAt: 11, expect: 'finished' },
    ];
    for (const [i, round] of rounds.entries()) {
      const run = await killedImport(round.killAt);
      expect(run.signal, run.out).toBe('SIGKILL');

      daemon = await spawnDaemon(env, []);
      api = daemonApi(daemon.url, env['XDG_CONFIG_HOME']!);
      const { body } = await api.request<{ jobs: Array<{ kind: string; state: string; origin: string; result: { outcome: string; note: string; txnKind: string } }> }>('GET', '/api/v1/history');
      const recovery = body.jobs.filter((j) => j.kind === 'recovery');
      expect(recovery, JSON.stringify(body.jobs)).toHaveLength(i + 1);
      const r = recovery[0]!; // newest first
      expect(r).toMatchObject({ state: 'succeeded', origin: 'internal', result: { outcome: round.expect } });
      const log = readFileSync(logFile(), 'utf8');
      const said = log.lastIndexOf(`was ${round.expect.replace('-', ' ')}`);
      expect(said, log).toBeGreaterThan(-1);
      // said before the daemon said it started: recovery precedes every job and request
      expect(said).toBeLessThan(log.lastIndexOf('daemon started'));
      // the collection is exactly the old one, or the package's content
      if (round.expect === 'rolled-back') expect(await fullDump()).toEqual(old);
      else {
        // the package carries no media and a replace never deletes media: compare the collection
        const { media: _kept, ...content } = await peer.dump(collectionPath, { ignoreSync: true });
        expect(content).toEqual(phoneContent);
      }
      const check = await peer.check(collectionPath);
      expect(check.ok, check.problems.join('; ')).toBe(true);
      expect(await daemon.stop(), daemon.output()).toBe(0);
      // the plugins' database connections are closed with the daemon: nothing holds the process
      expect(daemon.output()).not.toContain('handles still open');
      daemon = undefined;
    }
    // a further start has nothing left to recover
    daemon = await spawnDaemon(env, []);
    api = daemonApi(daemon.url, env['XDG_CONFIG_HOME']!);
    const again = await api.request<{ jobs: Array<{ kind: string }> }>('GET', '/api/v1/history');
    expect(again.body.jobs.filter((j) => j.kind === 'recovery')).toHaveLength(rounds.length);
  });

  it('backs up, lists backups through the API, and a restore job restores exactly', async () => {
    const kinds = await api.request<{ kinds: Array<{ kind: string }> }>('GET', '/api/v1/jobs');
    expect(kinds.body.kinds.map((k) => k.kind).sort()).toEqual(expect.arrayContaining(['backup', 'cloud.sync', 'restore']));
    const saved: CanonicalDump = await fullDump();
    const b = await api.runJob('backup');
    expect(b.state, JSON.stringify(b.error)).toBe('succeeded');
    const backupId = b.result!['backupId'] as string;
    const listed = await api.request<{ backups: Array<{ id: string; collection: string; reason: string; sizeBytes: number }> }>('GET', '/api/v1/backups');
    expect(listed.status).toBe(200);
    expect(listed.body.backups).toContainEqual(expect.objectContaining({ id: backupId, collection: 'desktop', reason: 'manual' }));

    // the user goes on studying, then restores the backup
    await peer.modify(
      collectionPath,
      [{ op: 'advanceClock', seconds: 1 }, { op: 'addNotes', count: 3 }, { op: 'review', count: 4, ease: 3 }, { op: 'addMedia', name: 'later.png', base64: Buffer.from('later').toString('base64') }],
      { seed: 9 },
    );
    expect(isDeepStrictEqual(await fullDump(), saved)).toBe(false);
    const missing = await api.request('POST', '/api/v1/backups/no-such-backup/restore', { confirm: true });
    expect(missing.status).toBe(404);
    const q = await api.request<{ job: { id: string } }>('POST', `/api/v1/backups/${backupId}/restore`, { confirm: true });
    expect(q.status).toBe(202);
    const job = await api.waitJob(q.body.job.id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result).toMatchObject({ restored: backupId });
    expect(await fullDump()).toEqual(saved);
    // the collection it replaced was backed up first (invariant 1) and is listed too
    const after = await api.request<{ backups: Array<{ id: string }> }>('GET', '/api/v1/backups');
    expect(after.body.backups.map((x) => x.id)).toContain(job.result!['previousBackup']);
  });

  it('cloud.sync: reports a full sync as required, uploads only when confirmed, and a real Anki client gets an equal collection', async () => {
    const login = await peer.syncLogin({ endpoint: server.endpoint, user: 'user', password: 'pass' });
    // the cloud room's credential store (file fallback in the config folder), keyed by endpoint
    await new FileStore(path.join(env['XDG_CONFIG_HOME']!, 'ankibridge', 'sync-keys.json')).set({ endpoint: normalizeEndpoint(server.endpoint), user: 'user', hkey: login.hkey });

    const tap = await tapEvents(daemon!.url, env['XDG_CONFIG_HOME']!);
    const first = await api.runJob('cloud.sync');
    expect(first.state, JSON.stringify(first.error)).toBe('succeeded');
    expect(first.result).toMatchObject({ kind: 'fullSyncRequired', reason: 'never-synced', uploadOk: true, server: { empty: true } });
    // surfaced as an event with the typed state (what each side holds, what each choice loses)
    const events = await tap.stop();
    const required = events.filter((e) => e.type === 'cloud.fullSyncRequired');
    expect(required).toHaveLength(1);
    expect(events.some((e) => e.type === 'job.progress' && e.data['id'] === first.id), 'progress of the sync reaches the events').toBe(true);
    expect(required[0]!.data).toMatchObject({ jobId: first.id, state: { kind: 'fullSyncRequired', consequences: { upload: expect.any(String), download: expect.any(String) } } });
    const unconfirmed = await api.runJob('cloud.sync', { fullSync: 'upload' });
    expect(unconfirmed.state).toBe('failed');
    expect(unconfirmed.error?.code).toBe('ANKIBRIDGE_ERR_DAEMON_JOB_INPUT_INVALID');
    // nothing reached the server: a client that downloads still finds it empty
    const probe = path.join(root, 'probe', 'collection.anki2');
    mkdirSync(path.dirname(probe), { recursive: true });
    await peer.createCollection({ path: probe, notes: 0, seed: 1 });
    expect((await peer.sync({ path: probe, endpoint: server.endpoint, hkey: login.hkey })).required).toMatch(/full/);

    const upload = await api.runJob('cloud.sync', { fullSync: 'upload', confirm: true });
    expect(upload.state, JSON.stringify(upload.error)).toBe('succeeded');
    expect(upload.result).toMatchObject({ kind: 'full', direction: 'upload' });

    const client = path.join(root, 'client', 'collection.anki2');
    mkdirSync(path.dirname(client), { recursive: true });
    await peer.fullSync({ path: client, endpoint: server.endpoint, hkey: login.hkey, direction: 'download', media: true });
    const clientMedia = path.join(root, 'client', 'collection.media');
    expect(await peer.dump(client, { ignoreSync: true, mediaDir: clientMedia })).toEqual(await peer.dump(collectionPath, { ignoreSync: true, mediaDir }));
    expect(readdirSync(clientMedia).length).toBeGreaterThan(0);

    // "Sync now" from the CLI: the desktop moved on, a normal sync carries it to the server
    await peer.modify(collectionPath, [{ op: 'advanceClock', seconds: 1 }, { op: 'addNotes', count: 2 }, { op: 'review', count: 3, ease: 4 }], { seed: 11 });
    const now = runCli(['sync', '--json'], env);
    expect(now.code, now.stdout + now.stderr).toBe(0);
    const syncJob = (JSON.parse(now.stdout) as { job: { state: string; origin: string; kind: string; result: { kind: string; stats?: unknown } } }).job;
    expect(syncJob).toMatchObject({ kind: 'cloud.sync', state: 'succeeded', origin: 'cli', result: { kind: 'normal' } });
    const pulled = await peer.sync({ path: client, endpoint: server.endpoint, hkey: login.hkey, media: true });
    expect(pulled.did).toBe('normal');
    const { config: _clientConfig, ...clientRest } = await peer.dump(client, { ignoreSync: true });
    const { config: _desktopConfig, ...desktopRest } = await peer.dump(collectionPath, { ignoreSync: true });
    expect(clientRest).toEqual(desktopRest);
    expect(existsSync(logFile())).toBe(true);
  });

  it('while Anki Desktop has the collection open, nothing syncs or backs it up (Anki Desktop first)', async () => {
    await peer.hold(collectionPath);
    try {
      const now = runCli(['sync', '--json'], env);
      expect(now.code, now.stdout + now.stderr).toBe(69);
      expect(now.stdout).toContain('ANKIBRIDGE_ERR_DAEMON_COLLECTION_BUSY');
      const job = await api.runJob('cloud.sync');
      expect(job.state).toBe('failed');
      expect(job.error?.code).toBe('ANKIBRIDGE_ERR_CLOUD_COLLECTION_BUSY');
      const backup = await api.runJob('backup');
      expect(backup.state).toBe('failed');
      expect(backup.error?.code).toBe('ANKIBRIDGE_ERR_DAEMON_COLLECTION_BUSY');
    } finally {
      await peer.release(collectionPath);
    }
  });

  it('a normal sync from the desktop keeps the collection config (the client that pulls it gets the same config)', async () => {
    const client = path.join(root, 'client', 'collection.anki2');
    // Anki's client writes lastUnburied itself when it syncs (it unburies on a new day first),
    // so that key is its own bookkeeping; every other key must have come through unchanged.
    const withoutOwnBookkeeping = (config: object): object => Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'lastUnburied'));
    const pulled = withoutOwnBookkeeping((await peer.dump(client, { ignoreSync: true })).config);
    const desktop = withoutOwnBookkeeping((await peer.dump(collectionPath, { ignoreSync: true })).config);
    expect(Object.keys(desktop).length).toBeGreaterThan(10);
    expect(pulled).toEqual(desktop);
  });
});
