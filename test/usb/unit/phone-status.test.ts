import { describe, expect, it } from 'vitest';
import { MtpSession } from '../../../src/usb/mtp/session.js';
import { openMtpTransport } from '../../../src/usb/mtp-transport.js';
import { statusFromError, statusFromIdentity } from '../../../src/usb/phone-status.js';
import { waitForStorage } from '../../../src/usb/wait-unlock.js';
import { GUIDANCE, identify, type InterfaceInfo } from '../../../src/usb/identify.js';
import { makeError } from '../../../src/errors/define.js';
import { UsbErrors } from '../../../src/errors/codes/usb.js';
import { FakeMtpDevice } from '../support/fake-mtp-device.js';

const dev = (interfaces: InterfaceInfo[]) =>
  identify({ busNumber: 1, address: 2, portPath: '1-1', vendorId: 0x18d1, productId: 0x4ee1, deviceClass: 0, manufacturer: 'Google', product: 'Pixel', serial: 'S', interfaces });

describe('phone status', () => {
  it('from descriptors: only MTP needs a session to tell', () => {
    expect(statusFromIdentity(dev([{ number: 0, alternate: 0, class: 6, subclass: 1, protocol: 1, name: 'MTP', endpoints: [
      { address: 0x81, direction: 'in', kind: 'bulk', maxPacketSize: 512 }, { address: 2, direction: 'out', kind: 'bulk', maxPacketSize: 512 },
      { address: 0x83, direction: 'in', kind: 'interrupt', maxPacketSize: 64 }] }]))).toBeNull();
    const charging = statusFromIdentity(dev([]));
    expect(charging).toMatchObject({ state: 'charging-only' });
    expect(charging?.guidance).toContain(GUIDANCE.FILE_TRANSFER);
  });

  it('from the error of opening: locked, busy, gone, other', () => {
    expect(statusFromError(makeError(UsbErrors.LOCKED, { device: 'P', reason: 'no storage' }))).toEqual({ state: 'locked', guidance: GUIDANCE.UNLOCK, errorCode: UsbErrors.LOCKED.code });
    expect(statusFromError(makeError(UsbErrors.BUSY, { device: 'P', holder: 'gvfsd-mtp', alternative: 'Use the gvfs mount.' }))).toMatchObject({ state: 'busy', guidance: expect.stringContaining('gvfs mount') });
    expect(statusFromError(makeError(UsbErrors.DISCONNECTED, { device: 'P', operation: 'x' })).state).toBe('disconnected');
    expect(statusFromError(new Error('boom'))).toEqual({ state: 'error', guidance: 'boom' });
  });

  it('a locked phone: LOCKED at once, or the wait ends on its StoreAdded event', async () => {
    const phone = new FakeMtpDevice();
    phone.locked = true;
    const s = await MtpSession.open(phone);
    await expect(openMtpTransport(s)).rejects.toMatchObject({ code: UsbErrors.LOCKED.code });
    const t0 = Date.now();
    const waiting = waitForStorage(s, 10_000, 60_000);
    setTimeout(() => phone.unlock(true), 50);
    expect(await waiting).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000); // the event, not the 60 s re-check
    expect((await openMtpTransport(s)).storageId).toBe(0x10001);
  });

  it('a locked phone that sends no event is seen by the re-check; a phone never unlocked times out', async () => {
    const phone = new FakeMtpDevice();
    phone.locked = true;
    const s = await MtpSession.open(phone);
    setTimeout(() => phone.unlock(false), 30);
    expect(await waitForStorage(s, 5_000, 20)).toBe(true);
    phone.locked = true;
    expect(await waitForStorage(s, 100, 20)).toBe(false);
  });
});
