/**
 * A small, strict reader for the part of Python's pickle format that Anki uses in prefs21.db
 * (dicts of strings, numbers, bools, None, bytes, lists). The data is untrusted: nothing in it is
 * ever executed. References to Python classes (GLOBAL/REDUCE, as an old Anki wrote for
 * QByteArray) become inert `PickleOpaque` values; opcodes outside the subset, oversized input,
 * deep nesting and too many items are refused with DESKTOP_PICKLE_INVALID.
 *
 * Written from the format description in CPython's Lib/pickletools.py (facts only).
 */
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';

/** A Python object we do not build: the class it names and the arguments it was given. */
export class PickleOpaque {
  /** Items given by SETITEM(S) / APPEND(S) to an object we do not build. */
  items?: PickleDict;
  list?: PickleValue[];
  state?: PickleValue;
  constructor(
    readonly opaque: string,
    readonly args?: PickleValue,
  ) {}
}
export type PickleDict = { [key: string]: PickleValue };
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleDict
  | PickleOpaque;

export interface UnpickleLimits {
  maxBytes: number;
  /** Containers and values created in total. */
  maxItems: number;
  /** Nesting of MARK frames and containers on the stack. */
  maxDepth: number;
  maxStringBytes: number;
}

export const DEFAULT_UNPICKLE_LIMITS: UnpickleLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxItems: 200_000,
  maxDepth: 64,
  maxStringBytes: 1024 * 1024,
};

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

function fail(reason: string): never {
  throw makeError(DesktopErrors.PICKLE_INVALID, { reason });
}

function isDict(v: unknown): v is PickleDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof PickleOpaque);
}

/** Dict keys become strings; only str, int and bool keys are accepted. */
function dictKey(k: PickleValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return fail('a dictionary key is not a string or a number');
}

function isOpaque(v: unknown): v is PickleOpaque {
  return v instanceof PickleOpaque;
}

function setItem(target: PickleValue, k: PickleValue, v: PickleValue): void {
  let d: PickleValue = target;
  if (isOpaque(target)) d = target.items ??= newDict();
  if (!isDict(d)) fail('SETITEM on something that is not a dictionary');
  const key = dictKey(k);
  // Own, null-prototype objects: a key like "__proto__" is just a key.
  Object.defineProperty(d, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function newDict(): PickleDict {
  return Object.create(null) as PickleDict;
}

/** Decodes a pickle. Throws DESKTOP_PICKLE_INVALID for anything outside the supported subset. */
export function unpickle(data: Uint8Array, limits: UnpickleLimits = DEFAULT_UNPICKLE_LIMITS): PickleValue {
  if (data.length > limits.maxBytes) fail(`it is ${data.length} bytes, more than the ${limits.maxBytes} allowed`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let items = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();

  const need = (n: number): void => {
    if (n < 0 || pos + n > buf.length) fail('it ends in the middle of a value');
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++] as number;
  };
  const take = (n: number): Buffer => {
    if (n > limits.maxStringBytes) fail(`a value of ${n} bytes is larger than allowed`);
    need(n);
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 4096) fail('a text line is missing its end');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const count = (): void => {
    if (++items > limits.maxItems) fail(`it has more than ${limits.maxItems} values`);
  };
  const push = (v: PickleValue): void => {
    count();
    if (stack.length > limits.maxItems) fail('the value stack is too large');
    stack.push(v);
  };
  const pop = (): PickleValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= (marks[marks.length - 1] as number))) fail('a value is missing');
    const v = stack.pop() as StackItem;
    if (v === MARK) fail('a value is missing');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('a value is missing');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('MARK is missing');
    const items = stack.splice(m) as PickleValue[];
    return items;
  };
  const int = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const longLE = (b: Buffer): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > 64) fail('an integer is too large');
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const utf8 = (b: Buffer): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const opaque = (name: string): PickleOpaque => new PickleOpaque(name);

  while (true) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('the pickle protocol is newer than 5');
        break;
      case 0x95: // FRAME: a length hint only
        take(8);
        break;
      case 0x2e: {
        // STOP
        if (marks.length !== 0 || stack.length !== 1) fail('it ends with a stack that is not one value');
        return top();
      }
      case 0x28: // MARK
        if (marks.length >= limits.maxDepth) fail('it nests deeper than allowed');
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        push(newDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x8f: // EMPTY_SET
        push([]);
        break;
      case 0x64: {
        // DICT
        const kv = popMark();
        if (kv.length % 2 !== 0) fail('a dictionary has a key without a value');
        const d = newDict();
        for (let i = 0; i < kv.length; i += 2) setItem(d, kv[i] as PickleValue, kv[i + 1] as PickleValue);
        push(d);
        break;
      }
      case 0x6c: // LIST
      case 0x74: // TUPLE
      case 0x91: // FROZENSET
        push(popMark());
        break;
      case 0x85:
        push([pop()]);
        break;
      case 0x86: {
        const b = pop();
        const a = pop();
        push([a, b]);
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        push([a, b, c]);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        if (kv.length % 2 !== 0) fail('a dictionary has a key without a value');
        const d = top();
        for (let i = 0; i < kv.length; i += 2) setItem(d, kv[i] as PickleValue, kv[i + 1] as PickleValue);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const t = top();
        const l = isOpaque(t) ? (t.list ??= []) : t;
        if (!Array.isArray(l)) fail('APPEND on something that is not a list');
        l.push(v);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS (sets become lists)
        const vs = popMark();
        const t = top();
        const l = isOpaque(t) ? (t.list ??= []) : t;
        if (!Array.isArray(l)) fail('APPENDS on something that is not a list');
        for (const v of vs) l.push(v);
        break;
      }
      case 0x94: // MEMOIZE
        if (memo.size >= limits.maxItems) fail('too many memo entries');
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(buf.readUInt32LE(pos), top());
        pos += 4;
        break;
      case 0x70: {
        // PUT (text)
        const n = Number.parseInt(line(), 10);
        if (!Number.isSafeInteger(n) || n < 0) fail('a memo index is not a number');
        memo.set(n, top());
        break;
      }
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        let n: number;
        if (op === 0x68) n = u8();
        else if (op === 0x6a) {
          need(4);
          n = buf.readUInt32LE(pos);
          pos += 4;
        } else n = Number.parseInt(line(), 10);
        if (!memo.has(n)) fail('a memo reference points nowhere');
        push(memo.get(n) as PickleValue);
        break;
      }
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a: // BININT
        need(4);
        push(buf.readInt32LE(pos));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        need(2);
        push(buf.readUInt16LE(pos));
        pos += 2;
        break;
      case 0x8a: // LONG1
        push(longLE(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const n = buf.readInt32LE(pos);
        pos += 4;
        push(longLE(take(n)));
        break;
      }
      case 0x49: {
        // INT (text; "00"/"01" are False/True)
        const s = line();
        if (s === '00' || s === '01') push(s === '01');
        else if (/^-?\d{1,30}$/.test(s)) push(int(BigInt(s)));
        else fail('a text integer is malformed');
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^-?\d{1,60}$/.test(s)) fail('a text integer is malformed');
        push(int(BigInt(s)));
        break;
      }
      case 0x47: // BINFLOAT
        need(8);
        push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const f = Number(line());
        if (Number.isNaN(f)) fail('a text float is malformed');
        push(f);
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(take(u8())));
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = buf.readUInt32LE(pos);
        pos += 4;
        push(utf8(take(n)));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(buf.readBigUInt64LE(pos));
        pos += 8;
        push(utf8(take(n)));
        break;
      }
      case 0x56: // UNICODE (protocol 0): raw-unicode-escape text line
        push(rawUnicodeEscape(line()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str): read as latin-1 text
        push(take(u8()).toString('latin1'));
        break;
      case 0x54: {
        // BINSTRING
        need(4);
        const n = buf.readInt32LE(pos);
        pos += 4;
        push(take(n).toString('latin1'));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        push(new Uint8Array(take(u8())));
        break;
      case 0x42: {
        // BINBYTES
        need(4);
        const n = buf.readUInt32LE(pos);
        pos += 4;
        push(new Uint8Array(take(n)));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        need(8);
        const n = Number(buf.readBigUInt64LE(pos));
        pos += 8;
        push(new Uint8Array(take(n)));
        break;
      }
      case 0x30: // POP
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n": named, never imported
        const mod = line();
        const name = line();
        push(opaque(`${mod}.${name}`));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const mod = pop();
        if (typeof mod !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(opaque(`${mod}.${name}`));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ: the "call" is recorded, not made
        const args = pop();
        const callee = pop();
        if (!isOpaque(callee)) fail('REDUCE on something that is not a class');
        push(pureData(callee.opaque, args) ?? new PickleOpaque(callee.opaque, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const callee = pop();
        if (!isOpaque(callee)) fail('NEWOBJ_EX on something that is not a class');
        push(new PickleOpaque(callee.opaque, [args, kwargs]));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        if (!isOpaque(obj)) fail('BUILD on something that is not an object');
        obj.state = state;
        push(obj);
        break;
      }
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} is not supported`);
    }
  }
}

/** Protocol 0 text: latin-1 with \\uXXXX and \\UXXXXXXXX escapes. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) => {
    const cp = Number.parseInt((u4 ?? u8) as string, 16);
    if (cp > 0x10ffff) fail('a text escape is out of range');
    return String.fromCodePoint(cp);
  });
}

/**
 * The few "calls" that older protocols use to spell plain data (bytes as
 * _codecs.encode(text, 'latin1'), sets as builtins.set([...])). They are read as data; nothing
 * is called. Anything else stays opaque.
 */
function pureData(name: string, args: PickleValue): PickleValue | undefined {
  if (!Array.isArray(args)) return undefined;
  const [a, b] = args;
  if (name === '_codecs.encode' && args.length === 2 && typeof a === 'string' && (b === 'latin1' || b === 'latin-1')) {
    return new Uint8Array(Buffer.from(a, 'latin1'));
  }
  if (name === 'collections.OrderedDict' && args.length === 0) return newDict();
  const builtin = name.replace(/^__builtin__\./, 'builtins.');
  if (builtin === 'builtins.set' || builtin === 'builtins.frozenset' || builtin === 'builtins.list' || builtin === 'builtins.tuple') {
    if (args.length === 0) return [];
    if (args.length === 1 && Array.isArray(a)) return [...a];
  }
  if (builtin === 'builtins.bytearray' || builtin === 'builtins.bytes') {
    if (args.length === 0) return new Uint8Array(0);
    if (args.length === 1 && Array.isArray(a) && a.length === 0) return new Uint8Array(0);
    if (args.length === 1 && a instanceof Uint8Array) return a;
    if (args.length === 2 && typeof a === 'string' && (b === 'latin1' || b === 'latin-1')) return new Uint8Array(Buffer.from(a, 'latin1'));
  }
  return undefined;
}

/** The value as a dict, or a named error saying what it was expected to be. */
export function expectDict(v: PickleValue, what: string): PickleDict {
  if (!isDict(v)) fail(`${what} is not a dictionary`);
  return v;
}
