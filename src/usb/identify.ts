/**
 * What is this USB device, as far as syncing with AnkiDroid goes? Decided from descriptors only
 * (no MTP session yet), following how Android phones present themselves:
 *  - MTP ("File transfer"): an interface with bulk IN, bulk OUT and interrupt IN named "MTP";
 *    class 6/1/1 (FunctionFS MTP, Android 8+) or vendor-specific 0xff (older f_mtp kernels).
 *  - PTP ("Transfer photos"): class 6/1/1 with the same three endpoints but not named "MTP".
 *  - ADB: 0xff/0x42/0x01. Charging only: an Android vendor id and none of the above.
 * "Locked" cannot be seen here: it shows after opening a session (no storages, access denied).
 */
export type EndpointKind = 'bulk' | 'interrupt' | 'isochronous' | 'control';

export interface EndpointInfo {
  readonly address: number;
  readonly direction: 'in' | 'out';
  readonly kind: EndpointKind;
  readonly maxPacketSize: number;
}

export interface InterfaceInfo {
  readonly number: number;
  readonly alternate: number;
  readonly class: number;
  readonly subclass: number;
  readonly protocol: number;
  /** The iInterface string, when it could be read. */
  readonly name: string | null;
  readonly endpoints: readonly EndpointInfo[];
}

export interface UsbDeviceInfo {
  readonly busNumber: number;
  readonly address: number;
  readonly portPath: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceClass: number;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly serial: string | null;
  readonly interfaces: readonly InterfaceInfo[];
}

export type PhoneMode = 'mtp' | 'ptp' | 'charging-only' | 'adb-only' | 'not-a-phone';

export interface Identification {
  readonly mode: PhoneMode;
  readonly isAndroid: boolean;
  readonly hasMtp: boolean;
  readonly hasPtp: boolean;
  readonly hasAdb: boolean;
  readonly mtpInterface: InterfaceInfo | null;
  /** For the user, e.g. "Pixel 7 (Google)". */
  readonly label: string;
  /** What the user should do, when there is something to do. */
  readonly guidance: string | null;
}

/** Vendor ids of Android phone makers (android-udev-rules / libmtp tables, the common ones). */
const ANDROID_VENDORS: Readonly<Record<number, string>> = {
  0x18d1: 'Google', 0x04e8: 'Samsung', 0x2717: 'Xiaomi', 0x2a70: 'OnePlus', 0x22b8: 'Motorola', 0x12d1: 'Huawei',
  0x1004: 'LG', 0x0fce: 'Sony', 0x0bb4: 'HTC', 0x17ef: 'Lenovo', 0x0b05: 'Asus', 0x22d9: 'OPPO', 0x2e04: 'HMD',
  0x1949: 'Amazon', 0x05c6: 'Qualcomm', 0x2d95: 'vivo', 0x29a9: 'Realme', 0x2ae5: 'Fairphone', 0x0e8d: 'MediaTek',
};

export const GUIDANCE = {
  FILE_TRANSFER: 'Set USB to "File transfer": pull down the notification shade on the phone, tap the "USB" notification and choose "File transfer".',
  UNLOCK: 'Unlock your phone: Android only shows its files to a computer while it is unlocked.',
} as const;

function hasMtpEndpoints(i: InterfaceInfo): boolean {
  const bulkIn = i.endpoints.some((e) => e.kind === 'bulk' && e.direction === 'in');
  const bulkOut = i.endpoints.some((e) => e.kind === 'bulk' && e.direction === 'out');
  const intIn = i.endpoints.some((e) => e.kind === 'interrupt' && e.direction === 'in');
  return bulkIn && bulkOut && intIn;
}

export function isMtpInterface(i: InterfaceInfo): boolean {
  if (!hasMtpEndpoints(i)) return false;
  const named = (i.name ?? '').toUpperCase().includes('MTP');
  return named && (i.class === 0x06 || i.class === 0xff);
}

export function isPtpInterface(i: InterfaceInfo): boolean {
  return hasMtpEndpoints(i) && i.class === 0x06 && i.subclass === 0x01 && i.protocol === 0x01 && !isMtpInterface(i);
}

export function isAdbInterface(i: InterfaceInfo): boolean {
  return i.class === 0xff && i.subclass === 0x42 && i.protocol === 0x01;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export function identify(d: UsbDeviceInfo): Identification {
  const mtpInterface = d.interfaces.find(isMtpInterface) ?? null;
  const hasPtp = d.interfaces.some(isPtpInterface);
  const hasAdb = d.interfaces.some(isAdbInterface);
  const vendorName = ANDROID_VENDORS[d.vendorId];
  // A device that speaks MTP or ADB is a phone (or tablet) whatever its vendor id; QEMU's lab
  // phone has 46f4:0004, many OEMs borrow ids.
  const isAndroid = vendorName !== undefined || hasAdb || mtpInterface !== null;
  const name = d.product ?? `USB device ${hex4(d.vendorId)}:${hex4(d.productId)}`;
  const maker = d.manufacturer ?? vendorName;
  const label = maker && !name.toLowerCase().includes(maker.toLowerCase()) ? `${name} (${maker})` : name;
  let mode: PhoneMode;
  let guidance: string | null = null;
  if (mtpInterface) {
    mode = 'mtp';
  } else if (hasPtp) {
    mode = 'ptp';
    guidance = `The phone is in "Transfer photos (PTP)" mode, which hides AnkiDroid's files. ${GUIDANCE.FILE_TRANSFER}`;
  } else if (hasAdb) {
    mode = 'adb-only';
    guidance = `The phone is connected for USB debugging only. ${GUIDANCE.FILE_TRANSFER}`;
  } else if (vendorName !== undefined) {
    mode = 'charging-only';
    guidance = `The phone is only charging. ${GUIDANCE.FILE_TRANSFER}`;
  } else {
    mode = 'not-a-phone';
  }
  return { mode, isAndroid, hasMtp: mtpInterface !== null, hasPtp, hasAdb, mtpInterface, label, guidance };
}
