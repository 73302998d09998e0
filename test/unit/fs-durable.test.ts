import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsyncDir, fsyncFile, hashFile, hashFileSync } from '../../src/apkg/fs-durable.js';

const root = mkdtempSync(path.join(tmpdir(), 'fs-durable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fs-durable', () => {
  it('fsyncs a file, a read-only file and a folder; a missing file is an error', () => {
    const f = path.join(root, 'a.bin');
    writeFileSync(f, 'x');
    expect(() => fsyncFile(f)).not.toThrow();
    const ro = path.join(root, 'ro.bin');
    writeFileSync(ro, 'y');
    chmodSync(ro, 0o444);
    expect(() => fsyncFile(ro)).not.toThrow();
    expect(() => fsyncFile(root)).not.toThrow();
    expect(() => fsyncDir(root)).not.toThrow();
    expect(() => fsyncFile(path.join(root, 'missing'))).toThrow(/ENOENT/);
  });

  it('hashes across the 1 MiB read boundary the same as a whole-buffer digest, sync and streamed', async () => {
    const data = Buffer.alloc((1 << 20) * 2 + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 11)) & 0xff;
    const f = path.join(root, 'big.bin');
    writeFileSync(f, data);
    for (const algo of ['sha1', 'sha256'] as const) {
      const want = createHash(algo).update(data).digest('hex');
      expect(hashFileSync(f, algo)).toBe(want);
      expect(await hashFile(f, algo)).toBe(want);
    }
    const empty = path.join(root, 'empty.bin');
    writeFileSync(empty, '');
    expect(hashFileSync(empty, 'sha1')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
  });
});
