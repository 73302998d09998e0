// A misbehaving server for every protocol step: a loopback proxy in front of the real
// anki.syncserver spoils one answer (malformed JSON, truncated zstd, a stall, a wrong status, a
// wrong size, a cut connection, a redirect where none is allowed). Each time: a named error, and
// the local collection exactly as it was (full dump, usn included). Afterwards a clean sync
// still converges with a real Anki client.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type SyncServer } from '../peer/peer.js';
import { CloudSync, FileStore } from '../../src/sync/cloud/index.js';
import { FaultProxy, type Fault } from './fault-proxy.js';
import { recordingBackup, sha256 } from './helpers.js';

let peer: AnkiPeer;
let server: SyncServer;
let proxy: FaultProxy;
let dir: string;

beforeAll(async () => {
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users: ['dave', 'erin', 'frank'].map((user) => ({ user, password: 'pw' })) })]);
  proxy = await FaultProxy.start(server.endpoint);
  dir = mkdtempSync(path.join(tmpdir(), 'cloud-bad-'));
});
afterAll(async () => {
  await proxy?.stop();
  await peer?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXPECTED: Record<Fault, RegExp> = {
  malformed: /_BAD_RESPONSE$/,
  truncated: /_BAD_RESPONSE$/,
  wrongSize: /_BAD_RESPONSE$/,
  cut: /_(BAD_RESPONSE|NETWORK)$/,
  slow: /_TIMEOUT$/,
  status503: /_SERVER_ERROR$/,
  status404: /_HTTP_STATUS$/,
  redirect: /_UNEXPECTED_REDIRECT$/,
};
const BASIC_FAULTS: Fault[] = ['malformed', 'truncated', 'slow', 'status503'];

/**
 * Runs a sync that must fail because of the fault at `step`. On a heavily loaded machine an
 * innocent step can stall past the short timer first; that run is repeated (at most twice), so
 * only the fault under test decides the outcome.
 */
async function failingRun(step: string, run: () => Promise<unknown>): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const rule = proxy.rule;
    const err = await run().then(
      () => new Error(`${step}: the sync succeeded`),
      (e: unknown) => e,
    );
    const d = (err as { code?: string; details?: { step?: string } });
    const innocentStall = d.code === 'ANKIBRIDGE_ERR_CLOUD_TIMEOUT' && d.details?.step !== step && !proxy.seen.includes(step);
    if (!innocentStall || attempt >= 2) return err;
    proxy.set(rule);
  }
}


async function setUp(user: string, opts: { media?: boolean; mediaFiles?: number } = {}) {
  const ours = path.join(dir, user, 'ours', 'collection.anki2');
  const theirs = path.join(dir, user, 'theirs', 'collection.anki2');
  await peer.createCollection({
    path: ours, notes: 12, seed: 3, reviewsPerCard: 1,
    ...(opts.mediaFiles ? { media: { count: opts.mediaFiles, bytesEach: 800 } } : {}),
  });
  const credentials = new FileStore(path.join(dir, user, 'keys.json'));
  const backups = recordingBackup(path.join(dir, user, 'backups'));
  // a short stall timer makes the "slow" faults quick; clean runs get a patient one
  const make = (media: boolean, ioTimeoutMs = 1000) =>
    new CloudSync({ collectionPath: ours, endpoint: proxy.endpoint, credentials, isCollectionFree: () => true, backup: backups.backup, media, ioTimeoutMs });
  const sync = make(opts.media ?? false);
  const patient = make(opts.media ?? false, 30_000);
  proxy.set(undefined);
  await CloudSync.login({ endpoint: proxy.endpoint, user, password: 'pw', credentials });
  await patient.run({ fullSync: { direction: 'upload', confirmed: true } });
  const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user, password: 'pw' });
  const auth = { endpoint: server.endpoint, hkey };
  await peer.fullSync({ path: theirs, ...auth, direction: 'download', media: opts.media ?? false });
  return { ours, theirs, sync, patient, make, auth, backups };
}

describe('a misbehaving server never changes the local collection', () => {
  it('normal sync: every step, every kind of fault, then a clean sync converges', async () => {
    const { ours, theirs, sync, patient, auth } = await setUp('dave');
    const d = await peer.dump(ours);
    await peer.modify(theirs, [
      { op: 'review', count: 3, ease: 3 },
      { op: 'editNote', noteId: d.notes[0]!.id, field: 0, value: 'server side edit' },
      { op: 'deleteNotes', noteIds: [d.notes[1]!.id] },
      { op: 'addDeck', name: 'From server' },
    ]);
    expect((await peer.sync({ path: theirs, ...auth })).did).toBe('normal');
    await peer.modify(ours, [
      // later than the server's edits: when both sides reviewed the same card in the same second,
      // each side keeps its own (Anki's rule), so the clock is moved on
      { op: 'advanceClock', seconds: 2 },
      { op: 'review', count: 4, ease: 2 },
      { op: 'deleteNotes', noteIds: [d.notes[2]!.id] },
      { op: 'editNote', noteId: d.notes[3]!.id, field: 0, value: 'local edit' },
      { op: 'addDeck', name: 'Local deck' },
      { op: 'tag', noteIds: [d.notes[4]!.id], add: ['local-tag'] },
    ]);
    const baseline = await peer.dump(ours);
    const steps = ['sync/meta', 'sync/start', 'sync/applyGraves', 'sync/applyChanges', 'sync/chunk', 'sync/applyChunk', 'sync/sanityCheck2', 'sync/finish'];
    const extra: Record<string, Fault[]> = { 'sync/chunk': ['wrongSize', 'cut', 'status404', 'redirect'], 'sync/start': ['redirect'], 'sync/applyChanges': ['wrongSize'] };
    for (const step of steps) {
      for (const fault of [...BASIC_FAULTS, ...(extra[step] ?? [])]) {
        proxy.set({ step, fault });
        const err = await failingRun(step, () => sync.run());
        expect(proxy.seen, `${step}/${fault} was reached (${String(err)})`).toContain(step);
        expect((err as { code?: string }).code, `${step}/${fault}: ${String(err)}`).toMatch(EXPECTED[fault]);
        expect(await peer.dump(ours), `${step}/${fault} left the collection as it was`).toEqual(baseline);
      }
    }
    // a redirect of meta itself is followed (doc §2.4): to a dead address here → a network error, nothing stored
    proxy.set({ step: 'sync/meta', fault: 'redirect' });
    await expect(sync.run()).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_CLOUD_NETWORK' });
    expect(sync.endpoint).toBe(proxy.endpoint);

    // cancelling mid-sync rolls back too
    proxy.set({ step: 'sync/chunk', fault: 'slow' });
    const ctl = new AbortController();
    const slowSync = new CloudSync({ collectionPath: ours, endpoint: proxy.endpoint, credentials: new FileStore(path.join(dir, 'dave', 'keys.json')), isCollectionFree: () => true, backup: async () => undefined, media: false, ioTimeoutMs: 30_000 });
    const started = slowSync.run({ signal: ctl.signal });
    while (!proxy.seen.includes('sync/chunk')) await new Promise((r) => setTimeout(r, 10));
    ctl.abort();
    await expect(started).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_GENERAL_CANCELLED' });
    expect(await peer.dump(ours)).toEqual(baseline);

    proxy.set(undefined);
    expect(await patient.run()).toMatchObject({ kind: 'normal' });
    await peer.sync({ path: theirs, ...auth });
    await patient.run();
    expect(await peer.dump(ours, { ignoreSync: true })).toEqual(await peer.dump(theirs, { ignoreSync: true }));
  });

  it('full download and upload: faults leave both sides as they were', async () => {
    const { ours, theirs, sync, patient, auth, backups } = await setUp('erin');
    await peer.modify(theirs, [{ op: 'changeSchema' }, { op: 'review', count: 2, ease: 3 }]);
    await peer.fullSync({ path: theirs, ...auth, direction: 'upload' });
    await peer.modify(ours, [{ op: 'review', count: 2, ease: 3 }]);
    const baseline = await peer.dump(ours);
    const sha = sha256(ours);
    const content = async (p: string) => {
      // what the user studies; config is left out: a normal sync on a new day sets lastUnburied by itself
      const { notes, cards, revlog, decks, noteTypes } = await peer.dump(p, { ignoreSync: true });
      return { notes, cards, revlog, decks, noteTypes };
    };
    const serverContent = await content(theirs);
    const cases: [string, 'download' | 'upload', Fault, RegExp][] = [
      ...BASIC_FAULTS.map((f) => ['sync/download', 'download', f, f === 'malformed' ? /_DOWNLOAD_CORRUPT$/ : EXPECTED[f]] as [string, 'download', Fault, RegExp]),
      ['sync/download', 'download', 'cut', EXPECTED.cut],
      ['sync/download', 'download', 'wrongSize', EXPECTED.wrongSize],
      // the server copy is fetched (for the backup) before an upload replaces it
      ['sync/download', 'upload', 'truncated', EXPECTED.truncated],
      ...BASIC_FAULTS.filter((f) => f !== 'malformed').map((f) => ['sync/upload', 'upload', f, EXPECTED[f]] as [string, 'upload', Fault, RegExp]),
      // a 200 whose text is not "OK" is the server refusing the upload
      ['sync/upload', 'upload', 'malformed', /_UPLOAD_REJECTED$/],
    ];
    for (const [step, direction, fault, expected] of cases) {
      proxy.set({ step, fault });
      const err = await failingRun(step, () => sync.run({ fullSync: { direction, confirmed: true } }));
      expect(proxy.seen, `${step}/${fault}`).toContain(step);
      expect((err as { code?: string }).code, `${step}/${fault}: ${String(err)}`).toMatch(expected);
      expect(sha256(ours), `${direction} ${step}/${fault}`).toBe(sha);
      expect(readdirSync(path.dirname(ours)).filter((n) => n.startsWith('.')).join(' '), `${direction} ${step}/${fault}: no temp files left`).toBe('');
      if (step === 'sync/upload') {
        // The answer was spoiled after the server had the upload: it may hold our copy now, which
        // is why its copy was backed up before anything was sent; the local file stays as it was
        // and the next meta shows the differing schema again (a typed state, not a silent loss).
        expect(backups.kept.at(-1)?.reason, `${step}/${fault}`).toMatch(/server collection before full upload/);
        continue;
      }
      // the server still holds Anki's upload. (Verified: the server bumps its usn and mod on every
      // download it serves, even one the client then rejects, so Anki may run a normal sync that
      // moves nothing — but never a full one, and its content stays the same.)
      expect((await peer.sync({ path: theirs, ...auth })).required, `${step}/${fault}: server unchanged`).not.toMatch(/^full/);
      expect(await content(theirs), `${step}/${fault}: server content`).toEqual(serverContent);
    }
    expect(await peer.dump(ours)).toEqual(baseline);
    // the local collection was never handed to the backup as "about to be replaced": it never was
    expect(backups.kept.filter((k) => k.path === ours)).toEqual([]);
    proxy.set(undefined);
    expect(await patient.run()).toMatchObject({ kind: 'fullSyncRequired' });
    expect(await patient.run({ fullSync: { direction: 'upload', confirmed: true } })).toMatchObject({ kind: 'full' });
    expect((await peer.sync({ path: theirs, ...auth })).required).toMatch(/^full/);
    await peer.fullSync({ path: theirs, ...auth, direction: 'download' });
    expect(await peer.dump(ours, { ignoreSync: true })).toEqual(await peer.dump(theirs, { ignoreSync: true }));
  });

  it('media: every step, the basic faults; the collection untouched, no partial files, then it converges', async () => {
    const { ours, theirs, make, auth } = await setUp('frank', { media: true, mediaFiles: 3 });
    const collectionOnly = make(false, 30_000);
    const withMedia = make(true);
    const patientMedia = make(true, 30_000);
    const oursMedia = path.join(path.dirname(ours), 'collection.media');
    let n = 0;
    for (const step of ['msync/mediaChanges', 'msync/downloadFiles', 'msync/uploadChanges', 'msync/mediaSanity']) {
      for (const fault of BASIC_FAULTS) {
        n++;
        // fresh work on both sides so that every step is reached
        await peer.modify(theirs, [{ op: 'addMedia', name: `anki-${n}.txt`, base64: Buffer.from(`from Anki ${n}`).toString('base64') }]);
        await peer.sync({ path: theirs, ...auth, media: true });
        writeFileSync(path.join(oursMedia, `ours-${n}.txt`), `from us ${n}`);
        proxy.set(undefined);
        await collectionOnly.run();
        const baseline = await peer.dump(ours);
        proxy.set({ step, fault });
        const err = await failingRun(step, () => withMedia.run());
        expect(proxy.seen, `${step}/${fault}`).toContain(step);
        expect((err as { code?: string }).code, `${step}/${fault}: ${String(err)}`).toMatch(EXPECTED[fault]);
        const { media: _m, ...now } = await peer.dump(ours);
        const { media: _b, ...before } = baseline;
        expect(now, `${step}/${fault}`).toEqual(before);
        expect(readdirSync(oursMedia).filter((f) => f.startsWith('.')), 'no partial files').toEqual([]);
      }
    }
    proxy.set(undefined);
    await patientMedia.run();
    await peer.sync({ path: theirs, ...auth, media: true });
    await patientMedia.run();
    const a = (await peer.dump(ours)).media;
    expect(a.length).toBe(3 + 2 * n);
    expect((await peer.dump(theirs)).media).toEqual(a);
  });
});
