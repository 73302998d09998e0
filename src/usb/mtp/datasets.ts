/** PTP datasets: DeviceInfo, StorageInfo, ObjectInfo; bounds-checked readers (device data is untrusted). */
import { ContainerFormatError } from './container.js';
import { Format } from './codes.js';

export class PtpReader {
  private offset = 0;
  constructor(private readonly b: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.b.length) {
      throw new ContainerFormatError(`dataset ends early: need ${n} bytes at ${this.offset}, have ${this.b.length}`);
    }
  }
  u8(): number {
    this.need(1);
    return this.b.readUInt8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.b.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }
  /** PTP string: u8 count of UTF-16 code units including the terminating NUL. */
  str(): string {
    const n = this.u8();
    if (n === 0) return '';
    this.need(2 * n);
    const s = this.b.toString('utf16le', this.offset, this.offset + 2 * (n - 1));
    this.offset += 2 * n;
    return s;
  }
  arr16(): number[] {
    const n = this.u32();
    this.need(2 * n);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u16());
    return out;
  }
  arr32(): number[] {
    const n = this.u32();
    this.need(4 * n);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u32());
    return out;
  }
  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
}

export function encodePtpString(s: string): Buffer {
  if (s === '') return Buffer.from([0]);
  const units = Buffer.from(s + '\0', 'utf16le');
  const count = units.length / 2;
  if (count > 255) throw new ContainerFormatError(`PTP strings hold at most 254 characters, "${s.slice(0, 20)}…" has ${count - 1}`);
  return Buffer.concat([Buffer.from([count]), units]);
}

export interface DeviceInfo {
  readonly standardVersion: number;
  readonly vendorExtensionId: number;
  readonly vendorExtensionDesc: string;
  readonly operations: ReadonlySet<number>;
  readonly events: ReadonlySet<number>;
  readonly manufacturer: string;
  readonly model: string;
  readonly deviceVersion: string;
  readonly serialNumber: string;
}

export function parseDeviceInfo(b: Buffer): DeviceInfo {
  const r = new PtpReader(b);
  const standardVersion = r.u16();
  const vendorExtensionId = r.u32();
  r.u16();
  const vendorExtensionDesc = r.str();
  r.u16();
  const operations = new Set(r.arr16());
  const events = new Set(r.arr16());
  r.arr16();
  r.arr16();
  r.arr16();
  return {
    standardVersion, vendorExtensionId, vendorExtensionDesc, operations, events,
    manufacturer: r.str(), model: r.str(), deviceVersion: r.str(), serialNumber: r.str(),
  };
}

export interface StorageInfo {
  readonly id: number;
  readonly storageType: number;
  readonly filesystemType: number;
  /** 0 read-write, 1 read-only without delete, 2 read-only with delete. */
  readonly accessCapability: number;
  readonly maxCapacity: bigint;
  readonly freeSpace: bigint;
  readonly description: string;
  readonly volumeLabel: string;
}

export function parseStorageInfo(id: number, b: Buffer): StorageInfo {
  const r = new PtpReader(b);
  const storageType = r.u16();
  const filesystemType = r.u16();
  const accessCapability = r.u16();
  const maxCapacity = r.u64();
  const freeSpace = r.u64();
  r.u32();
  return { id, storageType, filesystemType, accessCapability, maxCapacity, freeSpace, description: r.str(), volumeLabel: r.str() };
}

export interface ObjectInfo {
  readonly handle: number;
  readonly storageId: number;
  readonly format: number;
  readonly isFolder: boolean;
  /** 32-bit field: 0xFFFFFFFF means "4 GiB or more" (ask the ObjectSize property for the rest). */
  readonly size: number;
  readonly parent: number;
  readonly name: string;
  /** As the device says it; device clocks and time zones are not to be trusted. */
  readonly modified: string;
}

export function parseObjectInfo(handle: number, b: Buffer): ObjectInfo {
  const r = new PtpReader(b);
  const storageId = r.u32();
  const format = r.u16();
  r.u16();
  const size = r.u32();
  r.skip(2 + 4 * 6);
  const parent = r.u32();
  const assocType = r.u16();
  r.u32();
  r.u32();
  const name = r.str();
  r.str();
  const modified = r.str();
  return { handle, storageId, format, isFolder: format === Format.Association || assocType === 1, size, parent, name, modified };
}

/** ObjectInfo dataset for SendObjectInfo: a plain file named `name` of `size` bytes. */
export function encodeObjectInfo(name: string, size: number, format: number = Format.Undefined): Buffer {
  const fixed = Buffer.alloc(52);
  fixed.writeUInt16LE(format, 4);
  fixed.writeUInt32LE(Math.min(size, 0xffffffff), 8);
  return Buffer.concat([fixed, encodePtpString(name), encodePtpString(''), encodePtpString(''), encodePtpString('')]);
}

export function parseUint32Array(b: Buffer): number[] {
  return new PtpReader(b).arr32();
}

/** Parses the MTP date "YYYYMMDDThhmmss[.s][Z|±hhmm]" as local-less UTC-ish milliseconds, or null. */
export function parseMtpDate(s: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  return Number.isFinite(t) ? t : null;
}
