// Our streaming zstd decoder: any chunking, multiple frames, output sizes that are exact
// multiples of its buffer (a frame ending exactly at a buffer boundary), limits and damage.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ZstdDataError, ZstdEncoder, ZstdLimitError, zstdCompressSmall, zstdDecode, zstdDecompressExact } from '../../../src/apkg/package/zstd.js';

async function decodeAll(data: Buffer, chunk: number, max = 1 << 30): Promise<Buffer> {
  async function* src(): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  }
  const parts: Buffer[] = [];
  for await (const c of zstdDecode(src(), max)) parts.push(c);
  return Buffer.concat(parts);
}

describe('zstd', () => {
  for (const size of [0, 1, 131072, 131072 * 3, 9 << 20, (9 << 20) + 1, 5_000_000]) {
    it(`round-trips ${size} bytes (two frames) in any chunking`, async () => {
      const data = size % 2 ? randomBytes(size) : Buffer.alloc(size, 7);
      const twice = Buffer.concat([zstdCompressSmall(data), zstdCompressSmall(data)]);
      for (const chunk of [twice.length < 100_000 ? 7 : 4093, 65536, Math.max(1, twice.length)]) {
        expect((await decodeAll(twice, chunk)).equals(Buffer.concat([data, data]))).toBe(true);
      }
    });
  }

  it('the reusable encoder makes independent frames, streamed or whole', async () => {
    const enc = new ZstdEncoder(3);
    const a = randomBytes(300_000);
    const b = Buffer.alloc(200_000, 1);
    const streamed: Buffer[] = [];
    for await (const c of enc.encode((async function* () { yield a; })())) streamed.push(c);
    const whole = enc.compressWhole(b);
    expect((await decodeAll(Buffer.concat(streamed), 4096)).equals(a)).toBe(true);
    expect(zstdDecompressExact(whole, b.length).equals(b)).toBe(true);
  });

  it('stops at the limit, and names damage and truncation', async () => {
    const bomb = zstdCompressSmall(Buffer.alloc(50_000_000));
    await expect(decodeAll(bomb, 1024, 1_000_000)).rejects.toBeInstanceOf(ZstdLimitError);
    expect(() => zstdDecompressExact(bomb, 1_000_000)).toThrow(ZstdLimitError);
    const ok = zstdCompressSmall(randomBytes(100_000));
    await expect(decodeAll(ok.subarray(0, ok.length - 10), 4096)).rejects.toBeInstanceOf(ZstdDataError);
    await expect(decodeAll(Buffer.from('definitely not zstd'), 4)).rejects.toBeInstanceOf(ZstdDataError);
    expect(() => zstdDecompressExact(Buffer.from('definitely not zstd'), 100)).toThrow(ZstdDataError);
  });
});
