import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HotplugWatcher, type PhoneEvent } from '../../../src/usb/hotplug-watcher.js';
import type { UsbLib } from '../../../src/usb/node-usb.js';

/** A node-usb stand-in: devices with descriptors, attach/detach emitted by the test. */
function fakeUsb() {
  const usb = new EventEmitter();
  const present: unknown[] = [];
  const device = (pid: number, serial: string, itfClass: number, name: string, port = 2) => {
    const strings: Record<number, string> = { 1: 'Google', 2: 'Pixel 7', 3: serial, 4: name };
    return {
      busNumber: 1, deviceAddress: 10 + port, portNumbers: [port],
      deviceDescriptor: { idVendor: 0x18d1, idProduct: pid, bDeviceClass: 0, iManufacturer: 1, iProduct: 2, iSerialNumber: 3 },
      configDescriptor: { interfaces: [[{ bInterfaceNumber: 0, bAlternateSetting: 0, bInterfaceClass: itfClass, bInterfaceSubClass: 1, bInterfaceProtocol: 1, iInterface: 4,
        endpoints: [{ bEndpointAddress: 0x81, bmAttributes: 2, wMaxPacketSize: 512 }, { bEndpointAddress: 0x02, bmAttributes: 2, wMaxPacketSize: 512 }, { bEndpointAddress: 0x83, bmAttributes: 3, wMaxPacketSize: 64 }] }]] },
      open() {}, close() {},
      getStringDescriptor(i: number, cb: (e: undefined, s?: string) => void) { setImmediate(() => cb(undefined, strings[i])); },
    };
  };
  const lib = { usb, getDeviceList: () => present } as unknown as UsbLib;
  return { lib, usb, device };
}

afterEach(() => {
  vi.useRealTimers();
});

async function settle(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('hot-plug watcher debounce (scripted node-usb)', () => {
  it('reports a phone after the settle time; a flap inside it is never reported', async () => {
    vi.useFakeTimers();
    const f = fakeUsb();
    const w = new HotplugWatcher({ usbLib: f.lib, settleMs: 200 });
    const events: PhoneEvent[] = [];
    w.on('phone', (e) => events.push(e));
    expect(await w.start()).toEqual({ usable: true });
    expect(f.usb.listenerCount('attach')).toBe(1);

    const flap = f.device(0x4ee1, 'S1', 6, 'MTP');
    f.usb.emit('attach', flap);
    await settle(50);
    f.usb.emit('detach', flap);
    await settle(500);
    expect(events).toEqual([]);

    const phone = f.device(0x4ee1, 'S1', 6, 'MTP');
    f.usb.emit('attach', phone);
    await settle(150);
    expect(events).toEqual([]);
    await settle(100);
    expect(events.map((e) => [e.type, e.identity.mode, e.info.serial])).toEqual([['arrived', 'mtp', 'S1']]);

    // a cable flap: gone and back the same within the settle time is not "left"
    f.usb.emit('detach', phone);
    await settle(50);
    const again = f.device(0x4ee1, 'S1', 6, 'MTP');
    f.usb.emit('attach', again);
    await settle(500);
    expect(events).toHaveLength(1);
    expect(w.phones().map((p) => p.device)).toEqual([again]);

    // the user switches to PTP: the phone re-enumerates with other descriptors
    f.usb.emit('detach', again);
    await settle(20);
    f.usb.emit('attach', f.device(0x4ee5, 'S1', 6, ''));
    await settle(500);
    expect(events.map((e) => [e.type, e.identity.mode])).toEqual([['arrived', 'mtp'], ['left', 'mtp'], ['arrived', 'ptp']]);
    expect(events[2]?.identity.guidance).toMatch(/File transfer/);

    w.dispose();
    expect(f.usb.listenerCount('attach') + f.usb.listenerCount('detach')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a phone plugged in before start is reported at once as initial', async () => {
    const f = fakeUsb();
    (f.lib.getDeviceList() as unknown[]).push(f.device(0x4ee1, 'S2', 6, 'MTP'));
    const w = new HotplugWatcher({ usbLib: f.lib });
    const events: PhoneEvent[] = [];
    w.on('phone', (e) => events.push(e));
    await w.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(events.map((e) => [e.type, e.initial])).toEqual([['arrived', true]]);
    w.dispose();
  });
});
