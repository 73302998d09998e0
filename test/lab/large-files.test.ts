/**
 * Lab: files from 1 KB to 300 MB on both phones, with equal digests on both sides.
 *  - QEMU's usb-mtp (no rename): safe write by the copy-verify fallback, list, get, delete;
 *    libmtp's mtp-getfile reads our 300 MB file.
 *  - the gadget phone (umtprd): safe write by temp → verify → rename, list, get, rename, delete.
 * Sizes keep (size + 12) % 64 >= 12 (QEMU usb-mtp's upload bug); a QEMU abort is reported as
 * "USB LAB CRASHED", never as a result.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';
import { gadgetPhone } from './harness/gadget.js';
import { assertLabSafeSize, LAB_HOOK_TIMEOUT_MS, plugAndOpen, sha256, unplugAndWait, writeTree } from './support.js';

const SIZES = [1_000, 5_242_880, 50_000_000, 300_000_000].map(assertLabSafeSize);
const BIG = 300_000_000;
let lab: Lab;
let driver: Driver;
const srcSha = new Map<number, string>();

beforeAll(async () => {
  lab = await startLab({ memMiB: 3072 });
  driver = await startDriver(lab);
  await lab.run(SIZES.map((n) => `head -c ${n} /dev/urandom > /tmp/src-${n}.bin`).join(' && '), { timeoutMs: 600_000 });
  for (const n of SIZES) srcSha.set(n, await driver.value<string>('local.sha256', { path: `/tmp/src-${n}.bin` }, 600_000));
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

const mbps = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;

describe('USB lab: 1 KB to 300 MB', () => {
  it('QEMU usb-mtp (no rename): safe write (copy-verify), list, get, delete; libmtp reads our 300 MB file', async () => {
    const dir = lab.phoneDir('large');
    writeTree(dir, { 'AnkiDroid/.keep': '' });
    await plugAndOpen(lab, driver, dir, 'large');
    const log: string[] = [];
    for (const size of SIZES) {
      const path = `AnkiDroid/file-${size}.colpkg`;
      const w = await driver.value<{ method: string; sha256: string; ms: number; exposedMs: number }>('fs.safeWrite', { path, from: `/tmp/src-${size}.bin` }, 1_800_000);
      expect(w).toMatchObject({ method: 'copy-verify', sha256: srcSha.get(size) });
      expect(sha256(join(dir, path))).toBe(srcSha.get(size));
      expect(readdirSync(join(dir, 'AnkiDroid')).filter((n) => n.endsWith('.part'))).toEqual([]);
      const listed = await driver.value<Array<{ name: string; size: number }>>('fs.list', { dir: 'AnkiDroid' });
      expect(listed.find((e) => e.name === `file-${size}.colpkg`)?.size).toBe(size);
      const g = await driver.value<{ size: number; sha256: string; ms: number }>('fs.download', { path, to: `/tmp/back-${size}.bin` }, 1_800_000);
      expect(g).toMatchObject({ size, sha256: srcSha.get(size) });
      await lab.run(`rm -f /tmp/back-${size}.bin`);
      log.push(`${size} B: safe write ${(w.ms / 1000).toFixed(1)} s (NAME exposed ${(w.exposedMs / 1000).toFixed(1)} s), verified get ${(g.ms / 1000).toFixed(1)} s (${mbps(size, g.ms)})`);
    }
    // libmtp reads the 300 MB file we wrote (one program at a time on the interface)
    await driver.value('mtp.close');
    const out = await lab.run(`cd /tmp && id=$(mtp-files 2>/dev/null | grep -B1 "Filename: file-${BIG}.colpkg" | sed -n "s/File ID: //p") && test -n "$id" && mtp-getfile $id /tmp/libmtp-big.bin >/dev/null 2>&1 && sha256sum /tmp/libmtp-big.bin | cut -d' ' -f1 && rm /tmp/libmtp-big.bin`, { timeoutMs: 1_200_000 });
    expect(out.trim()).toBe(srcSha.get(BIG));
    await driver.value('mtp.open', { serial: 'LARGE' });
    for (const size of SIZES) {
      await driver.value('fs.remove', { path: `AnkiDroid/file-${size}.colpkg` });
      expect(existsSync(join(dir, `AnkiDroid/file-${size}.colpkg`))).toBe(false);
    }
    // the phone lists none of them any more, and nothing else was deleted (QEMU's usb-mtp leaves
    // names starting with '.' out of every listing: the folder itself is the witness)
    expect((await driver.value<Array<{ name: string }>>('fs.list', { dir: 'AnkiDroid' })).map((e) => e.name).filter((n) => n.startsWith('file-'))).toEqual([]);
    expect(readdirSync(join(dir, 'AnkiDroid'))).toEqual(['.keep']);
    await driver.value('mtp.close');
    await unplugAndWait(lab, driver, 'large');
    console.log(`usb-mtp, 1 KB to 300 MB:\n  ${log.join('\n  ')}`);
  }, 3_600_000);

  it('gadget phone (umtprd, rename): safe write (temp → verify → rename), list, get, rename, delete', async () => {
    const store = '/tmp/gadget-large';
    const gadget = gadgetPhone(lab);
    await lab.run(`mkdir -p ${store}/Download && printf old > ${store}/Download/file-${BIG}.colpkg`);
    await gadget.setup(store);
    const from = driver.mark();
    await gadget.plug();
    await driver.waitEvent((e) => e.type === 'arrived' && e.serial === 'GADGET01', { from, timeoutMs: 120_000 });
    await driver.value('mtp.open', { serial: 'GADGET01' });
    const guestSha = async (p: string): Promise<string> => (await lab.run(`sha256sum ${p} | cut -d' ' -f1`, { timeoutMs: 600_000 })).trim();
    const log: string[] = [];
    for (const size of SIZES) {
      const path = `Download/file-${size}.colpkg`;
      // the 300 MB file replaces an old one of the same name
      const w = await driver.value<{ method: string; sha256: string; ms: number; exposedMs: number }>('fs.safeWrite', { path, from: `/tmp/src-${size}.bin` }, 1_800_000);
      expect(w).toMatchObject({ method: 'rename', sha256: srcSha.get(size) });
      expect(await guestSha(`${store}/${path}`)).toBe(srcSha.get(size));
      const listed = await driver.value<Array<{ name: string; size: number }>>('fs.list', { dir: 'Download' });
      expect(listed.find((e) => e.name === `file-${size}.colpkg`)?.size).toBe(size);
      expect(listed.filter((e) => e.name.endsWith('.part'))).toEqual([]);
      const g = await driver.value<{ size: number; sha256: string; ms: number }>('fs.download', { path, to: `/tmp/gback-${size}.bin` }, 1_800_000);
      expect(g).toMatchObject({ size, sha256: srcSha.get(size) });
      await lab.run(`rm -f /tmp/gback-${size}.bin`);
      await driver.value('fs.rename', { path, name: `renamed-${size}.colpkg` }, 120_000);
      expect(await guestSha(`${store}/Download/renamed-${size}.colpkg`)).toBe(srcSha.get(size));
      const names = (await driver.value<Array<{ name: string }>>('fs.list', { dir: 'Download' })).map((e) => e.name);
      expect(names).toContain(`renamed-${size}.colpkg`);
      expect(names).not.toContain(`file-${size}.colpkg`);
      await driver.value('fs.remove', { path: `Download/renamed-${size}.colpkg` });
      const left = (await lab.run(`ls -A ${store}/Download`)).split('\n').filter(Boolean);
      expect(left).toEqual(size === BIG ? [] : [`file-${BIG}.colpkg`]);
      log.push(`${size} B: safe write ${(w.ms / 1000).toFixed(1)} s (NAME exposed ${w.exposedMs.toFixed(0)} ms), verified get ${(g.ms / 1000).toFixed(1)} s (${mbps(size, g.ms)})`);
    }
    await driver.value('mtp.close');
    await gadget.unplug();
    console.log(`gadget, 1 KB to 300 MB:\n  ${log.join('\n  ')}`);
  }, 3_600_000);
});
