// Two real Anki clients converge through Anki's own sync server, driven by the peer.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type SyncServer } from './peer.js';

let peer: AnkiPeer;
let server: SyncServer;
let dir: string;

beforeAll(async () => {
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users: [{ user: 'alice', password: 'pw' }] })]);
  dir = mkdtempSync(path.join(tmpdir(), 'peer-sync-'));
});
afterAll(async () => {
  await peer?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sync through anki.syncserver', () => {
  it('servers start side by side on their own ports; stop() ends the process and removes its folder', async () => {
    const other = await startSyncServer();
    expect(other.endpoint).not.toBe(server.endpoint);
    expect(other.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await expect(peer.syncLogin({ endpoint: other.endpoint, user: 'user', password: 'pass' })).resolves.toMatchObject({ hkey: expect.any(String) });
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    expect(() => process.kill(other.pid!, 0)).toThrow(/ESRCH/);
  });

  it('rejects a wrong password with a typed error', async () => {
    await expect(peer.syncLogin({ endpoint: server.endpoint, user: 'alice', password: 'wrong' })).rejects.toMatchObject({
      name: 'PeerError',
      type: 'SyncError',
    });
  });

  it('two clients converge: full upload, full download, then normal syncs both ways (media too)', async () => {
    const a = path.join(dir, 'a', 'collection.anki2');
    const b = path.join(dir, 'b', 'collection.anki2');
    const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'alice', password: 'pw' });
    expect(hkey).toMatch(/.+/);
    const auth = { endpoint: server.endpoint, hkey };

    await peer.createCollection({ path: a, notes: 20, seed: 3, reviewsPerCard: 2, media: { count: 2, bytesEach: 500 } });
    // a new local collection against an empty server: Anki asks for a one-way sync
    const first = await peer.sync({ path: a, ...auth, media: true });
    expect(first.required).toMatch(/^full/);
    await peer.fullSync({ path: a, ...auth, direction: 'upload', media: true });
    await peer.fullSync({ path: b, ...auth, direction: 'download', media: true });
    expect(await peer.dump(b, { ignoreSync: true })).toEqual(await peer.dump(a, { ignoreSync: true }));

    // change both sides, sync A, B, A: both end equal, including media
    const da = await peer.dump(a);
    await peer.modify(a, [
      { op: 'review', count: 3, ease: 3 },
      { op: 'editNote', noteId: da.notes[0]!.id, field: 0, value: 'edited on A' },
      { op: 'addMedia', name: 'from-a.txt', base64: Buffer.from('hello from A').toString('base64') },
    ]);
    await peer.modify(b, [
      { op: 'addNotes', count: 2, deck: 'From B', tags: ['b'] },
      { op: 'deleteNotes', noteIds: [da.notes[1]!.id] },
      { op: 'removeMedia', name: 'peer-media-00001.jpg' },
    ]);
    expect((await peer.sync({ path: a, ...auth, media: true })).did).toBe('normal');
    expect((await peer.sync({ path: b, ...auth, media: true })).did).toBe('normal');
    expect((await peer.sync({ path: a, ...auth, media: true })).did).toBe('normal');
    // Anki's finish stamps a new mod on both ends, so the other side still sees a difference
    // once; syncing the same side again right away has nothing to do.
    expect((await peer.sync({ path: b, ...auth, media: true })).did).toBe('normal');
    expect(await peer.sync({ path: b, ...auth, media: true })).toMatchObject({ required: 'noChanges', did: 'nothing' });

    const [fa, fb] = [await peer.dump(a, { ignoreSync: true }), await peer.dump(b, { ignoreSync: true })];
    expect(fb).toEqual(fa);
    expect(fa.notes.find((n) => n.id === da.notes[0]!.id)!.fields[0]).toBe('edited on A');
    expect(fa.notes.some((n) => n.id === da.notes[1]!.id)).toBe(false);
    expect(fa.decks.some((d) => d.name === 'From B')).toBe(true);
    expect(fa.media.map((m) => m.name)).toEqual(['from-a.txt', 'peer-media-00000.jpg']); // added on A, removed on B
    expect(fa.revlog.length).toBe(da.revlog.length + 3);
  });
});
