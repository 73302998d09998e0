// Our sync client against Anki's own sync server, with a real Anki client (the peer) on the
// other end: first sync uploads, Anki downloads the same collection, then edits on both sides
// converge through our normal sync and Anki's.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type SyncServer } from '../peer/peer.js';
import { CloudSync, FileStore, backupStoreFn } from '../../src/sync/cloud/index.js';
import { BackupStore } from '../../src/sync/backup/store.js';
import { ensureBackupSchema } from '../../src/sync/backup/schema.js';
import { makeCloudSync, sha256 } from './helpers.js';

const TRICKY = 'say "hi" \\ back\\slash\nnew line\ttab \u0001\u001e ünïcödé ✓ 🦊 \u2028 </script> {"x":[1]}';

let peer: AnkiPeer;
let server: SyncServer;
let dir: string;

beforeAll(async () => {
  [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users: ['alice', 'bob', 'carol'].map((user) => ({ user, password: 'pw' })) })]);
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
      // text that JSON must escape (our chunks are written as JSON by SQLite itself)
      { op: 'editNote', noteId: d.notes[5]!.id, field: 0, value: TRICKY },
      { op: 'addNotes', count: 3, deck: 'Ours::Sub', tags: ['ours'] },
      { op: 'tag', noteIds: [d.notes[2]!.id], add: ['tagged-by-us'] },
      { op: 'editDeckConfig', id: 1, newPerDay: 33 },
      { op: 'deleteNotes', noteIds: [d.notes[3]!.id] },
      // a note type goes out with its 64-bit field and template ids (once a TypeError: BigInt in JSON)
      { op: 'editNoteType', noteType: 'basic', css: '.card { color: #123456 }' },
    ]);
    await peer.modify(theirs, [
      { op: 'advanceClock', seconds: 2 },
      { op: 'review', count: 4, ease: 4 },
      { op: 'editNote', noteId: d.notes[1]!.id, field: 0, value: 'edited by Anki' },
      { op: 'addNotes', count: 2, deck: 'Theirs', tags: ['theirs'] },
      { op: 'deleteNotes', noteIds: [d.notes[4]!.id] },
      { op: 'renameDeck', from: deckName, to: 'Renamed by Anki' },
      { op: 'addDeck', name: 'Theirs::Child' },
      { op: 'editNoteType', noteType: 'cloze', qfmt: '{{cloze:Text}} (edited by Anki)' },
    ]);
    expect(await sync.run()).toMatchObject({ kind: 'normal' });
    expect((await peer.sync({ path: theirs, ...auth })).did).toBe('normal');
    const last = await sync.run();
    expect(last).toMatchObject({ kind: 'normal' });
    expect(await peer.dump(ours, { ignoreSync: true })).toEqual(await peer.dump(theirs, { ignoreSync: true }));
    // note types both ways with their 64-bit field and template ids exact (once rounded by JSON.parse)
    const ntRows = async (p: string) => [
      ...(await peer.query(p, 'SELECT ntid, ord, name, config FROM fields ORDER BY ntid, ord')),
      ...(await peer.query(p, 'SELECT ntid, ord, name, config FROM templates ORDER BY ntid, ord')),
      ...(await peer.query(p, 'SELECT id, name, config FROM notetypes ORDER BY id')),
    ];
    expect(await ntRows(ours)).toEqual(await ntRows(theirs));
    // byte for byte what Anki stored on our side (Anki itself drops some control characters)
    const flds = async (p: string) => (await peer.query<[string]>(p, 'SELECT flds FROM notes WHERE id = ?', [d.notes[5]!.id]))[0]![0];
    expect(await flds(theirs)).toBe(await flds(ours));
    for (const part of ['"hi"', '\\ back\\slash\n', '\t', '🦊', '\u2028', '</script>']) expect(await flds(theirs)).toContain(part);
    // every socket our client opened is closed again (keep-alive agents are destroyed per run)
    await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap')).toEqual([]);
    // Anki's own Check Database finds nothing wrong in what we wrote (it may renumber nextPos, so it runs last)
    expect(await peer.check(ours)).toMatchObject({ ok: true, problems: [] });
  });

  it('full sync required after a schema change: typed state, nothing moves without a confirmed direction, the replaced side is backed up', async () => {
    const ours = path.join(dir, 'fs-ours', 'collection.anki2');
    const theirs = path.join(dir, 'fs-theirs', 'collection.anki2');
    await peer.createCollection({ path: ours, notes: 15, seed: 11, reviewsPerCard: 1 });
    // the real backup store (src/sync/backup) receives whatever a full sync replaces
    mkdirSync(path.join(dir, 'fs'), { recursive: true });
    const stateDb = new Database(path.join(dir, 'fs', 'state.db'));
    ensureBackupSchema(stateDb);
    const store = new BackupStore(stateDb, path.join(dir, 'fs', 'backups'));
    const credentials = new FileStore(path.join(dir, 'fs', 'keys.json'));
    const sync = new CloudSync({
      collectionPath: ours, endpoint: server.endpoint, credentials, isCollectionFree: () => true, media: false,
      backup: backupStoreFn(store, 'test profile', ours),
    });
    await CloudSync.login({ endpoint: server.endpoint, user: 'bob', password: 'pw', credentials });
    expect(await sync.run({ fullSync: { direction: 'upload', confirmed: true } })).toMatchObject({ kind: 'full', direction: 'upload' });
    const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'bob', password: 'pw' });
    const auth = { endpoint: server.endpoint, hkey };
    await peer.fullSync({ path: theirs, ...auth, direction: 'download' });

    // Anki changes the schema and, asked for a one-way sync, uploads; we reviewed meanwhile.
    await peer.modify(theirs, [{ op: 'changeSchema' }, { op: 'review', count: 2, ease: 3 }]);
    expect((await peer.sync({ path: theirs, ...auth })).required).toMatch(/^full/);
    await peer.fullSync({ path: theirs, ...auth, direction: 'upload' });
    await peer.modify(ours, [{ op: 'review', count: 3, ease: 2 }]);
    const oursBefore = await peer.dump(ours);
    const oursSha = sha256(ours);

    const state = await sync.run();
    expect(state).toMatchObject({
      kind: 'fullSyncRequired',
      reason: 'schema-differs',
      uploadOk: true,
      downloadOk: true,
      local: { path: ours, empty: false, summary: { notes: 15 } },
      server: { empty: false },
    });
    if (state.kind !== 'fullSyncRequired') throw new Error('unreachable');
    expect(state.consequences.download).toMatch(/backed up/);
    // nothing moved: our file is byte-identical, the server still holds Anki's upload
    expect(sha256(ours)).toBe(oursSha);
    expect((await peer.sync({ path: theirs, ...auth })).did).toBe('nothing');
    expect(store.list()).toEqual([]);
    // a direction without confirmation is no confirmation
    expect(await sync.run({ fullSync: { direction: 'download', confirmed: false as true } })).toMatchObject({ kind: 'fullSyncRequired' });
    expect(sha256(ours)).toBe(oursSha);

    // Download confirmed: Anki's side wins, ours is in the backup store first.
    expect(await sync.run({ fullSync: { direction: 'download', confirmed: true } })).toMatchObject({ kind: 'full', direction: 'download' });
    expect(await peer.dump(ours, { ignoreSync: true })).toEqual(await peer.dump(theirs, { ignoreSync: true }));
    const kept = store.list();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ originPath: ours, reason: 'pre-overwrite', protected: true, source: 'desktop', label: expect.stringMatching(/local collection before full download/) });
    expect(kept[0]!.collectionSha256).toBe(oursSha);
    expect((await peer.dump(kept[0]!.collectionPath)).revlog).toEqual(oursBefore.revlog);
    expect(await sync.run()).toMatchObject({ kind: 'noChanges' });

    // Now the schema changes here; upload confirmed: ours wins, the server copy is backed up.
    await peer.modify(ours, [{ op: 'changeSchema' }, { op: 'review', count: 1, ease: 3 }]);
    const again = await sync.run();
    expect(again).toMatchObject({ kind: 'fullSyncRequired', uploadOk: true, downloadOk: true });
    expect(await sync.run({ fullSync: { direction: 'upload', confirmed: true } })).toMatchObject({ kind: 'full', direction: 'upload' });
    const all = store.list();
    expect(all).toHaveLength(2);
    const serverCopy = all.find((b) => b.source === 'cloud-server')!;
    expect(serverCopy).toMatchObject({ reason: 'pre-overwrite', protected: true, label: expect.stringMatching(/server collection before full upload/) });
    expect((await peer.dump(serverCopy.collectionPath, { ignoreSync: true })).notes).toEqual((await peer.dump(theirs, { ignoreSync: true })).notes);
    expect((await peer.sync({ path: theirs, ...auth })).required).toMatch(/^full/);
    await peer.fullSync({ path: theirs, ...auth, direction: 'download' });
    expect(await peer.dump(theirs, { ignoreSync: true })).toEqual(await peer.dump(ours, { ignoreSync: true }));
    stateDb.close();
  });

  it('media added and removed flows both ways with equal bytes', async () => {
    const ours = path.join(dir, 'm-ours', 'collection.anki2');
    const theirs = path.join(dir, 'm-theirs', 'collection.anki2');
    await peer.createCollection({ path: ours, notes: 6, seed: 5, media: { count: 4, bytesEach: 3000 } });
    const oursMedia = path.join(dir, 'm-ours', 'collection.media');
    const theirsMedia = path.join(dir, 'm-theirs', 'collection.media');
    const { sync, credentials } = makeCloudSync({ dir: path.join(dir, 'm'), collectionPath: ours, endpoint: server.endpoint, media: true });
    await CloudSync.login({ endpoint: server.endpoint, user: 'carol', password: 'pw', credentials });
    const up = await sync.run({ fullSync: { direction: 'upload', confirmed: true } });
    expect(up).toMatchObject({ kind: 'full', media: { uploaded: 4, downloaded: 0 } });

    const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'carol', password: 'pw' });
    const auth = { endpoint: server.endpoint, hkey };
    await peer.fullSync({ path: theirs, ...auth, direction: 'download', media: true });
    const start = (await peer.dump(ours)).media;
    expect(start).toHaveLength(4);
    expect((await peer.dump(theirs)).media).toEqual(start);

    // Anki adds one file and removes one of ours; we add one (2.6 MiB: its own upload batch) and remove another.
    const big = Buffer.alloc(2_700_000, 7);
    await peer.modify(theirs, [
      { op: 'addMedia', name: 'from-anki.txt', base64: Buffer.from('made by Anki').toString('base64') },
      { op: 'removeMedia', name: start[0]!.name },
    ]);
    await peer.sync({ path: theirs, ...auth, media: true });
    writeFileSync(path.join(oursMedia, 'from-us.bin'), big);
    writeFileSync(path.join(oursMedia, 'small-from-us.txt'), 'made by ankibridge');
    unlinkSync(path.join(oursMedia, start[1]!.name));
    const r = await sync.run();
    expect(r).toMatchObject({ media: { downloaded: 1, deletedLocally: 1, uploaded: 2, deletedOnServer: 1 } });
    expect(existsSync(path.join(oursMedia, start[0]!.name))).toBe(false);
    // a file deleted on the server is moved to media.trash here, as Anki does, not destroyed
    expect(existsSync(path.join(dir, 'm-ours', 'media.trash', start[0]!.name))).toBe(true);

    await peer.sync({ path: theirs, ...auth, media: true });
    const a = (await peer.dump(ours)).media;
    const b = (await peer.dump(theirs)).media;
    expect(a.map((m) => m.name).sort()).toEqual([start[2]!.name, start[3]!.name, 'from-anki.txt', 'from-us.bin', 'small-from-us.txt'].sort());
    expect(b).toEqual(a);
    expect(statSync(path.join(theirsMedia, 'from-us.bin')).size).toBe(big.length);
    // nothing left to do on either side
    expect(await sync.run()).toMatchObject({ media: { downloaded: 0, uploaded: 0 } });
  });
});
