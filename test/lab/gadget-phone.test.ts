/**
 * Lab, phone 2: a USB gadget phone inside the guest (dummy_hcd + FunctionFS + umtprd) wearing a
 * Pixel's ids (18d1:4ee1). It supports rename, so this is where the safe write's main path
 * (temp → verify → rename) runs against a real MTP responder.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, REPO_ROOT, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';

const GADGET = join(REPO_ROOT, 'test/lab/guest/gadget-phone.sh');
const STORE = '/tmp/gadget-phone';
let lab: Lab;
let driver: Driver;

beforeAll(async () => {
  lab = await startLab();
  driver = await startDriver(lab);
  await lab.run(`mkdir -p ${STORE}/Download ${STORE}/AnkiDroid && head -c 3145851 /dev/urandom > ${STORE}/Download/collection-20260822140305.colpkg && printf old > ${STORE}/AnkiDroid/collection.colpkg && head -c 2000000 /dev/urandom > /tmp/new.colpkg && sh ${GADGET} setup ${STORE}`, { timeoutMs: 120_000 });
}, 1_500_000); // may first wait for another lab file to finish: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

const guestSha = async (path: string): Promise<string> => (await lab.run(`sha256sum ${path} | cut -d' ' -f1`)).trim();

describe('USB lab: gadget phone (umtprd on dummy_hcd, 18d1:4ee1)', () => {
  it('is reported as an MTP Android phone, read, and written through the rename path', async () => {
    const from = driver.mark();
    await lab.run(`sh ${GADGET} plug`);
    const { event, index } = await driver.waitEvent((e) => e.type === 'arrived', { from, timeoutMs: 30_000 });
    expect(event).toMatchObject({ mode: 'mtp', vid: 0x18d1, pid: 0x4ee1, label: 'Pixel Lab (Google)', serial: 'GADGET01' });
    // string descriptors come from umtprd through FunctionFS on an emulated CPU: slower than usb-mtp
    console.log(`gadget phone: attach -> report ${event.at - event.usbEventAt} ms`);
    expect(event.at - event.usbEventAt).toBeLessThan(3000);

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
    await lab.run(`sh ${GADGET} unplug`);
    const left = await driver.waitEvent((e) => e.type === 'left', { from: index + 1, timeoutMs: 30_000 });
    expect(left.event.serial).toBe('GADGET01');
  }, 300_000);
});
