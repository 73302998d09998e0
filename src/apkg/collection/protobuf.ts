/**
 * A small proto3 codec driven by a table of fields, enough for the blobs Anki keeps in its
 * schema-18 tables (note type, field, template, deck and deck-option configs). Written here
 * rather than pulled in from protobufjs because the messages are few and fixed, and because
 * writing them the way Anki's encoder (prost) does — fields in ascending tag order, proto3
 * defaults left out, `optional` fields written whenever present, repeated scalars packed —
 * gives byte-identical blobs, which keeps fingerprints stable across tools.
 *
 * 64-bit integers are JS numbers when they fit exactly (ids and times are millisecond
 * timestamps), and BigInt otherwise (Anki's random 64-bit field and template ids).
 */

export type ScalarType = 'int64' | 'int32' | 'uint32' | 'sint32' | 'bool' | 'enum' | 'float' | 'string' | 'bytes';

export interface FieldSpec {
  tag: number;
  name: string;
  type: ScalarType | 'message';
  repeated?: boolean;
  /** proto3 `optional`: presence is kept (undefined when absent), and 0 is written when set. */
  optional?: boolean;
  message?: MessageSpec;
}

export type MessageSpec = readonly FieldSpec[];

export type Decoded = Record<string, unknown>;

export class ProtobufError extends Error {}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new ProtobufError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lengthDelimited(): Uint8Array {
    return this.bytes(Number(this.varint()));
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.bytes(8);
    else if (wireType === 2) this.lengthDelimited();
    else if (wireType === 5) this.bytes(4);
    else throw new ProtobufError(`unsupported wire type ${wireType}`);
  }
}

function scalarFromVarint(type: ScalarType, raw: bigint): unknown {
  switch (type) {
    case 'int64': {
      // ids up to 2^53 come back as numbers; a random 64-bit id (field/template ids) as BigInt
      const v = BigInt.asIntN(64, raw);
      return v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER) ? v : Number(v);
    }
    case 'int32':
    case 'enum':
      return Number(BigInt.asIntN(32, raw));
    case 'uint32':
      return Number(BigInt.asUintN(32, raw));
    case 'sint32': {
      const n = Number(BigInt.asUintN(32, raw));
      return (n >>> 1) ^ -(n & 1);
    }
    case 'bool':
      return raw !== 0n;
    default:
      throw new ProtobufError(`varint for a ${type} field`);
  }
}

function defaultFor(spec: FieldSpec): unknown {
  if (spec.repeated) return [];
  if (spec.optional || spec.type === 'message') return undefined;
  switch (spec.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    default:
      return 0;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeMessage(spec: MessageSpec, buf: Uint8Array): Decoded {
  const out: Decoded = {};
  for (const f of spec) out[f.name] = defaultFor(f);
  const byTag = new Map(spec.map((f) => [f.tag, f]));
  const r = new Reader(buf);
  while (!r.done) {
    const key = r.varint();
    const tag = Number(key >> 3n);
    const wire = Number(key & 7n);
    const f = byTag.get(tag);
    if (!f) {
      r.skip(wire); // unknown field: dropped, as Anki's decoder does
      continue;
    }
    const put = (v: unknown) => {
      if (f.repeated) (out[f.name] as unknown[]).push(v);
      else out[f.name] = v;
    };
    if (f.type === 'message') {
      if (wire !== 2) throw new ProtobufError(`field ${f.name}: wrong wire type`);
      put(decodeMessage(f.message ?? [], r.lengthDelimited()));
    } else if (f.type === 'string') {
      if (wire !== 2) throw new ProtobufError(`field ${f.name}: wrong wire type`);
      try {
        put(utf8.decode(r.lengthDelimited()));
      } catch (e) {
        if (e instanceof ProtobufError) throw e;
        throw new ProtobufError(`field ${f.name}: invalid UTF-8`);
      }
    } else if (f.type === 'bytes') {
      if (wire !== 2) throw new ProtobufError(`field ${f.name}: wrong wire type`);
      put(Uint8Array.from(r.lengthDelimited()));
    } else if (f.type === 'float') {
      if (wire === 5) put(Buffer.from(r.bytes(4)).readFloatLE(0));
      else if (wire === 2 && f.repeated) {
        const packed = r.lengthDelimited();
        if (packed.length % 4 !== 0) throw new ProtobufError(`field ${f.name}: bad packed floats`);
        const b = Buffer.from(packed);
        for (let i = 0; i < b.length; i += 4) put(b.readFloatLE(i));
      } else throw new ProtobufError(`field ${f.name}: wrong wire type`);
    } else if (wire === 0) {
      put(scalarFromVarint(f.type, r.varint()));
    } else if (wire === 2 && f.repeated) {
      const inner = new Reader(r.lengthDelimited());
      while (!inner.done) put(scalarFromVarint(f.type, inner.varint()));
    } else {
      throw new ProtobufError(`field ${f.name}: wrong wire type`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    const bytes: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      bytes.push(b);
    } while (x !== 0n);
    this.push(Uint8Array.from(bytes));
  }

  key(tag: number, wire: number): void {
    this.varint(BigInt((tag << 3) | wire));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks, this.size);
  }
}

function varintOf(type: ScalarType, v: unknown): bigint {
  switch (type) {
    case 'bool':
      return v ? 1n : 0n;
    case 'sint32': {
      const n = Number(v) | 0;
      return BigInt(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case 'uint32':
      return BigInt(Number(v) >>> 0);
    case 'int32':
    case 'enum':
      return BigInt(Number(v) | 0); // negative: sign-extended to 64 bits, as proto3 requires
    case 'int64': {
      if (typeof v === 'bigint') return BigInt.asIntN(64, v);
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new ProtobufError(`int64 value ${String(v)} is not a safe integer`);
      return BigInt(n);
    }
    default:
      throw new ProtobufError(`varint for ${type}`);
  }
}

function isDefault(f: FieldSpec, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (f.repeated) return (v as unknown[]).length === 0;
  if (f.optional || f.type === 'message') return false;
  switch (f.type) {
    case 'bool':
      return v === false;
    case 'string':
      return v === '';
    case 'bytes':
      return (v as Uint8Array).length === 0;
    case 'float':
      return Object.is(Math.fround(Number(v)), 0);
    default:
      return typeof v === 'bigint' ? v === 0n : Number(v) === 0;
  }
}

function float32(v: unknown): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeFloatLE(Number(v), 0);
  return b;
}

export function encodeMessage(spec: MessageSpec, value: Decoded): Uint8Array {
  const w = new Writer();
  for (const f of [...spec].sort((a, b) => a.tag - b.tag)) {
    const v = value[f.name];
    if (isDefault(f, v)) continue;
    if (f.type === 'message') {
      const items = f.repeated ? (v as Decoded[]) : [v as Decoded];
      for (const item of items) {
        const body = encodeMessage(f.message ?? [], item);
        w.key(f.tag, 2);
        w.varint(BigInt(body.length));
        w.push(body);
      }
    } else if (f.type === 'string' || f.type === 'bytes') {
      const items = f.repeated ? (v as unknown[]) : [v];
      for (const item of items) {
        const body = f.type === 'string' ? Buffer.from(String(item), 'utf8') : (item as Uint8Array);
        w.key(f.tag, 2);
        w.varint(BigInt(body.length));
        w.push(body);
      }
    } else if (f.repeated) {
      // proto3 packs repeated scalars
      const inner = new Writer();
      for (const item of v as unknown[]) {
        if (f.type === 'float') inner.push(float32(item));
        else inner.varint(varintOf(f.type, item));
      }
      const body = inner.finish();
      w.key(f.tag, 2);
      w.varint(BigInt(body.length));
      w.push(body);
    } else if (f.type === 'float') {
      w.key(f.tag, 5);
      w.push(float32(v));
    } else {
      w.key(f.tag, 0);
      w.varint(varintOf(f.type, v));
    }
  }
  return w.finish();
}

/** The shortest decimal that reads back as the same 32-bit float (as Anki's JSON writer prints f32). */
export function f32ToNumber(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
