// Our sync client against Anki's own sync server, with a real Anki client (the peer) on the
// other end: first sync uploads, Anki downloads the same collection, then edits on both sides
// converge through our normal sync and Anki's.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type SyncServer } from '../peer/peer.js';
import { CloudSync } from '../../src/sync/cloud/index.js';
import { makeCloudSync, sha256 } from './helpers.js';

let peer: AnkiPeer;
let server: SyncServer;
let dir: string;

beforeAll(async () => {
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users: [{ user: 'alice', password: 'pw' }] })]);
  dir = mkdtempSync(path.join(tmpdir(), 'cloud-col-'));
});
afterAll(async () => {
  await peer?.close();
  await server?.stop();
  if (dir && !process.env.KEEP_CLOUD_TEST) rmSync(dir, { recursive: true, force: true });
});

describe('cloud sync of the collection against anki.syncserver', () => {
  it('uploads first (after confirmation), Anki downloads the same, and edits on both sides converge', async () => {
    const ours = path.join(dir, 'ours', 'collection.anki2');
    const theirs = path.join(dir, 'theirs', 'collection.anki2');
    await peer.createCollection({ path: ours, notes: 40, seed: 7, reviewsPerCard: 2, decks: 3, noteTypes: ['basic', 'reversed', 'cloze'] });
    const { sync, credentials, backups } = makeCloudSync({ dir, collectionPath: ours, endpoint: server.endpoint });

    await expect(CloudSync.login({ endpoint: server.endpoint, user: 'alice', password: 'nope', credentials })).rejects.toMatchObject({
      code: 'ANKIBRIDGE_ERR_CLOUD_AUTH_FAILED',
    });
    const login = await CloudSync.login({ endpoint: server.endpoint, user: 'alice', password: 'pw', credentials });
    expect(login.user).toBe('alice');
    const stored = await credentials.get(server.endpoint);
    expect(stored?.hkey).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.stringify(stored)).not.toContain('pw"');
    expect(statSync(path.join(dir, 'keys.json')).mode & 0o777).toBe(0o600);

    // A new collection against an empty server: full sync required, nothing moves by itself.
    const before = sha256(ours);
    const state = await sync.run();
    expect(state).toMatchObject({ kind: 'fullSyncRequired', uploadOk: true, downloadOk: false, server: { empty: true } });
    expect(sha256(ours)).toBe(before);

    const up = await sync.run({ fullSync: { direction: 'upload', confirmed: true } });
    expect(up).toMatchObject({ kind: 'full', direction: 'upload' });
    expect(backups.kept).toEqual([]); // the server was empty: nothing to keep
    expect(await sync.run()).toMatchObject({ kind: 'noChanges' });

    const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'alice', password: 'pw' });
    const auth = { endpoint: server.endpoint, hkey };
    await peer.fullSync({ path: theirs, ...auth, direction: 'download' });
    expect(await peer.dump(theirs, { ignoreSync: true })).toEqual(await peer.dump(ours, { ignoreSync: true }));

    // Edits on both sides.
    const d = await peer.dump(ours);
    const deckName = (d.decks as { name: string }[]).map((x) => x.name).find((n) => n !== 'Default')!;
    await peer.modify(ours, [
      { op: 'review', count: 6, ease: 3 },
      { op: 'editNote', noteId: d.notes[0]!.id, field: 0, value: 'edited <b>here</b> &amp; there' },
      { op: 'addNotes', count: 3, deck: 'Ours::Sub', tags: ['ours'] },
      { op: 'tag', noteIds: [d.notes[2]!.id], add: ['tagged-by-us'] },
      { op: 'editDeckConfig', id: 1, newPerDay: 33 },
      { op: 'deleteNotes', noteIds: [d.notes[3]!.id] },
    ]);
    await peer.modify(theirs, [
      { op: 'advanceClock', seconds: 2 },
      { op: 'review', count: 4, ease: 4 },
      { op: 'editNote', noteId: d.notes[1]!.id, field: 0, value: 'edited by Anki' },
      { op: 'addNotes', count: 2, deck: 'Theirs', tags: ['theirs'] },
      { op: 'deleteNotes', noteIds: [d.notes[4]!.id] },
      { op: 'renameDeck', from: deckName, to: 'Renamed by Anki' },
      { op: 'addDeck', name: 'Theirs::Child' },
    ]);
    expect(await sync.run()).toMatchObject({ kind: 'normal' });
    expect((await peer.sync({ path: theirs, ...auth })).did).toBe('normal');
    const last = await sync.run();
    expect(last).toMatchObject({ kind: 'normal' });
    expect(await peer.dump(ours, { ignoreSync: true })).toEqual(await peer.dump(theirs, { ignoreSync: true }));
    // Anki's own Check Database finds nothing wrong in what we wrote (it may renumber nextPos, so it runs last)
    expect(await peer.check(ours)).toMatchObject({ ok: true, problems: [] });
  });
});
