/** Recovery of interrupted safe writes on a device that can rename (scripted device). */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MtpSession } from '../../../src/usb/mtp/session.js';
import { openMtpTransport } from '../../../src/usb/mtp-transport.js';
import { markerName, recoverPending, safeWrite } from '../../../src/usb/safe-write.js';
import type { DeviceTransport, Source } from '../../../src/usb/transport.js';
import { FakeMtpDevice } from '../support/fake-mtp-device.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const source = (b: Buffer): Source => ({ size: b.length, open: async function* () { yield b; } });
const content = async (t: DeviceTransport, path: string): Promise<Buffer> => {
  const parts: Buffer[] = [];
  await t.read(path, (c) => void parts.push(Buffer.from(c)));
  return Buffer.concat(parts);
};

async function phone(): Promise<{ dev: FakeMtpDevice; t: DeviceTransport }> {
  const dev = new FakeMtpDevice();
  return { dev, t: await openMtpTransport(await MtpSession.open(dev)) };
}

describe('recovery of the rename path', () => {
  const oldBytes = randomBytes(5000);
  const newBytes = randomBytes(7000);
  const marker = markerName('c.colpkg', sha(newBytes), newBytes.length);

  it('cut between the two renames: the verified marker becomes NAME, the old one set aside goes', async () => {
    const { dev, t } = await phone();
    dev.addFile(0, marker, newBytes);
    dev.addFile(0, 'ankibridge-old-0a1b2c3d-c.colpkg.part', oldBytes);
    const actions = await recoverPending(t, '');
    expect(actions.map((a) => a.action)).toEqual(['restored-from-marker', 'removed-old']);
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);
    expect(sha(await content(t, 'c.colpkg'))).toBe(sha(newBytes));
  });

  it('cut before the old one was deleted: NAME stays, the old one goes', async () => {
    const { dev, t } = await phone();
    dev.addFile(0, 'c.colpkg', newBytes);
    dev.addFile(0, 'ankibridge-old-0a1b2c3d-c.colpkg.part', oldBytes);
    expect((await recoverPending(t, '')).map((a) => a.action)).toEqual(['removed-old']);
    expect(sha(await content(t, 'c.colpkg'))).toBe(sha(newBytes));
  });

  it('an old file set aside with nothing to replace it is renamed back', async () => {
    const { dev, t } = await phone();
    dev.addFile(0, 'ankibridge-old-0a1b2c3d-c.colpkg.part', oldBytes);
    expect((await recoverPending(t, '')).map((a) => a.action)).toEqual(['restored-old']);
    expect(sha(await content(t, 'c.colpkg'))).toBe(sha(oldBytes));
  });

  it('says how long NAME was exposed on both paths', async () => {
    const { dev, t } = await phone();
    dev.addFile(0, 'c.colpkg', oldBytes);
    const r = await safeWrite(t, 'c.colpkg', source(newBytes));
    expect(r.method).toBe('rename');
    expect(r.exposedMs).toBeGreaterThanOrEqual(0);
    const f = await safeWrite(t, 'c.colpkg', source(oldBytes), { forceCopyFallback: true });
    expect(f.method).toBe('copy-verify');
    expect(f.exposedMs).toBeGreaterThanOrEqual(0);
    expect((await t.list('')).map((e) => e.name)).toEqual(['c.colpkg']);
    expect(sha(await content(t, 'c.colpkg'))).toBe(sha(oldBytes));
  });
});
