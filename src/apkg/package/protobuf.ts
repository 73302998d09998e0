/**
 * The few protobuf shapes Anki packages use (PackageMetadata, MediaEntries): a tiny reader and
 * writer for varints and length-delimited fields, so we need no protobuf runtime. The reader
 * throws plain Errors; callers turn them into catalogued errors with the file's context.
 */

export interface ProtoField {
  field: number;
  wireType: number;
  /** Set for wire type 0 (varint). Numbers above 2^53 are rejected. */
  varint?: number;
  /** Set for wire type 2 (bytes, strings, sub-messages). */
  bytes?: Uint8Array;
}

export function* readFields(buf: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++] as number;
      if (shift > 49) throw new Error('varint too long');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new Error('field number 0');
    switch (wireType) {
      case 0:
        yield { field, wireType, varint: readVarint() };
        break;
      case 1:
        if (pos + 8 > buf.length) throw new Error('truncated fixed64');
        pos += 8;
        yield { field, wireType };
        break;
      case 2: {
        const len = readVarint();
        if (pos + len > buf.length) throw new Error('length-delimited field runs past the end');
        yield { field, wireType, bytes: buf.subarray(pos, pos + len) };
        pos += len;
        break;
      }
      case 5:
        if (pos + 4 > buf.length) throw new Error('truncated fixed32');
        pos += 4;
        yield { field, wireType };
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }
}

export function encodeVarint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`cannot encode ${value} as a varint`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

export function varintField(field: number, value: number): Buffer {
  return Buffer.concat([encodeVarint(field * 8), encodeVarint(value)]);
}

export function bytesField(field: number, value: Uint8Array): Buffer {
  return Buffer.concat([encodeVarint(field * 8 + 2), encodeVarint(value.length), value]);
}
