import { describe, expect, it } from 'vitest';
import { ContainerFormatError, decodeHeader, decodeParams, encodeCommand, encodeDataHeader, UNKNOWN_LENGTH } from '../../../src/usb/mtp/container.js';
import { encodeObjectInfo, encodePtpString, parseDeviceInfo, parseObjectInfo, parseMtpDate, PtpReader } from '../../../src/usb/mtp/datasets.js';

describe('MTP containers', () => {
  it('encodes a command with its parameters, little endian', () => {
    const b = encodeCommand(0x1007, 5, [0x10001, 0, 0xffffffff]);
    expect(b.toString('hex')).toBe('18000000' + '0100' + '0710' + '05000000' + '01000100' + '00000000' + 'ffffffff');
    const h = decodeHeader(b);
    expect(h).toEqual({ length: 24, type: 1, code: 0x1007, transactionId: 5 });
    expect(decodeParams(b, h)).toEqual([0x10001, 0, 0xffffffff]);
  });

  it('refuses a sixth parameter', () => {
    expect(() => encodeCommand(0x1001, 1, [1, 2, 3, 4, 5, 6])).toThrow(ContainerFormatError);
  });

  it('says "unknown length" for data phases of 4 GiB and more', () => {
    expect(decodeHeader(encodeDataHeader(0x100d, 2, 100)).length).toBe(112);
    expect(decodeHeader(encodeDataHeader(0x100d, 2, 2 ** 32)).length).toBe(UNKNOWN_LENGTH);
  });

  it('rejects short, mistyped or self-contradicting headers', () => {
    expect(() => decodeHeader(Buffer.alloc(8))).toThrow(/12 header bytes/);
    const bad = encodeCommand(0x1001, 1);
    bad.writeUInt16LE(7, 4);
    expect(() => decodeHeader(bad)).toThrow(/unknown container type 7/);
    const short = encodeCommand(0x1001, 1);
    short.writeUInt32LE(4, 0);
    expect(() => decodeHeader(short)).toThrow(/shorter than its header/);
  });

  it('round-trips PTP strings, including non-Latin names, and bounds them', () => {
    for (const s of ['', 'collection.colpkg', 'Японский — 日本語.apkg']) {
      expect(new PtpReader(encodePtpString(s)).str()).toBe(s);
    }
    expect(() => encodePtpString('x'.repeat(255))).toThrow(/at most 254/);
  });

  it('builds an ObjectInfo that parses back to the same name and size', () => {
    const o = parseObjectInfo(7, encodeObjectInfo('collection-20260822140305.colpkg', 123456));
    expect(o).toMatchObject({ handle: 7, name: 'collection-20260822140305.colpkg', size: 123456, isFolder: false });
    expect(parseObjectInfo(8, encodeObjectInfo('AnkiDroid', 0, 0x3001)).isFolder).toBe(true);
  });

  it('treats a truncated dataset as a protocol error, not a crash', () => {
    const full = encodeObjectInfo('a.colpkg', 10);
    expect(() => parseObjectInfo(1, full.subarray(0, 30))).toThrow(ContainerFormatError);
    expect(() => parseDeviceInfo(Buffer.from([1, 0, 6]))).toThrow(ContainerFormatError);
    const lying = Buffer.alloc(8);
    lying.writeUInt32LE(1_000_000, 0);
    expect(() => new PtpReader(lying).arr32()).toThrow(/ends early/);
  });

  it('parses MTP dates and refuses nonsense', () => {
    expect(parseMtpDate('20260822T140305')).toBe(Date.UTC(2026, 7, 22, 14, 3, 5));
    expect(parseMtpDate('20260822T140305.0Z')).toBe(Date.UTC(2026, 7, 22, 14, 3, 5));
    expect(parseMtpDate('yesterday')).toBeNull();
  });
});
