// The pickle reader treats prefs21.db as untrusted: classes are never called, and anything
// outside the subset, truncated, too deep or too large is a named error.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { peerPython } from '../peer/peer.js';
import { unpickle } from '../../src/apkg/desktop/pickle.js';

function py(expr: string, protocol = 4): Buffer {
  const hex = execFileSync(peerPython(), ['-c', `import pickle,sys,os,collections;sys.stdout.write(pickle.dumps(${expr}, protocol=${protocol}).hex())`], {
    encoding: 'utf8',
  });
  return Buffer.from(hex, 'hex');
}
const invalid = expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DESKTOP_PICKLE_INVALID' });

describe('unpickle', () => {
  it('reads shared references and nested containers from real Python', () => {
    const v = unpickle(py('(lambda l: {"a": l, "b": l, "n": -5, "big": -2**70, "t": True, "f": 0.25, "nested": {"x": [[], {}]}})([1, 2])')) as Record<string, unknown>;
    expect(v.a).toEqual([1, 2]);
    expect(v.b).toBe(v.a);
    expect(v.n).toBe(-5);
    expect(v.big).toBe(-(2n ** 70n));
    expect(v.nested).toEqual({ x: [[], {}] });
  });

  it('never calls a class: os.system and friends become inert opaque values', () => {
    const v = unpickle(py('{"x": collections.OrderedDict([("k", 1)]), "y": os.getcwd}')) as Record<string, unknown>;
    expect(v.x).toEqual({ k: 1 });
    expect(v.y).toMatchObject({ opaque: 'posix.getcwd' });
    // a classic exploit payload: GLOBAL os.system + REDUCE; decoded as data, nothing runs
    const evil = Buffer.from("cos\nsystem\n(S'touch /tmp/pwned'\ntR.", 'latin1');
    expect(() => unpickle(evil)).toThrow(invalid); // 'S' (text string) is outside the subset
    const evil2 = Buffer.from('\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R.', 'latin1');
    expect(unpickle(evil2)).toMatchObject({ opaque: 'os.system', args: ['true'] });
    const key = unpickle(py('{"opaque": 1}')) as Record<string, unknown>;
    expect(key.opaque).toBe(1);
  });

  it('refuses truncated, trailing, unknown, oversized and deeply nested input', () => {
    const good = py('{"a": [1, 2, 3]}');
    expect(() => unpickle(good.subarray(0, good.length - 3))).toThrow(invalid);
    expect(() => unpickle(Buffer.from([0x80, 0x04, 0x29, 0x29, 0x2e]))).toThrow(invalid); // two values at STOP
    expect(() => unpickle(Buffer.from([0x80, 0x04, 0x51, 0x2e]))).toThrow(invalid); // BINPERSID
    expect(() => unpickle(Buffer.from([0x80, 0x04, 0x68, 0x07, 0x2e]))).toThrow(invalid); // memo miss
    expect(() => unpickle(Buffer.alloc(5 * 1024 * 1024, 0x4e))).toThrow(invalid);
    const deep = Buffer.concat([Buffer.from([0x80, 0x04]), Buffer.alloc(1000, 0x28), Buffer.from([0x2e])]);
    expect(() => unpickle(deep)).toThrow(invalid);
    const many = Buffer.concat([Buffer.from([0x80, 0x04, 0x5d, 0x28]), Buffer.alloc(300_000, 0x4e), Buffer.from([0x65, 0x2e])]);
    expect(() => unpickle(many)).toThrow(invalid);
    // a huge declared length never allocates
    expect(() => unpickle(Buffer.from([0x80, 0x04, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e]))).toThrow(invalid);
    // "__proto__" is an ordinary key
    const proto = unpickle(py('{"__proto__": 1}')) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toBe(1);
  });
});
