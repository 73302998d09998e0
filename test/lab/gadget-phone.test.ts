/**
 * Lab, phone 2: a USB gadget phone inside the guest (dummy_hcd + FunctionFS + umtprd) wearing a
 * Pixel's ids (18d1:4ee1). It supports rename, so this is where the safe write's main path
 * (temp → verify → rename) runs against a real MTP responder. It also switches between the USB
 * modes Android offers (File transfer, + USB debugging, PTP, ADB only, charging only) and can
 * be a locked phone: each is reported with its guidance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver, type GuestEvent } from './harness/driver.js';
import { gadgetPhone, type GadgetMode, type GadgetPhone } from './harness/gadget.js';
import { LAB_HOOK_TIMEOUT_MS } from './support.js';
import { GUIDANCE } from '../../src/usb/identify.js';

const STORE = '/tmp/gadget-phone';
let lab: Lab;
let driver: Driver;
let phone: GadgetPhone;

beforeAll(async () => {
  lab = await startLab();
  driver = await startDriver(lab);
  phone = gadgetPhone(lab);
  await lab.run(`mkdir -p ${STORE}/Download ${STORE}/AnkiDroid && head -c 3145851 /dev/urandom > ${STORE}/Download/collection-20260822140305.colpkg && printf old > ${STORE}/AnkiDroid/collection.colpkg && head -c 2000000 /dev/urandom > /tmp/new.colpkg`, { timeoutMs: 120_000 });
  await phone.setup(STORE);
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

const guestSha = async (path: string): Promise<string> => (await lab.run(`sha256sum ${path} | cut -d' ' -f1`)).trim();

interface Status {
  state: string;
  guidance: string | null;
  errorCode?: string;
  mode: string;
  rootEntries: string[] | null;
}

describe('USB lab: gadget phone (umtprd on dummy_hcd, 18d1:4ee1)', () => {
  it('is reported as an MTP Android phone, read, and written through the rename path', async () => {
    const from = driver.mark();
    await phone.plug();
    const { event, index } = await driver.waitEvent((e) => e.type === 'arrived', { from, timeoutMs: 120_000 });
    expect(event).toMatchObject({ mode: 'mtp', vid: 0x18d1, pid: 0x4ee1, label: 'Pixel Lab (Google)', serial: 'GADGET01' });
    // string descriptors come from umtprd through FunctionFS on an emulated CPU: slower than usb-mtp
    console.log(`gadget phone: attach -> report ${event.at - event.usbEventAt} ms`);
    expect(event.at - event.usbEventAt).toBeLessThan(10_000); // no hang; timing is the usb-mtp test's (hotplug.test.ts)

    const info = await driver.value<{ canRename: boolean; operations: string[] }>('mtp.open', { serial: 'GADGET01' });
    expect(info.canRename).toBe(true);
    expect(info.operations).toEqual(expect.arrayContaining(['9804', '95c1']));
    const found = await driver.value<{ packages: Array<{ path: string }> }>('fs.find');
    expect(found.packages.map((p) => p.path)).toEqual(expect.arrayContaining(['Download/collection-20260822140305.colpkg', 'AnkiDroid/collection.colpkg']));

    // a 3 MiB download: the transfer that hung with a client asking for more than the container holds
    const got = await driver.value<{ size: number; sha256: string }>('fs.download', { path: 'Download/collection-20260822140305.colpkg', to: '/tmp/got.colpkg' }, 120_000);
    expect(got.sha256).toBe(await guestSha(`${STORE}/Download/collection-20260822140305.colpkg`));

    const w = await driver.value<{ method: string; sha256: string }>('fs.safeWrite', { path: 'AnkiDroid/collection.colpkg', from: '/tmp/new.colpkg' }, 120_000);
    expect(w.method).toBe('rename');
    expect(await guestSha(`${STORE}/AnkiDroid/collection.colpkg`)).toBe(w.sha256);
    expect((await lab.run(`ls ${STORE}/AnkiDroid`)).trim().split('\n')).toEqual(['collection.colpkg']);

    await driver.value('mtp.close');
    await phone.unplug();
    const left = await driver.waitEvent((e) => e.type === 'left', { from: index + 1, timeoutMs: 120_000 });
    expect(left.event.serial).toBe('GADGET01');
  }, 300_000);

  it('each USB mode the phone offers is reported as such, with what the user should do', async () => {
    /** Switches mode on the plugged phone and returns the arrival the watcher reports. */
    const switchTo = async (mode: GadgetMode): Promise<GuestEvent> => {
      const from = driver.mark();
      await phone.setMode(mode);
      const left = await driver.waitEvent((e) => e.type === 'left', { from, timeoutMs: 120_000 });
      const arrived = await driver.waitEvent((e) => e.type === 'arrived', { from: left.index + 1, timeoutMs: 120_000 });
      return arrived.event;
    };
    const status = (): Promise<Status> => driver.value<Status>('phone.status', { serial: 'GADGET01' }, 60_000);

    let from = driver.mark();
    await phone.plug('mtp');
    const mtp = (await driver.waitEvent((e) => e.type === 'arrived', { from, timeoutMs: 120_000 })).event;
    expect(mtp).toMatchObject({ mode: 'mtp', pid: 0x4ee1, hasAdb: false, guidance: null });
    expect(await status()).toMatchObject({ state: 'ready', guidance: null, rootEntries: expect.arrayContaining(['AnkiDroid', 'Download']) });

    // File transfer + USB debugging: the MTP interface and an ADB interface, as a developer's phone shows
    const mtpAdb = await switchTo('mtp-adb');
    expect(mtpAdb).toMatchObject({ mode: 'mtp', pid: 0x4ee2, hasMtp: true, hasAdb: true, guidance: null });
    expect(mtpAdb.interfaces).toEqual([
      { class: 6, subclass: 1, protocol: 1, name: 'MTP', endpoints: 3 },
      { class: 0xff, subclass: 0x42, protocol: 1, name: 'ADB Interface', endpoints: 2 },
    ]);
    // the MTP interface of a composite device is claimed and used as usual
    expect(await status()).toMatchObject({ state: 'ready', rootEntries: expect.arrayContaining(['AnkiDroid']) });

    const ptp = await switchTo('ptp');
    expect(ptp).toMatchObject({ mode: 'ptp', pid: 0x4ee5, hasPtp: true, hasMtp: false });
    expect(ptp.guidance).toContain('Transfer photos (PTP)');
    expect(ptp.guidance).toContain(GUIDANCE.FILE_TRANSFER);
    expect(await status()).toMatchObject({ state: 'ptp', guidance: ptp.guidance });

    const adb = await switchTo('adb');
    expect(adb).toMatchObject({ mode: 'adb-only', pid: 0x4ee7, hasAdb: true, hasMtp: false });
    expect(adb.guidance).toContain('USB debugging only');
    expect(adb.guidance).toContain(GUIDANCE.FILE_TRANSFER);
    expect(await status()).toMatchObject({ state: 'adb-only' });

    const charging = await switchTo('charging');
    expect(charging).toMatchObject({ mode: 'charging-only', vid: 0x18d1, hasMtp: false, hasPtp: false, hasAdb: false, label: 'Pixel Lab (Google)' });
    expect(charging.interfaces.every((i) => i.endpoints === 0)).toBe(true);
    expect(charging.guidance).toContain('only charging');
    expect(charging.guidance).toContain(GUIDANCE.FILE_TRANSFER);
    expect(await status()).toMatchObject({ state: 'charging-only' });

    // A locked phone in File transfer mode: its descriptors say MTP, the session opens, but it
    // lists no storage until the user unlocks it.
    const locked = await switchTo('locked');
    expect(locked).toMatchObject({ mode: 'mtp', pid: 0x4ee1, guidance: null });
    expect(await status()).toMatchObject({ state: 'locked', guidance: GUIDANCE.UNLOCK, errorCode: 'ANKIBRIDGE_ERR_USB_LOCKED' });
    const opened = await driver.call('mtp.open', { serial: 'GADGET01' });
    expect(opened).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_USB_LOCKED', hint: expect.stringMatching(/Unlock your phone/) } });
    // Waiting with the session open, as the daemon does: the phone's StoreAdded event on unlock
    // ends the wait (the only re-check of the storage list comes at the end of the 300 s wait).
    // (umtprd 1.3.10 crashes when it is unlocked with no session open: the lab only unlocks it
    // while our session waits.)
    const lines = driver.proc.lineCount();
    const waiting = driver.call<Status>('phone.status', { serial: 'GADGET01', waitUnlockMs: 300_000, unlockPollMs: 600_000, tag: 'w1' }, 400_000);
    await driver.proc.waitLine(/^WAITING-UNLOCK w1/, { fromLine: lines, timeoutMs: 60_000 });
    const unlockedAt = performance.now();
    await phone.unlock();
    const ready = await waiting;
    const afterUnlockMs = performance.now() - unlockedAt;
    console.log(`locked phone: unlock -> ready ${afterUnlockMs.toFixed(0)} ms`);
    expect(ready).toMatchObject({ ok: true, value: { state: 'ready', guidance: null, rootEntries: expect.arrayContaining(['AnkiDroid', 'Download']) } });
    expect(afterUnlockMs).toBeLessThan(240_000);

    from = driver.mark();
    await phone.unplug();
    await driver.waitEvent((e) => e.type === 'left', { from, timeoutMs: 120_000 });
    expect(await phone.status()).toEqual({ mode: 'locked', plugged: false });
  }, 600_000);
});
