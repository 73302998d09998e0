/**
 * The data-phase paths that reuse memory: reads into a ring of transfer buffers for transient
 * sinks, sends read straight into the transfer buffers from a random-access source.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MtpSession } from '../../../src/usb/mtp/session.js';
import { openMtpTransport } from '../../../src/usb/mtp-transport.js';
import { fileSource } from '../../../src/usb/safe-write.js';
import type { Source, SourceReader } from '../../../src/usb/transport.js';
import { FakeMtpDevice } from '../support/fake-mtp-device.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('transfer buffers', () => {
  it('a transient read reuses a ring of buffers and still delivers every byte in order', async () => {
    const dev = new FakeMtpDevice();
    const data = randomBytes(200_000 + 333);
    dev.addFile(0, 'x.bin', data);
    const t = await openMtpTransport(await MtpSession.open(dev, { inChunk: 4096, inDepth: 3 }));
    const h = createHash('sha256');
    const seen = new Set<ArrayBufferLike>();
    let n = 0;
    await t.read('x.bin', async (c) => {
      h.update(c);
      n += c.length;
      seen.add(c.buffer);
      await new Promise((r) => setImmediate(r)); // a sink that takes its time
    }, { transient: true });
    expect(n).toBe(data.length);
    expect(h.digest('hex')).toBe(sha(data));
    // 50 transfers through at most depth + 1 buffers
    expect(seen.size).toBeLessThanOrEqual(4);
    expect(dev.maxIn).toBeLessThanOrEqual(4096);
    // without the flag every chunk is the sink's to keep
    const kept: Buffer[] = [];
    await t.read('x.bin', (c) => void kept.push(c));
    expect(sha(Buffer.concat(kept))).toBe(sha(data));
    await t.close();
  });

  it('a file source is read straight into aligned transfers of at most outChunk bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ankibridge-xfer-'));
    const data = randomBytes(3 * 65536 + 1000);
    writeFileSync(join(dir, 'src.bin'), data);
    const dev = new FakeMtpDevice();
    const t = await openMtpTransport(await MtpSession.open(dev, { outChunk: 65536, outDepth: 2 }));
    const src = await fileSource(join(dir, 'src.bin'));
    let streamed = false;
    await t.write('y.bin', { ...src, open: () => { streamed = true; return src.open(); } });
    expect(streamed).toBe(false);
    // the container (12-byte header + data) in 64 KiB pieces from its start, the rest last
    expect(dev.outSizes.slice(-4)).toEqual([65536, 65536, 65536, data.length + 12 - 3 * 65536]);
    const back: Buffer[] = [];
    await t.read('y.bin', (c) => void back.push(c));
    expect(sha(Buffer.concat(back))).toBe(sha(data));
    await t.close();
  });

  it('short reads from a random-access source are completed; a source that ends early fails the send', async () => {
    const data = randomBytes(150_000);
    const reader = (limit: number): SourceReader => ({
      async readAt(position, into, offset, length) {
        const n = Math.min(length, 7_000, Math.max(0, limit - position)); // dribbles, ends at `limit`
        data.copy(into, offset, position, position + n);
        return n;
      },
      close: async () => undefined,
    });
    const src = (limit: number): Source => ({ size: data.length, open: () => { throw new Error('not used'); }, openReader: async () => reader(limit) });
    const dev = new FakeMtpDevice();
    const t = await openMtpTransport(await MtpSession.open(dev, { outChunk: 65536 }));
    await t.write('z.bin', src(data.length));
    const back: Buffer[] = [];
    await t.read('z.bin', (c) => void back.push(c), { transient: false });
    expect(sha(Buffer.concat(back))).toBe(sha(data));
    await expect(t.write('w.bin', src(100_000))).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_USB_PROTOCOL', message: expect.stringMatching(/100000 of the 150000 bytes/) });
    await t.close();
  });
});
