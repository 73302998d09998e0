/**
 * A minimal protocol-buffers reader/writer for the few schema-18 blobs the sync has to turn into
 * schema-11 JSON and back (decks, deck configs, note types). Field numbers come from Anki's
 * published .proto descriptors (read from the PyPI `anki` package's *_pb2 modules).
 */

export type PbValue = { wire: 0; v: bigint } | { wire: 1; b: Buffer } | { wire: 2; b: Buffer } | { wire: 5; b: Buffer };

export class PbMessage {
  readonly fields = new Map<number, PbValue[]>();

  static decode(buf: Uint8Array): PbMessage {
    const m = new PbMessage();
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    const varint = (): bigint => {
      let result = 0n;
      let shift = 0n;
      for (;;) {
        if (pos >= b.length) throw new Error('truncated varint');
        const byte = b[pos++] as number;
        result |= BigInt(byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) return result;
        shift += 7n;
        if (shift > 70n) throw new Error('varint too long');
      }
    };
    while (pos < b.length) {
      const key = Number(varint());
      const field = key >>> 3;
      const wire = key & 7;
      let value: PbValue;
      if (wire === 0) value = { wire: 0, v: varint() };
      else if (wire === 1) {
        value = { wire: 1, b: b.subarray(pos, pos + 8) };
        pos += 8;
      } else if (wire === 2) {
        const len = Number(varint());
        if (pos + len > b.length) throw new Error('truncated field');
        value = { wire: 2, b: b.subarray(pos, pos + len) };
        pos += len;
      } else if (wire === 5) {
        value = { wire: 5, b: b.subarray(pos, pos + 4) };
        pos += 4;
      } else throw new Error(`unsupported wire type ${wire}`);
      if (pos > b.length) throw new Error('truncated field');
      const list = m.fields.get(field);
      if (list) list.push(value);
      else m.fields.set(field, [value]);
    }
    return m;
  }

  has(n: number): boolean {
    return this.fields.has(n);
  }

  private last(n: number): PbValue | undefined {
    const l = this.fields.get(n);
    return l ? l[l.length - 1] : undefined;
  }

  /** An integer (int32/int64/uint32/enum); large int64 values stay bigint so no digit is lost. */
  int(n: number): number | bigint {
    const v = this.last(n);
    if (!v || v.wire !== 0) return 0;
    return toSafe(BigInt.asIntN(64, v.v));
  }

  uint(n: number): number {
    const v = this.last(n);
    return v && v.wire === 0 ? Number(BigInt.asUintN(32, v.v)) : 0;
  }

  sint(n: number): number {
    const v = this.last(n);
    if (!v || v.wire !== 0) return 0;
    const u = BigInt.asUintN(64, v.v);
    return Number((u >> 1n) ^ -(u & 1n));
  }

  bool(n: number): boolean {
    const v = this.last(n);
    return !!v && v.wire === 0 && v.v !== 0n;
  }

  float(n: number): number {
    const v = this.last(n);
    return v && v.wire === 5 ? v.b.readFloatLE(0) : 0;
  }

  str(n: number): string {
    const v = this.last(n);
    return v && v.wire === 2 ? v.b.toString('utf8') : '';
  }

  bytes(n: number): Buffer {
    const v = this.last(n);
    return v && v.wire === 2 ? Buffer.from(v.b) : Buffer.alloc(0);
  }

  msg(n: number): PbMessage | undefined {
    const v = this.last(n);
    return v && v.wire === 2 ? PbMessage.decode(v.b) : undefined;
  }

  msgs(n: number): PbMessage[] {
    return (this.fields.get(n) ?? []).filter((v) => v.wire === 2).map((v) => PbMessage.decode((v as { b: Buffer }).b));
  }

  /** Repeated float, packed or not. */
  floats(n: number): number[] {
    const out: number[] = [];
    for (const v of this.fields.get(n) ?? []) {
      if (v.wire === 5) out.push(v.b.readFloatLE(0));
      else if (v.wire === 2) for (let i = 0; i + 4 <= v.b.length; i += 4) out.push(v.b.readFloatLE(i));
    }
    return out;
  }

  /** Repeated uint32, packed or not. */
  uints(n: number): number[] {
    const out: number[] = [];
    for (const v of this.fields.get(n) ?? []) {
      if (v.wire === 0) out.push(Number(BigInt.asUintN(32, v.v)));
      else if (v.wire === 2) out.push(...readPackedVarints(v.b));
    }
    return out;
  }
}

function readPackedVarints(b: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < b.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= b.length) throw new Error('truncated packed varint');
      const byte = b[pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(Number(BigInt.asUintN(32, result)));
  }
  return out;
}

function lenPrefix(b: Buffer): Buffer {
  return Buffer.concat([encodeVarint(BigInt(b.length)), b]);
}

export function toSafe(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function encodeVarint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const bytes: number[] = [];
  do {
    let byte = Number(u & 0x7fn);
    u >>= 7n;
    if (u !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (u !== 0n);
  return Buffer.from(bytes);
}

/** Writes fields in the order they are added; proto3 defaults (0, false, "") are left out unless `present`. */
export class PbWriter {
  private parts: Buffer[] = [];

  private key(n: number, wire: number): void {
    this.parts.push(encodeVarint(BigInt((n << 3) | wire)));
  }

  int(n: number, v: number | bigint, present = false): this {
    const b = BigInt(v);
    if (b === 0n && !present) return this;
    this.key(n, 0);
    this.parts.push(encodeVarint(b));
    return this;
  }

  sint(n: number, v: number, present = false): this {
    if (v === 0 && !present) return this;
    const b = BigInt(v);
    return this.int(n, (b << 1n) ^ (b >> 63n), true);
  }

  bool(n: number, v: boolean): this {
    return v ? this.int(n, 1) : this;
  }

  float(n: number, v: number, present = false): this {
    if (v === 0 && !Object.is(v, -0) && !present) return this;
    this.key(n, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(b);
    return this;
  }

  str(n: number, v: string): this {
    return v ? this.bytes(n, Buffer.from(v, 'utf8')) : this;
  }

  bytes(n: number, v: Buffer, present = false): this {
    if (v.length === 0 && !present) return this;
    this.key(n, 2);
    this.parts.push(lenPrefix(v));
    return this;
  }

  msg(n: number, w: PbWriter, present = true): this {
    return this.bytes(n, w.finish(), present);
  }

  floats(n: number, vs: number[]): this {
    if (!vs.length) return this;
    const b = Buffer.alloc(vs.length * 4);
    vs.forEach((v, i) => b.writeFloatLE(v, i * 4));
    return this.bytes(n, b);
  }

  uints(n: number, vs: number[]): this {
    if (!vs.length) return this;
    return this.bytes(n, Buffer.concat(vs.map((v) => encodeVarint(BigInt(v)))));
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The shortest decimal that reads back as the same float32: how serde_json prints an f32. */
export function f32ToJson(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  for (let p = 1; p <= 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return x;
  }
  return v;
}
