/**
 * PTP/MTP container framing (USB "Still Image" bulk-only protocol): a 12-byte header
 * (length u32, type u16, code u16, transaction id u32) then parameters or payload, little endian.
 */
import { ContainerType } from './codes.js';

export const HEADER_SIZE = 12;
/** A data phase longer than 4 GiB says 0xFFFFFFFF and ends with a short packet. */
export const UNKNOWN_LENGTH = 0xffffffff;

export interface ContainerHeader {
  readonly length: number;
  readonly type: number;
  readonly code: number;
  readonly transactionId: number;
}

export class ContainerFormatError extends Error {
  override readonly name = 'ContainerFormatError';
}

export function encodeCommand(code: number, transactionId: number, params: readonly number[] = []): Buffer {
  if (params.length > 5) throw new ContainerFormatError(`a command has at most 5 parameters, got ${params.length}`);
  const b = Buffer.alloc(HEADER_SIZE + 4 * params.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(ContainerType.COMMAND, 4);
  b.writeUInt16LE(code, 6);
  b.writeUInt32LE(transactionId >>> 0, 8);
  params.forEach((p, i) => b.writeUInt32LE(p >>> 0, HEADER_SIZE + 4 * i));
  return b;
}

/** Header of a data container carrying `payloadLength` bytes. */
export function encodeDataHeader(code: number, transactionId: number, payloadLength: number): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  const total = payloadLength + HEADER_SIZE;
  b.writeUInt32LE(total > 0xfffffffe ? UNKNOWN_LENGTH : total, 0);
  b.writeUInt16LE(ContainerType.DATA, 4);
  b.writeUInt16LE(code, 6);
  b.writeUInt32LE(transactionId >>> 0, 8);
  return b;
}

export function decodeHeader(b: Uint8Array): ContainerHeader {
  if (b.length < HEADER_SIZE) throw new ContainerFormatError(`a container needs 12 header bytes, got ${b.length}`);
  const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const header = { length: v.readUInt32LE(0), type: v.readUInt16LE(4), code: v.readUInt16LE(6), transactionId: v.readUInt32LE(8) };
  if (header.type < ContainerType.COMMAND || header.type > ContainerType.EVENT) {
    throw new ContainerFormatError(`unknown container type ${header.type}`);
  }
  if (header.length < HEADER_SIZE) throw new ContainerFormatError(`container length ${header.length} is shorter than its header`);
  return header;
}

/** Parameters of a response or event container (at most 5; the rest of `b` after the header). */
export function decodeParams(b: Uint8Array, header: ContainerHeader): number[] {
  const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const end = Math.min(header.length, v.length);
  if ((end - HEADER_SIZE) % 4 !== 0) throw new ContainerFormatError(`parameter block of ${end - HEADER_SIZE} bytes is not a multiple of 4`);
  const out: number[] = [];
  for (let o = HEADER_SIZE; o + 4 <= end && out.length < 5; o += 4) out.push(v.readUInt32LE(o));
  return out;
}
