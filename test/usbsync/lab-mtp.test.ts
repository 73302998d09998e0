// USB sync end to end over MTP in the QEMU lab (one guest boot): the room runs in the guest as the
// daemon runs it (plugin + PhoneLink on node-usb's hot-plug watcher, ankibridge's own MTP
// initiator), QEMU's usb-mtp phone is plugged and unplugged over QMP, and the real Anki peer on
// the host makes and edits both collections. Proven here, over MTP:
//  - first meeting of equal collections → base; phone ahead → pull (desktop = phone, media too);
//    desktop ahead → push (real Anki imports the package to the desktop's dump, media too);
//    waiting for import until the phone holds it; in step after;
//  - both changed → merge → both ends equal the oracle (the same edits through Anki's sync server);
//  - the guard in both directions: refused without confirmation, confirmed → the overwritten
//    side is in the backup store and restores exactly; a schema change → cannot merge;
//  - real unplugs (QMP device_del at a chosen byte of a transfer): during a push's upload and
//    during its final-name write, during a merge's upload, while a pull reads the phone's media,
//    while the phone's collection is read → a typed error, the journal settled, no review lost,
//    and the next plug-in completes the sync;
//  - timing: plug-in → decision ready for a 20k-card collection (reported with the load).
// QEMU's usb-mtp cannot rename (the copy-verify path of safe-write is used) and stalls or aborts
// on uploads of some sizes ((size + 12) % 64 < 12): the room refuses such an upload before it
// reaches QEMU, and the test retries with a small extra media file on the desktop (another
// package size, the same collection), and says so.
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, startSyncServer, type CanonicalDump } from '../peer/peer.js';
import { comparable } from '../merge/harness.js';
import { startLab, type Lab } from '../lab/harness/lab.js';
import { gadgetPhone, type GadgetMode } from '../lab/harness/gadget.js';
import { GUIDANCE } from '../../src/usb/identify.js';
import { pushedName } from '../../src/sync/usb-sync/transactions.js';
import { startRoom, type JobResult, type Room, type RoomDecision } from './lab/room.js';

let lab: Lab;
let peer: AnkiPeer;
let room: Room;
let seed: string;
const strip = (d: CanonicalDump) => comparable(d);
/** A media file that does not compress (packages store media zstd-compressed; a cut point needs real bytes). */
const png = (n: number, kb = 2) => randomBytes(kb * 1024 + n * 37).toString('base64');

interface Phone {
  serial: string;
  dir: string;
  col: string;
  media: string;
}

function newPhone(serial: string, from: string): Phone {
  const dir = lab.phoneDir(serial.toLowerCase());
  const col = path.join(dir, 'AnkiDroid', 'collection.anki2');
  mkdirSync(path.dirname(col), { recursive: true });
  copyFileSync(from, col);
  return { serial, dir, col, media: path.join(dir, 'AnkiDroid', 'collection.media') };
}

/**
 * Pulls the phone and moves its storage to a fresh copy. QEMU 7.2's usb-mtp has no unrealize: a
 * device pulled with a session open leaves its inotify watches on freed memory, and a later change
 * in that folder (an edit made "on the phone", a dump opening its collection) crashes QEMU. The
 * next plug-in wears the same serial, so the daemon sees the same phone.
 */
async function unplug(ph: Phone): Promise<void> {
  await room.unplug(ph.serial);
  const dir = lab.phoneDir(ph.serial.toLowerCase());
  cpSync(ph.dir, dir, { recursive: true });
  ph.dir = dir;
  ph.col = path.join(dir, 'AnkiDroid', 'collection.anki2');
  ph.media = path.join(dir, 'AnkiDroid', 'collection.media');
}

/** A host-side copy of the desktop as the guest has it now (for dumps and for the next edit). */
async function desktopHere(name: string, withMedia = false): Promise<string> {
  const to = path.join(lab.workDir, 'desk', name, 'collection.anki2');
  await room.desktopOut(to, withMedia);
  return to;
}

async function setDesktop(file: string): Promise<void> {
  const media = path.join(path.dirname(file), 'collection.media');
  await room.useDesktop(file, existsSync(media) ? media : undefined);
}

async function state(serial: string): Promise<string> {
  const d = await room.driver.value<{ state: string }>('refresh', { deviceId: `usb-${serial}` });
  return d.state;
}

/**
 * Runs a job that uploads to the phone. When QEMU's usb-mtp stalls on the package's size (its
 * bug, not ours), a small media file on the desktop changes the size — not the collection, so
 * every comparison stays valid — the phone is plugged in again and the job runs again.
 */
async function uploading(ph: Phone, run: () => Promise<JobResult>): Promise<JobResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= 4 || !/SendObject.*stall|STALL/i.test((e as Error).message)) throw e;
      console.log(`USBSYNC LAB: QEMU usb-mtp upload-size stall (lab limitation), attempt ${attempt}; a desktop media file changes the package size`);
      await room.driver.value('desktop-add-media', { name: `size-${attempt}.bin`, bytes: 1 + attempt * 7 });
      await unplug(ph);
      await room.plug(ph.dir, ph.serial);
    }
  }
}

beforeAll(async () => {
  [lab, peer] = await Promise.all([startLab(), AnkiPeer.start({ fakeClock: true })]);
  room = await startRoom(lab);
  seed = path.join(lab.workDir, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 20, seed: 31, reviewsPerCard: 1 });
}, 1_500_000);
afterEach(async () => {
  // a failed test must not leave its phone plugged for the next one
  for (const serial of room?.plugged() ?? []) await room.unplug(serial).catch(() => undefined);
});
afterAll(async () => {
  await room?.stop();
  await peer?.close();
  await lab?.stop();
});

describe('USB sync over MTP in the lab', () => {
  it('first meeting → base; phone ahead → pull (with media); desktop ahead → push (with media); waiting for import; in step', async () => {
    const ph = newPhone('SYNC1', seed);
    const shared = png(0);
    await peer.modify(ph.col, [{ op: 'addMedia', name: 'shared.png', base64: shared }]);
    const desk0 = path.join(lab.workDir, 'desk0', 'collection.anki2');
    mkdirSync(path.dirname(desk0), { recursive: true });
    copyFileSync(seed, desk0);
    await peer.modify(desk0, [{ op: 'addMedia', name: 'shared.png', base64: shared }]);
    await setDesktop(desk0);

    const first = await room.plug(ph.dir, ph.serial);
    expect(first.decision.state).toBe('in-step');
    expect(first.decision.phoneSource).toContain('live collection in AnkiDroid');

    await unplug(ph);
    await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }, { op: 'addMedia', name: 'from-phone.png', base64: png(1, 300) }]);
    const ahead = await room.plug(ph.dir, ph.serial);
    expect(ahead.decision).toMatchObject({ state: 'phone-ahead', recommended: 'copy-phone-to-desktop' });
    const pulled = await room.job('usb.pull');
    expect(pulled.state).toBe('committed');
    const d1 = await desktopHere('after-pull', true);
    expect(strip(await peer.dump(d1, { ignoreSync: true }))).toEqual(strip(await peer.dump(ph.col, { ignoreSync: true })));
    expect((await peer.dump(d1)).media).toEqual((await peer.dump(ph.col)).media);
    expect((await room.driver.value<{ state: string }>('decision')).state).toBe('in-step');

    // desktop ahead: Anki Desktop studies and adds a picture; the package carries only that picture
    await peer.modify(d1, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }, { op: 'addMedia', name: 'from-desktop.png', base64: png(2, 200) }]);
    await setDesktop(d1);
    expect(await state(ph.serial)).toBe('desktop-ahead');
    const pushed = await uploading(ph, () => room.job('usb.push'));
    expect(pushed.phonePath).toBe(`Download/${pushedName('User 1')}`);
    expect(pushed.message).toContain('Import');
    await unplug(ph);
    const pkg = path.join(ph.dir, 'Download', pushedName('User 1'));
    const probe = path.join(lab.workDir, 'probe-push', 'collection.anki2');
    await peer.importPackage({ path: probe, pkg, kind: 'colpkg' });
    const deskNow = await desktopHere('after-push', true);
    expect(strip(await peer.dump(probe, { ignoreSync: true }))).toEqual(strip(await peer.dump(deskNow, { ignoreSync: true })));
    expect(readdirSync(path.join(path.dirname(probe), 'collection.media')).filter((n) => !n.startsWith('size-'))).toEqual(['from-desktop.png']);

    expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('waiting-for-import');
    await unplug(ph);
    await peer.importPackage({ path: ph.col, pkg, kind: 'colpkg' }); // the person imports it in AnkiDroid
    expect(readdirSync(ph.media).filter((n) => !n.startsWith('size-')).sort()).toEqual(['from-desktop.png', 'from-phone.png', 'shared.png']);
    expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
    await unplug(ph);
  }, 900_000);

  it('both changed → merge: the desktop and (after the import) the phone equal the sync-server oracle; the guard refuses either overwrite', async () => {
    // Anki's sync server refuses clients whose clock is off: the oracle runs on a real-clock peer.
    await using rpeer = await AnkiPeer.start();
    const server = await startSyncServer({ users: [{ user: 'u', password: 'p' }] });
    try {
      const { hkey } = await rpeer.syncLogin({ endpoint: server.endpoint, user: 'u', password: 'p' });
      const auth = { endpoint: server.endpoint, hkey };
      const a = path.join(lab.workDir, 'oracle', 'a', 'collection.anki2');
      const b = path.join(lab.workDir, 'oracle', 'b', 'collection.anki2');
      mkdirSync(path.dirname(a), { recursive: true });
      copyFileSync(seed, a);
      await rpeer.fullSync({ path: a, ...auth, direction: 'upload' });
      await rpeer.fullSync({ path: b, ...auth, direction: 'download' });
      const ph = newPhone('MERGE1', b);
        await setDesktop(a);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
      await unplug(ph);

      const desk = path.join(lab.workDir, 'merge-desk', 'collection.anki2');
      mkdirSync(path.dirname(desk), { recursive: true });
      copyFileSync(a, desk);
      const notes = (await rpeer.query(desk, 'select id from notes order by id limit 3')) as Array<{ id: number } | number[]>;
      const nid = (r: { id: number } | number[]): number => (Array.isArray(r) ? (r[0] as number) : r.id);
      await rpeer.modify(desk, [{ op: 'advanceClock', seconds: 2 }, { op: 'review', count: 5 }, { op: 'editNote', noteId: nid(notes[0]!), field: 0, value: 'desktop edit' }, { op: 'addNotes', count: 2 }]);
      await rpeer.modify(ph.col, [{ op: 'advanceClock', seconds: 2 }, { op: 'review', count: 7 }, { op: 'editNote', noteId: nid(notes[1]!), field: 0, value: 'phone edit' }, { op: 'deleteNotes', noteIds: [nid(notes[2]!)] }]);
      await setDesktop(desk);
      const both = await room.plug(ph.dir, ph.serial);
      expect(both.decision).toMatchObject({ state: 'both-changed', recommended: 'sync-both' });
      // the guard, each direction, before anything is written
      expect((await room.jobError('usb.pull')).code).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
      expect((await room.jobError('usb.push')).code).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
      expect(strip(await rpeer.dump(await desktopHere('merge-unchanged'), { ignoreSync: true }))).toEqual(strip(await rpeer.dump(desk, { ignoreSync: true })));
      expect(existsSync(path.join(ph.dir, 'Download'))).toBe(false);

      // the oracle: the same edits through a real sync server
      copyFileSync(desk, a);
      rmSync(`${b}-wal`, { force: true });
      copyFileSync(ph.col, b);
      const merged = await uploading(ph, () => room.job('usb.merge'));
      expect(merged.state).toBe('committed');
      for (const f of [a, b, a]) await rpeer.sync({ path: f, ...auth });
      const oracle = strip(await rpeer.dump(a, { ignoreSync: true }));
      expect(strip(await rpeer.dump(await desktopHere('merged'), { ignoreSync: true }))).toEqual(oracle);
      expect((await room.driver.value<{ state: string }>('decision')).state).toBe('waiting-for-import');
      await unplug(ph);
      await rpeer.importPackage({ path: ph.col, pkg: path.join(ph.dir, merged.phonePath as string), kind: 'colpkg' });
      expect(strip(await rpeer.dump(ph.col, { ignoreSync: true }))).toEqual(oracle);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
      await unplug(ph);
    } finally {
      await server.stop();
    }
  }, 900_000);

  it('guard both ways: a confirmed pull and a confirmed push name the loss, back the overwritten side up first, and the backups restore exactly; a schema change → cannot merge', async () => {
    const ph = newPhone('GUARD1', seed);
    const desk = path.join(lab.workDir, 'guard-desk', 'collection.anki2');
    mkdirSync(path.dirname(desk), { recursive: true });
    copyFileSync(seed, desk);
    await setDesktop(desk);
    expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
    await unplug(ph);

    // both study: a pull would lose the desktop's 3 reviews
    await peer.modify(desk, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
    await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 2 }]);
    await setDesktop(desk);
    const d = (await room.plug(ph.dir, ph.serial)).decision;
    const pullAction = d.actions.find((x) => x.id === 'copy-phone-to-desktop');
    expect(pullAction?.needsConfirmation).toBe(true);
    expect(pullAction?.guard).toMatch(/^3 reviews made on this computer since \d+ \w+( \d{4})? will be lost$/);
    expect(d.actions.find((x) => x.id === 'copy-desktop-to-phone')?.guard).toMatch(/^2 reviews made on the phone since /);
    const refused = await room.jobError('usb.pull');
    expect(refused.code).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
    expect(refused.message).toContain('3 reviews made on this computer');
    const deskOriginal = await peer.dump(desk, { ignoreSync: true });
    const pulled = await room.job('usb.pull', { confirm: true });
    expect(pulled.lost).toBe(pullAction?.guard);
    const restored = path.join(lab.workDir, 'guard-restored-desktop', 'collection.anki2');
    expect(await room.backupOut(pulled.backups[0]!, restored)).toMatchObject({ reason: 'pre-overwrite' });
    expect(await peer.dump(restored, { ignoreSync: true })).toEqual(deskOriginal);
    expect(strip(await peer.dump(await desktopHere('guard-pulled'), { ignoreSync: true }))).toEqual(strip(await peer.dump(ph.col, { ignoreSync: true })));
    await unplug(ph);

    // the other way: the phone studies 4, the desktop 1; a push would lose the phone's 4
    const desk2 = await desktopHere('guard-desk2');
    await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }]);
    await peer.modify(desk2, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 1 }]);
    await setDesktop(desk2);
    expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('both-changed');
    expect((await room.jobError('usb.push')).code).toBe('ANKIBRIDGE_ERR_USBSYNC_GUARD_REFUSED');
    const phoneOriginal = await peer.dump(ph.col, { ignoreSync: true });
    const pushed = await uploading(ph, () => room.job('usb.push', { confirm: true }));
    expect(pushed.lost).toMatch(/^4 reviews made on the phone since /);
    const restoredPhone = path.join(lab.workDir, 'guard-restored-phone', 'collection.anki2');
    expect(await room.backupOut(pushed.backups[0]!, restoredPhone)).toMatchObject({ source: 'phone' });
    expect(await peer.dump(restoredPhone, { ignoreSync: true })).toEqual(phoneOriginal);
    await unplug(ph);

    // schema change on the desktop with changes on both sides: no merge, choose a side
    const sc = newPhone('SCHEMA1', seed);
    const desk3 = path.join(lab.workDir, 'schema-desk', 'collection.anki2');
    mkdirSync(path.dirname(desk3), { recursive: true });
    copyFileSync(seed, desk3);
    await setDesktop(desk3);
    expect((await room.plug(sc.dir, sc.serial)).decision.state).toBe('in-step');
    await unplug(sc);
    await peer.modify(desk3, [{ op: 'advanceClock', seconds: 60 }, { op: 'changeSchema' }, { op: 'review', count: 2 }]);
    await peer.modify(sc.col, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 3 }]);
    await setDesktop(desk3);
    const cm = (await room.plug(sc.dir, sc.serial)).decision;
    expect(cm.state).toBe('cannot-merge');
    expect(cm.actions.find((x) => x.id === 'sync-both')?.available).toBe(false);
    expect((await room.jobError('usb.merge')).code).toBe('ANKIBRIDGE_ERR_USBSYNC_CANNOT_MERGE');
    await unplug(sc);
  }, 900_000);

  describe('a real unplug (QMP device_del) in the middle of a transfer', () => {
    /**
     * Arms a cut point, starts the job, unplugs the phone when the guest reaches it, and returns
     * the job's error. A job that ends before its cut point because its upload has a size QEMU's
     * usb-mtp stalls on (refused in the guest, see uploading()) is run again with another package
     * size; any other early end fails the test with the job's own error.
     */
    async function unplugDuring(ph: Phone, kind: 'usb.pull' | 'usb.push' | 'usb.merge', cut: { op: 'write' | 'read'; match: string; nth?: number; afterBytes: number }): Promise<{ code: string | null; message: string }> {
      for (let attempt = 1; ; attempt++) {
        await room.driver.value('cut', cut);
        const from = room.driver.mark();
        const job = room.jobError(kind);
        const reached = room.waitEvent('cut', () => true, { from, timeoutMs: 240_000 }).then(() => true);
        reached.catch(() => undefined); // settles on its own after the job ended first
        if (await Promise.race([reached, job.then(() => false)])) {
          await unplug(ph);
          return job;
        }
        const early = await job;
        if (attempt >= 4 || !/SendObject.*stall|STALL/i.test(early.message)) {
          throw new Error(`${kind} ended before its cut point: ${early.code ?? ''} ${early.message}`);
        }
        console.log(`USBSYNC LAB: QEMU usb-mtp upload-size stall (lab limitation) before a cut point, attempt ${attempt}; a desktop media file changes the package size`);
        await room.driver.value('desktop-add-media', { name: `size-cut-${attempt}.bin`, bytes: 1 + attempt * 7 });
        await unplug(ph);
        await room.plug(ph.dir, ph.serial);
      }
    }
    const revlogIds = async (file: string): Promise<number[]> => (await peer.dump(file, { ignoreSync: true })).revlog.map((r) => r.id).sort((a, b) => a - b);

    it('push: unplugged during the upload, then during the final-name write → rolled back, the phone untouched, no partial package under the final name; re-plug completes', async () => {
      const ph = newPhone('CUTPUSH', seed);
      const desk = path.join(lab.workDir, 'cut-push', 'collection.anki2');
      mkdirSync(path.dirname(desk), { recursive: true });
      copyFileSync(seed, desk);
      await setDesktop(desk);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
      await unplug(ph);
      await peer.modify(desk, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }, { op: 'addMedia', name: 'big.png', base64: png(3, 400) }]);
      await setDesktop(desk);
      const phoneReviews = await revlogIds(ph.col);
      const final = (): string => path.join(ph.dir, 'Download', pushedName('User 1'));
      // 1: the temporary upload (the first write of the package), 64 KB in
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('desktop-ahead');
      const e1 = await unplugDuring(ph, 'usb.push', { op: 'write', match: '.colpkg', nth: 1, afterBytes: 64 * 1024 });
      expect(e1.code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      const j1 = (await room.journal(5)).find((t) => t.kind === 'usb-push');
      expect(j1).toMatchObject({ state: 'rolled-back' });
      expect(j1?.note).toContain("phone's collection was not changed");
      expect(existsSync(final())).toBe(false);
      expect(await revlogIds(ph.col)).toEqual(phoneReviews);
      // 2: the final name, written again after the verified temporary (QEMU's phone cannot rename)
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('desktop-ahead');
      const e2 = await unplugDuring(ph, 'usb.push', { op: 'write', match: '.colpkg', nth: 2, afterBytes: 64 * 1024 });
      expect(e2.code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      expect((await room.journal(5)).find((t) => t.kind === 'usb-push')).toMatchObject({ state: 'rolled-back' });
      // whatever is under the final name now is marked incomplete by the verified marker beside it
      const left = readdirSync(path.join(ph.dir, 'Download'));
      expect(left.some((n) => n.startsWith('ankibridge-') && n.endsWith('.part'))).toBe(true);
      expect(await revlogIds(ph.col)).toEqual(phoneReviews);
      // re-plug: still desktop ahead; the push finishes the leftover first, then completes
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('desktop-ahead');
      await uploading(ph, () => room.job('usb.push'));
      expect(readdirSync(path.join(ph.dir, 'Download'))).toEqual([pushedName('User 1')]);
      await unplug(ph);
      const probe = path.join(lab.workDir, 'cut-push-probe', 'collection.anki2');
      await peer.importPackage({ path: probe, pkg: final(), kind: 'colpkg' });
      expect(strip(await peer.dump(probe, { ignoreSync: true }))).toEqual(strip(await peer.dump(desk, { ignoreSync: true })));
    }, 900_000);

    it('merge: unplugged during the upload → the desktop keeps the merge (both sides’ reviews), the phone is untouched, re-plug offers it again', async () => {
      const ph = newPhone('CUTMERGE', seed);
      const desk = path.join(lab.workDir, 'cut-merge', 'collection.anki2');
      mkdirSync(path.dirname(desk), { recursive: true });
      copyFileSync(seed, desk);
      await setDesktop(desk);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
      await unplug(ph);
      // a picture on the desktop: the merged package carries it, so the upload is long enough to cut into
      await peer.modify(desk, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }, { op: 'addMedia', name: 'desk.png', base64: png(4, 200) }]);
      await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 2 }]);
      await setDesktop(desk);
      const d0 = await revlogIds(desk);
      const p0 = await revlogIds(ph.col);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('both-changed');
      const e = await unplugDuring(ph, 'usb.merge', { op: 'write', match: '.colpkg', nth: 1, afterBytes: 16 * 1024 });
      expect(e.code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      const txn = (await room.journal(10)).find((t) => t.kind === 'usb-merge');
      expect(txn?.note).toContain('The desktop holds the merge');
      const d1 = new Set(await revlogIds(await desktopHere('cut-merged')));
      for (const id of [...d0, ...p0]) expect(d1.has(id)).toBe(true);
      expect(await revlogIds(ph.col)).toEqual(p0);
      const again = await room.plug(ph.dir, ph.serial);
      expect(again.decision.recommended).toBe('sync-both');
      await uploading(ph, () => room.job('usb.merge'));
      expect((await room.driver.value<{ state: string }>('decision')).state).toBe('waiting-for-import');
      await unplug(ph);
    }, 900_000);

    it('pull: unplugged while the phone’s collection is read, then while its media are copied → nothing changed on the desktop, the journal says rolled back; re-plug completes', async () => {
      const ph = newPhone('CUTPULL', seed);
      const desk = path.join(lab.workDir, 'cut-pull', 'collection.anki2');
      mkdirSync(path.dirname(desk), { recursive: true });
      copyFileSync(seed, desk);
      await setDesktop(desk);
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('in-step');
      await unplug(ph);
      await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 5 }, { op: 'addMedia', name: 'phone-photo.jpg', base64: png(5, 500) }]);
      const before = strip(await peer.dump(await desktopHere('cut-pull-before'), { ignoreSync: true }));
      const mediaBefore = await room.driver.value<string[]>('desktop-media');
      // 1: while the pull reads the phone's collection (before any journal step: nothing to undo)
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('phone-ahead');
      const e1 = await unplugDuring(ph, 'usb.pull', { op: 'read', match: 'collection.anki2', nth: 1, afterBytes: 32 * 1024 });
      expect(e1.code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      expect(strip(await peer.dump(await desktopHere('cut-pull-1'), { ignoreSync: true }))).toEqual(before);
      // 2: while the phone's media are copied into the desktop's media folder (inside the desktop replace)
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('phone-ahead');
      const e2 = await unplugDuring(ph, 'usb.pull', { op: 'read', match: 'collection.media/', nth: 1, afterBytes: 64 * 1024 });
      expect(e2.code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      const txn = (await room.journal(10)).find((t) => t.kind === 'usb-pull');
      expect(txn).toMatchObject({ state: 'rolled-back' });
      expect(txn?.note).toContain('The desktop collection is the one from before');
      expect(strip(await peer.dump(await desktopHere('cut-pull-2'), { ignoreSync: true }))).toEqual(before);
      expect(await room.driver.value<string[]>('desktop-media')).toEqual(mediaBefore);
      // re-plug: the pull completes, media included
      expect((await room.plug(ph.dir, ph.serial)).decision.state).toBe('phone-ahead');
      await room.job('usb.pull');
      const after = await desktopHere('cut-pull-done', true);
      expect(strip(await peer.dump(after, { ignoreSync: true }))).toEqual(strip(await peer.dump(ph.col, { ignoreSync: true })));
      expect(readdirSync(path.join(path.dirname(after), 'collection.media'))).toContain('phone-photo.jpg');
      await unplug(ph);
    }, 900_000);
  });

  it('a phone in charging-only, PTP or ADB-only mode, or locked, gets a decision that says what to do; unlocked, it is read (gadget phone, 18d1:4ee1)', async () => {
    const phone = gadgetPhone(lab);
    const store = '/tmp/usbsync-gadget';
    const handoff = path.join(lab.xchg, 'gadget-seed.anki2');
    copyFileSync(seed, handoff);
    await lab.run(`mkdir -p ${store}/AnkiDroid ${store}/Download && cp '${handoff}' ${store}/AnkiDroid/collection.anki2`, { timeoutMs: 120_000 });
    await phone.setup(store, { serial: 'GADGET42', product: 'Pixel Lab' });
    await setDesktop(seed);
    const id = 'usb-GADGET42';
    const next = async (from: number, match: (d: RoomDecision) => boolean = () => true): Promise<RoomDecision> =>
      room.waitEvent<RoomDecision>('decision', (d) => d.deviceId === id && match(d), { from, timeoutMs: 120_000 });
    const devices = () => room.driver.value<Array<{ id: string; state: string; detail?: string }>>('devices');
    const modes: Array<[GadgetMode, string, string]> = [
      ['charging', 'charging-only', 'only charging'],
      ['ptp', 'ptp', 'Transfer photos (PTP)'],
      ['adb', 'adb-only', 'USB debugging only'],
    ];
    let from = room.driver.mark();
    try {
      for (const [mode, word, says] of modes) {
        if (mode === 'charging') await phone.plug('charging');
        else await phone.setMode(mode);
        const d = await next(from, (x) => x.state === 'phone-not-ready' && x.headline.includes(says));
        expect(d.headline).toContain(GUIDANCE.FILE_TRANSFER);
        expect(d.actions.every((a) => !a.available)).toBe(true);
        expect((await devices()).find((x) => x.id === id)).toMatchObject({ state: word, detail: d.headline });
        from = room.driver.mark();
      }
      // File transfer, but the screen is locked: the session waits open; the unlock makes it readable
      await phone.setMode('locked');
      const locked = await next(from, (x) => x.headline === GUIDANCE.UNLOCK);
      expect(locked.state).toBe('phone-not-ready');
      expect((await devices()).find((x) => x.id === id)).toMatchObject({ state: 'locked' });
      from = room.driver.mark();
      await phone.unlock();
      const read = await next(from, (x) => x.state !== 'phone-not-ready');
      expect(read.state).toBe('in-step'); // the gadget holds the seed, as the desktop does
      expect(read.phoneSource).toContain('live collection in AnkiDroid');
      from = room.driver.mark();
      await phone.unplug();
      await room.waitEvent('decision-cleared', (e: { deviceId: string }) => e.deviceId === id, { from, timeoutMs: 60_000 });
      expect((await devices()).find((x) => x.id === id)).toBeUndefined();
    } finally {
      if ((await phone.status()).plugged) await phone.unplug();
    }
  }, 900_000);

  it('timing: plug-in → decision ready for a 20k-card collection (reported with the load)', async () => {
    const big = path.join(lab.workDir, 'big-seed.anki2');
    const made = await peer.createCollection({ path: big, notes: 10_000, seed: 41, noteTypes: ['reversed'], reviewsPerCard: 3, days: 200 });
    expect(made.cards).toBe(20_000);
    const ph = newPhone('BIG20K', big);
    await setDesktop(big);
    // first plug-in: a first meeting of equal collections (both digests, cold caches)
    const first = await room.plug(ph.dir, ph.serial);
    expect(first.decision.state).toBe('in-step');
    const runs: Array<{ ms: number; host: number; stages: string }> = [];
    for (let i = 0; i < 3; i++) {
      await unplug(ph);
      await peer.modify(ph.col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 20 }]);
      const r = await room.plug(ph.dir, ph.serial);
      expect(r.decision.state).toBe('phone-ahead');
      const t = r.timing;
      runs.push({ ms: t?.msFromUsb ?? NaN, host: r.hostMs, stages: `settle ${t?.settleMs}, open ${t?.openMs}, read ${t?.readMs}: ${r.stages.map((s) => `${s.stage} ${s.ms}`).join(', ')}` });
    }
    await unplug(ph);
    const best = [...runs].sort((a, b) => a.ms - b.ms)[0]!;
    const load = loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(
      `USBSYNC LAB TIMING (${made.cards} cards, ${made.revlog} reviews; phone ahead by 20 reviews; TCG guest; load ${load}):\n` +
        `  first meeting (cold caches, both digests): ${first.timing?.msFromUsb} ms from libusb attach, ${first.hostMs.toFixed(0)} ms from QMP plug [${first.stages.map((x) => `${x.stage} ${x.ms}`).join(', ')}]\n` +
        runs.map((r, i) => `  run ${i + 1}: ${r.ms} ms from libusb attach, ${r.host.toFixed(0)} ms from QMP plug [${r.stages}]`).join('\n') +
        `\n  best: ${best.ms} ms (goal < 3000 ms)`,
    );
    // Reported, and held to a generous bound only: the guest is software-emulated on two cores
    // shared with the rest of the suite.
    expect(best.ms).toBeLessThan(30_000);
  }, 1_500_000);
});
