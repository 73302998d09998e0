import { describe, expect, it } from 'vitest';
import { identify, GUIDANCE, type InterfaceInfo, type UsbDeviceInfo } from '../../../src/usb/identify.js';

const eps3 = [
  { address: 0x81, direction: 'in' as const, kind: 'bulk' as const, maxPacketSize: 512 },
  { address: 0x02, direction: 'out' as const, kind: 'bulk' as const, maxPacketSize: 512 },
  { address: 0x83, direction: 'in' as const, kind: 'interrupt' as const, maxPacketSize: 64 },
];
const adbEps = eps3.slice(0, 2);
const itf = (n: number, cls: [number, number, number], name: string | null, endpoints = eps3): InterfaceInfo =>
  ({ number: n, alternate: 0, class: cls[0], subclass: cls[1], protocol: cls[2], name, endpoints });
const dev = (vid: number, pid: number, interfaces: InterfaceInfo[], product: string | null = 'Pixel 7'): UsbDeviceInfo =>
  ({ busNumber: 1, address: 5, portPath: '1-2', vendorId: vid, productId: pid, deviceClass: 0, manufacturer: 'Google', product, serial: 'ABC', interfaces });

describe('identify a phone from its descriptors', () => {
  it('MTP with a FunctionFS interface (6/1/1 named "MTP"), as on Android 8+', () => {
    const id = identify(dev(0x18d1, 0x4ee1, [itf(0, [6, 1, 1], 'MTP')]));
    expect(id).toMatchObject({ mode: 'mtp', isAndroid: true, hasMtp: true, guidance: null, label: 'Pixel 7 (Google)' });
  });

  it('MTP with the old vendor-specific interface (0xff/0xff/0 named "MTP") plus ADB', () => {
    const id = identify(dev(0x04e8, 0x6860, [itf(0, [0xff, 0xff, 0], 'MTP'), itf(1, [0xff, 0x42, 1], 'ADB Interface', adbEps)]));
    expect(id).toMatchObject({ mode: 'mtp', hasAdb: true, isAndroid: true });
  });

  it('QEMU\'s lab phone (46f4:0004) counts as an MTP phone by its interface', () => {
    const id = identify({ ...dev(0x46f4, 0x0004, [itf(0, [6, 1, 1], 'MTP')], 'QEMU filesharing'), manufacturer: 'QEMU' });
    expect(id).toMatchObject({ mode: 'mtp', isAndroid: true, label: 'QEMU filesharing' });
  });

  it('PTP only: tells the user to choose File transfer', () => {
    const id = identify(dev(0x18d1, 0x4ee5, [itf(0, [6, 1, 1], null)]));
    expect(id.mode).toBe('ptp');
    expect(id.guidance).toContain(GUIDANCE.FILE_TRANSFER);
  });

  it('ADB only and charging only', () => {
    expect(identify(dev(0x18d1, 0x4ee7, [itf(0, [0xff, 0x42, 1], 'ADB Interface', adbEps)])).mode).toBe('adb-only');
    const charging = identify(dev(0x2717, 0xff40, []));
    expect(charging.mode).toBe('charging-only');
    expect(charging.guidance).toMatch(/Set USB to "File transfer"/);
  });

  it('a keyboard is not a phone', () => {
    const id = identify(dev(0x046d, 0xc31c, [itf(0, [3, 1, 1], null, [eps3[2]!])], 'USB Keyboard'));
    expect(id).toMatchObject({ mode: 'not-a-phone', isAndroid: false });
  });
});
