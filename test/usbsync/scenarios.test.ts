// Must-show 1 and 2 over the mounted-folder transport, both collections made and edited by the
// real Anki peer: phone ahead → pull; desktop ahead → push (real Anki imports the package to the
// desktop's dump), waiting for import until the phone holds it; both changed → merge equals the
// sync-server oracle on both ends; first meeting; schema change; the guard in each direction,
// confirmed overwrites backed up and restorable exactly.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type CanonicalDump } from '../peer/peer.js';
import { comparable } from '../merge/harness.js';
import { inspect } from '../../src/sync/usb-sync/service.js';
import { merge, pull, push, pushedName } from '../../src/sync/usb-sync/transactions.js';
import { copyCollection, openScene, type Scene } from './support/scene.js';

let peer: AnkiPeer;
let root: string;
let seedCol: string;

const strip = (d: CanonicalDump) => comparable(d);

async function fresh(name: string, opts: { differentPhone?: boolean } = {}): Promise<Scene> {
  const s = await openScene(path.join(root, name));
  copyCollection(seedCol, s.desktop);
  if (opts.differentPhone) {
    const other = path.join(root, `${name}-other.anki2`);
    await peer.createCollection({ path: other, notes: 12, seed: 99, reviewsPerCard: 1 });
    copyCollection(other, s.phone);
  } else copyCollection(seedCol, s.phone);
  return s;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return 'no error';
}

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-'));
  seedCol = path.join(root, 'seed.anki2');
  await peer.createCollection({ path: seedCol, notes: 40, seed: 7, reviewsPerCard: 2, days: 20 });
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('USB sync over the folder transport', () => {
  it('equal collections at first meeting become the base; phone ahead → pull → desktop equals the phone', async () => {
    const s = await fresh('pull');
    expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 6 }]);
    const d = await inspect(s.deps, s.conn, 'dev1');
    expect(d.state).toBe('phone-ahead');
    expect(d.recommended).toBe('copy-phone-to-desktop');
    expect(d.phone.reviewsSinceBase).toBe(6);
    const r = await pull(s.deps, s.conn);
    expect(r.state).toBe('committed');
    expect(strip(await peer.dump(s.desktop, { ignoreSync: true }))).toEqual(strip(await peer.dump(s.phone, { ignoreSync: true })));
    expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
    const kinds = s.deps.pairs.history().map((h) => h.kind);
    expect(kinds).toContain('pull');
    expect(s.deps.pairs.history().every((h) => h.kind !== 'decision' || h.desktop !== null)).toBe(true);
    await s.close();
  });

  it('desktop ahead → push: the phone holds a package real Anki imports to the desktop; waiting for import until the phone has it', async () => {
    const s = await fresh('push');
    await inspect(s.deps, s.conn, 'dev1');
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }, { op: 'addNotes', count: 2 }]);
    const d = await inspect(s.deps, s.conn, 'dev1');
    expect(d.state).toBe('desktop-ahead');
    const r = await push(s.deps, s.conn);
    expect(r.message).toContain('Import');
    const onPhone = path.join(s.phoneRoot, 'Download', pushedName('User 1'));
    expect(existsSync(onPhone)).toBe(true);
    expect(readFileSync(onPhone).subarray(0, 2).toString('latin1')).toBe('PK');
    const probe = path.join(root, 'push-probe', 'collection.anki2');
    await peer.importPackage({ path: probe, pkg: onPhone, kind: 'colpkg' });
    const desktopDump = strip(await peer.dump(s.desktop, { ignoreSync: true }));
    expect(strip(await peer.dump(probe, { ignoreSync: true }))).toEqual(desktopDump);
    // not imported yet on the phone
    const waiting = await inspect(s.deps, s.conn, 'dev1');
    expect(waiting.state).toBe('waiting-for-import');
    // the person imports it in AnkiDroid (real Anki's colpkg import on the phone's file)
    await peer.importPackage({ path: s.phone, pkg: onPhone, kind: 'colpkg' });
    const after = await inspect(s.deps, s.conn, 'dev1');
    expect(after.state).toBe('in-step');
    expect(s.deps.pairs.history().some((h) => h.kind === 'import-seen')).toBe(true);
    // the phone's new scm (stamped by the import) is no schema change: later edits sync normally
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 2 }]);
    expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('phone-ahead');
    await s.close();
  });

  it('both changed → merge: the desktop and (after import) the phone equal the sync-server oracle', async () => {
    // Anki's sync server refuses clients whose clock is off: this case runs on a real-clock peer.
    await using rpeer = await AnkiPeer.start();
    const server = await startSyncServer({ users: [{ user: 'u', password: 'p' }] });
    try {
      const { hkey } = await rpeer.syncLogin({ endpoint: server.endpoint, user: 'u', password: 'p' });
      const auth = { endpoint: server.endpoint, hkey };
      const a = path.join(root, 'oracle', 'a', 'collection.anki2');
      const b = path.join(root, 'oracle', 'b', 'collection.anki2');
      copyCollection(seedCol, a);
      await rpeer.fullSync({ path: a, ...auth, direction: 'upload' });
      await rpeer.fullSync({ path: b, ...auth, direction: 'download' });
      const s = await openScene(path.join(root, 'merge'));
      copyCollection(a, s.desktop);
      copyCollection(b, s.phone);
      expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
      const notes = (await rpeer.query(s.desktop, 'select id from notes order by id limit 3')) as Array<{ id: number } | number[]>;
      const nid = (r: { id: number } | number[]): number => (Array.isArray(r) ? (r[0] as number) : r.id);
      await rpeer.modify(s.desktop, [{ op: 'advanceClock', seconds: 2 }, { op: 'review', count: 5 }, { op: 'editNote', noteId: nid(notes[0]!), field: 0, value: 'desktop edit' }, { op: 'addNotes', count: 2 }]);
      await rpeer.modify(s.phone, [{ op: 'advanceClock', seconds: 2 }, { op: 'review', count: 7 }, { op: 'editNote', noteId: nid(notes[1]!), field: 0, value: 'phone edit' }, { op: 'deleteNotes', noteIds: [nid(notes[2]!)] }]);
      const d = await inspect(s.deps, s.conn, 'dev1');
      expect(d.state).toBe('both-changed');
      expect(d.recommended).toBe('sync-both');
      // the guard, each direction, before anything is written
      const deskBytes = readFileSync(s.desktop);
      expect(await codeOf(pull(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
      expect(await codeOf(push(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
      expect(readFileSync(s.desktop).equals(deskBytes)).toBe(true);
      expect(existsSync(path.join(s.phoneRoot, 'Download'))).toBe(false);
      // oracle: the same edits through a real sync server
      copyCollection(s.desktop, a);
      copyCollection(s.phone, b);
      const r = await merge(s.deps, s.conn);
      expect(r.state).toBe('committed');
      for (const f of [a, b, a]) await rpeer.sync({ path: f, ...auth });
      const oracle = strip(await rpeer.dump(a, { ignoreSync: true }));
      expect(strip(await rpeer.dump(s.desktop, { ignoreSync: true }))).toEqual(oracle);
      expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('waiting-for-import');
      await rpeer.importPackage({ path: s.phone, pkg: path.join(s.phoneRoot, r.phonePath as string), kind: 'colpkg' });
      expect(strip(await rpeer.dump(s.phone, { ignoreSync: true }))).toEqual(oracle);
      expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
      await s.close();
    } finally {
      await server.stop();
    }
  });

  it('first meeting of different collections: no recommendation, every action needs confirmation, nothing acts alone', async () => {
    const s = await fresh('first', { differentPhone: true });
    const d = await inspect(s.deps, s.conn, 'dev1');
    expect(d.state).toBe('first-meeting');
    expect(d.recommended).toBeNull();
    expect(d.actions.find((a) => a.id === 'sync-both')?.available).toBe(false);
    expect(d.actions.filter((a) => a.id !== 'sync-both').every((a) => a.needsConfirmation)).toBe(true);
    const before = readFileSync(s.desktop);
    expect(await codeOf(pull(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_FIRST_MEETING');
    expect(await codeOf(push(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_FIRST_MEETING');
    expect(await codeOf(merge(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_NO_BASE');
    expect(readFileSync(s.desktop).equals(before)).toBe(true);
    await s.close();
  });

  it('schema changed on one side with changes on both: cannot merge, choose a side', async () => {
    const s = await fresh('schema');
    await inspect(s.deps, s.conn, 'dev1');
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 60 }, { op: 'changeSchema' }, { op: 'review', count: 2 }]);
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 3 }]);
    const d = await inspect(s.deps, s.conn, 'dev1');
    expect(d.state).toBe('cannot-merge');
    expect(d.actions.find((a) => a.id === 'sync-both')?.available).toBe(false);
    expect(await codeOf(merge(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_CANNOT_MERGE');
    await s.close();
  });

  it('guard: a confirmed pull names the loss, backs the desktop up first, and the backup restores exactly', async () => {
    const s = await fresh('guard-pull');
    await inspect(s.deps, s.conn, 'dev1');
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 2 }]);
    const d = await inspect(s.deps, s.conn, 'dev1');
    const pullAction = d.actions.find((a) => a.id === 'copy-phone-to-desktop');
    expect(pullAction?.needsConfirmation).toBe(true);
    expect(pullAction?.guard).toMatch(/^3 reviews made on this computer since \d+ \w+( \d{4})? will be lost$/);
    expect(d.actions.find((a) => a.id === 'copy-desktop-to-phone')?.guard).toMatch(/^2 reviews made on the phone since /);
    const original = await peer.dump(s.desktop, { ignoreSync: true });
    const r = await pull(s.deps, s.conn, { confirm: true });
    expect(r.lost).toBe(pullAction?.guard);
    const backup = s.deps.backups.get(r.backups[0]!);
    expect(backup.reason).toBe('pre-overwrite');
    const restored = path.join(root, 'guard-pull-restored', 'collection.anki2');
    copyCollection(backup.collectionPath, restored);
    expect(await peer.dump(restored, { ignoreSync: true })).toEqual(original);
    await s.close();
  });

  it('guard: a confirmed push backs the phone’s collection up first, and that backup restores exactly', async () => {
    const s = await fresh('guard-push');
    await inspect(s.deps, s.conn, 'dev1');
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }]);
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 1 }]);
    expect(await codeOf(push(s.deps, s.conn))).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
    const original = await peer.dump(s.phone, { ignoreSync: true });
    const r = await push(s.deps, s.conn, { confirm: true });
    expect(r.lost).toMatch(/^4 reviews made on the phone since /);
    const backup = s.deps.backups.get(r.backups[0]!);
    expect(backup.source).toBe('phone');
    const restored = path.join(root, 'guard-push-restored', 'collection.anki2');
    copyCollection(backup.collectionPath, restored);
    expect(await peer.dump(restored, { ignoreSync: true })).toEqual(original);
    await s.close();
  });

  it('media of the live collection: a pull adds the phone’s collection.media files to the desktop; a push carries the desktop’s files the phone lacks, which Anki’s import puts in place', async () => {
    const s = await fresh('media');
    const png = (n: number) => Buffer.from(`\x89PNG fake image ${n} `.repeat(50 + n)).toString('base64');
    // both start with one shared file
    await peer.modify(s.desktop, [{ op: 'addMedia', name: 'shared.png', base64: png(0) }]);
    await peer.modify(s.phone, [{ op: 'addMedia', name: 'shared.png', base64: png(0) }]);
    expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
    // the phone adds a picture and studies; a pull brings both to the desktop
    await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'addMedia', name: 'from-phone.png', base64: png(1) }, { op: 'review', count: 2 }]);
    await pull(s.deps, s.conn);
    const deskMedia = path.join(path.dirname(s.desktop), 'collection.media');
    expect(readdirSync(deskMedia).sort()).toEqual(['from-phone.png', 'shared.png']);
    expect((await peer.dump(s.desktop)).media).toEqual((await peer.dump(s.phone)).media);
    // the desktop adds one; the package carries only that one, and Anki's import adds it
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'addMedia', name: 'from-desktop.png', base64: png(2) }, { op: 'review', count: 1 }]);
    const r = await push(s.deps, s.conn);
    const pkg = path.join(s.phoneRoot, r.phonePath as string);
    const { openPackage } = await import('../../src/apkg/package/index.js');
    await using opened = await openPackage(pkg);
    expect(opened.media.map((m) => m.name)).toEqual(['from-desktop.png']);
    await peer.importPackage({ path: s.phone, pkg, kind: 'colpkg' });
    expect(readdirSync(path.join(path.dirname(s.phone), 'collection.media')).sort()).toEqual(['from-desktop.png', 'from-phone.png', 'shared.png']);
    expect((await peer.dump(s.phone)).media).toEqual((await peer.dump(s.desktop)).media);
    expect((await inspect(s.deps, s.conn, 'dev1')).state).toBe('in-step');
    await s.close();
  });
});
