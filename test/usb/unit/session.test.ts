import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Op, Rc } from '../../../src/usb/mtp/codes.js';
import { MtpSession, bufferSource } from '../../../src/usb/mtp/session.js';
import { openMtpTransport } from '../../../src/usb/mtp-transport.js';
import { safeWrite, recoverPending, isIncomplete, markerName } from '../../../src/usb/safe-write.js';
import { UsbErrors } from '../../../src/errors/codes/usb.js';
import { FakeMtpDevice } from '../support/fake-mtp-device.js';
import type { Source } from '../../../src/usb/transport.js';

const source = (b: Buffer): Source => ({ size: b.length, open: async function* () { for (let o = 0; o < b.length; o += 100_000) yield b.subarray(o, o + 100_000); } });
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('MTP session against a scripted device', () => {
  it('opens a session, reads device info, lists, reads and writes', async () => {
    const dev = new FakeMtpDevice();
    const folder = dev.addFile(0, 'AnkiDroid', '', true);
    dev.addFile(folder, 'collection.anki2', 'hello');
    const s = await MtpSession.open(dev);
    expect(s.deviceInfo.manufacturer).toBe('FakeCo');
    expect(s.deviceInfo.serialNumber).toBe('FAKE123');
    const t = await openMtpTransport(s);
    expect((await t.list('')).map((e) => e.name)).toEqual(['AnkiDroid']);
    const parts: Buffer[] = [];
    await t.read('AnkiDroid/collection.anki2', (c) => void parts.push(c));
    expect(Buffer.concat(parts).toString()).toBe('hello');
    const big = randomBytes(1_300_000);
    await t.write('AnkiDroid/big.bin', source(big));
    // data phases go out in transfers of at most 512 KiB (QEMU's usb-mtp limit)
    expect(dev.maxOut).toBeLessThanOrEqual(512 * 1024);
    const back: Buffer[] = [];
    await t.read('AnkiDroid/big.bin', (c) => void back.push(c));
    expect(sha(Buffer.concat(back))).toBe(sha(big));
    await t.close();
    expect(dev.closed).toBe(true);
  });

  it('closes a stale session left open and opens a new one', async () => {
    const dev = new FakeMtpDevice();
    const first = await MtpSession.open(dev);
    void first; // never closed, like a crashed program
    const second = await MtpSession.open(dev);
    expect(second.deviceInfo.model).toBe('Fake 1');
  });

  it('maps response codes to catalogued errors', async () => {
    const dev = new FakeMtpDevice();
    const s = await MtpSession.open(dev);
    dev.faults.rcFor = { op: Op.GetStorageIDs, rc: Rc.AccessDenied };
    await expect(s.storageIds()).rejects.toMatchObject({ code: UsbErrors.LOCKED.code });
    dev.faults.rcFor = { op: Op.GetObject, rc: Rc.StoreNotAvailable };
    await expect(s.getObject(1, () => undefined)).rejects.toMatchObject({ code: UsbErrors.LOCKED.code });
    await expect(s.objectInfo(999)).rejects.toMatchObject({ code: UsbErrors.NOT_FOUND.code });
    dev.faults.rcFor = { op: Op.SendObjectInfo, rc: Rc.StoreFull };
    await expect(s.sendObject(0x10001, 0xffffffff, 'x', bufferSource(Buffer.from('x')))).rejects.toMatchObject({ code: UsbErrors.STORAGE_FULL.code });
    dev.faults.rcFor = { op: Op.SendObjectInfo, rc: Rc.StoreReadOnly };
    await expect(s.sendObject(0x10001, 0xffffffff, 'x', bufferSource(Buffer.from('x')))).rejects.toMatchObject({ code: UsbErrors.READ_ONLY.code });
    // and the session still works afterwards
    expect(await s.storageIds()).toEqual([0x10001]);
  });

  it('reports a phone with no storage as locked', async () => {
    const dev = new FakeMtpDevice();
    const s = await MtpSession.open(dev);
    dev.faults.rcFor = { op: Op.GetStorageIDs, rc: Rc.AccessDenied };
    await expect(openMtpTransport(s)).rejects.toMatchObject({ code: UsbErrors.LOCKED.code, hint: expect.stringMatching(/Unlock your phone/) });
  });

  it('turns a timeout into TIMEOUT, sends a class Cancel request and recovers', async () => {
    const dev = new FakeMtpDevice();
    const s = await MtpSession.open(dev);
    dev.faults.nextInError = 'timeout';
    await expect(s.storageIds()).rejects.toMatchObject({ code: UsbErrors.TIMEOUT.code });
    expect(dev.cancelRequests).toBe(1);
    expect(await s.storageIds()).toEqual([0x10001]);
  });

  it('turns a malformed response into PROTOCOL and recovers', async () => {
    const dev = new FakeMtpDevice();
    const s = await MtpSession.open(dev);
    dev.faults.garbageResponse = true;
    await expect(s.storageIds()).rejects.toMatchObject({ code: UsbErrors.PROTOCOL.code });
    expect(await s.storageIds()).toEqual([0x10001]);
  });

  it('reports an unplug during a transfer as DISCONNECTED and refuses further work', async () => {
    const dev = new FakeMtpDevice();
    const s = await MtpSession.open(dev);
    const t = await openMtpTransport(s);
    dev.faults.disconnectAfterBytes = 300_000 + (dev as unknown as { bytesMoved: number }).bytesMoved;
    await expect(t.write('big.bin', source(randomBytes(1_000_000)))).rejects.toMatchObject({ code: UsbErrors.DISCONNECTED.code });
    await expect(t.list('')).rejects.toMatchObject({ code: UsbErrors.DISCONNECTED.code });
    await s.close();
  });
});

describe('safe write over MTP (scripted device)', () => {
  it('with rename: temp, verify, rename; the old file is replaced and no temp is left', async () => {
    const dev = new FakeMtpDevice();
    const t = await openMtpTransport(await MtpSession.open(dev));
    await t.write('c.colpkg', source(Buffer.from('old')));
    const data = randomBytes(700_000);
    const r = await safeWrite(t, 'c.colpkg', source(data));
    expect(r.method).toBe('rename');
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);
    const back: Buffer[] = [];
    await t.read('c.colpkg', (c) => void back.push(c));
    expect(sha(Buffer.concat(back))).toBe(sha(data));
  });

  it('without rename: copy-verify fallback, and an interrupted write is detected and recovered', async () => {
    const ops = new FakeMtpDevice().operations.filter((o) => o !== Op.SetObjectPropValue);
    const dev = new FakeMtpDevice(ops);
    const t = await openMtpTransport(await MtpSession.open(dev));
    expect(t.canRename).toBe(false);
    const data = randomBytes(300_000);
    expect((await safeWrite(t, 'c.colpkg', source(data))).method).toBe('copy-verify');
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);

    // simulate an unplug after the marker was verified and while NAME was being written
    const newer = randomBytes(200_000);
    await t.write(markerName('c.colpkg', sha(newer), newer.length), source(newer));
    await t.remove('c.colpkg');
    await t.write('c.colpkg', source(newer.subarray(0, 1000)));
    expect(isIncomplete(await t.list(''), 'c.colpkg')).toBe(true);
    const actions = await recoverPending(t, '');
    expect(actions).toEqual([{ path: 'c.colpkg', action: 'restored-from-marker' }]);
    const back: Buffer[] = [];
    await t.read('c.colpkg', (c) => void back.push(c));
    expect(sha(Buffer.concat(back))).toBe(sha(newer));
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);
  });

  it('a failed verification leaves the old file untouched', async () => {
    const dev = new FakeMtpDevice();
    const t = await openMtpTransport(await MtpSession.open(dev));
    await t.write('c.colpkg', source(Buffer.from('old')));
    const data = randomBytes(1000);
    const lying: Source = { size: data.length, open: async function* () { yield data.subarray(0, 500); } };
    await expect(safeWrite(t, 'c.colpkg', lying)).rejects.toMatchObject({ code: UsbErrors.VERIFY_FAILED.code });
    const back: Buffer[] = [];
    await t.read('c.colpkg', (c) => void back.push(c));
    expect(Buffer.concat(back).toString()).toBe('old');
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);
  });

  it('refuses paths that climb out of the storage', async () => {
    const t = await openMtpTransport(await MtpSession.open(new FakeMtpDevice()));
    await expect(t.stat('../etc/passwd')).rejects.toMatchObject({ code: UsbErrors.BAD_PATH.code });
    await expect(safeWrite(t, 'a//b', source(Buffer.from('x')))).rejects.toMatchObject({ code: UsbErrors.BAD_PATH.code });
  });
});
