/**
 * Lab: ankibridge's MTP initiator against QEMU's usb-mtp phone, cross-checked with libmtp's
 * mtp-tools in the same guest. Sizes stay modest for CI under software emulation; bench/usb.bench.ts
 * moves 200 MB.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';
import { assertLabSafeSize, LAB_HOOK_TIMEOUT_MS, plugAndOpen, sha256, unplugAndWait, writeTree } from './support.js';

let lab: Lab;
let driver: Driver;
const SIZES = [1000, 600_000, 5_242_880, 20_000_000].map(assertLabSafeSize);

beforeAll(async () => {
  lab = await startLab();
  driver = await startDriver(lab);
  await lab.run(SIZES.map((n) => `head -c ${n} /dev/urandom > /tmp/src-${n}.bin`).join(' && '));
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

describe('USB lab: MTP transfers', () => {
  it('finds AnkiDroid on a phone laid out as AnkiDroid lays it out (legacy and scoped), exports in Download/', async () => {
    const dir = lab.phoneDir('finder');
    writeTree(dir, {
      'AnkiDroid/collection.anki2': 'legacy collection',
      'AnkiDroid/backup/backup-2026-08-20-10.00.00.colpkg': 'backup',
      'Android/data/com.ichi2.anki/files/AnkiDroid/collection.anki2': 'scoped collection',
      'Android/data/com.ichi2.anki/files/AnkiDroid/collection.anki2-wal': '',
      'Android/data/com.ichi2.anki/cache/export/collection-20260821090000.colpkg': 'export',
      'Download/collection-20260822140305.colpkg': 'saved export',
      'Download/French.apkg': 'deck',
      'DCIM/Camera/IMG_0001.jpg': 'photo',
    });
    await plugAndOpen(lab, driver, dir, 'finder');
    const r = await driver.value<{ collections: Array<{ path: string; layout: string; walPresent: boolean }>; packages: Array<{ path: string; kind: string }> }>('fs.find');
    expect(r.collections.map((c) => [c.path, c.layout, c.walPresent]).sort()).toEqual([
      ['Android/data/com.ichi2.anki/files/AnkiDroid', 'scoped', true],
      ['AnkiDroid', 'legacy', false],
    ]);
    expect(r.packages.map((p) => p.path)).toEqual([
      'Download/collection-20260822140305.colpkg',
      'Android/data/com.ichi2.anki/cache/export/collection-20260821090000.colpkg',
      'AnkiDroid/backup/backup-2026-08-20-10.00.00.colpkg',
      'Download/French.apkg',
    ]);
    await driver.value('mtp.close');
    await unplugAndWait(lab, driver, 'finder');
  });

  it('safe-writes, lists, reads back and deletes files from 1 KB to 20 MB with equal digests', async () => {
    const dir = lab.phoneDir('xfer');
    writeTree(dir, { 'AnkiDroid/collection.anki2': 'x' });
    await plugAndOpen(lab, driver, dir, 'xfer');
    const info = await driver.value<{ canRename: boolean }>('mtp.open', { serial: 'XFER' });
    // QEMU's usb-mtp has no SetObjectPropValue: the copy-verify fallback is what runs here
    expect(info.canRename).toBe(false);
    for (const size of SIZES) {
      const src = `/tmp/src-${size}.bin`;
      const guestSha = await driver.value<string>('local.sha256', { path: src });
      const w = await driver.value<{ method: string; sha256: string; ms: number }>('fs.safeWrite', { path: `AnkiDroid/file-${size}.colpkg`, from: src }, 300_000);
      expect(w.method).toBe('copy-verify');
      expect(w.sha256).toBe(guestSha);
      // the phone's storage (a host folder) holds exactly the bytes, and no temporary is left
      expect(sha256(join(dir, `AnkiDroid/file-${size}.colpkg`))).toBe(guestSha);
      expect(readdirSync(join(dir, 'AnkiDroid')).filter((n) => n.endsWith('.part'))).toEqual([]);
      const listed = await driver.value<Array<{ name: string; size: number }>>('fs.list', { dir: 'AnkiDroid' });
      expect(listed.find((e) => e.name === `file-${size}.colpkg`)?.size).toBe(size);
      const g = await driver.value<{ size: number; sha256: string; ms: number }>('fs.download', { path: `AnkiDroid/file-${size}.colpkg`, to: `/tmp/back-${size}.bin` }, 300_000);
      expect(g).toMatchObject({ size, sha256: guestSha });
      console.log(`${size} B: safe write ${w.ms.toFixed(0)} ms, download ${g.ms.toFixed(0)} ms`);
    }
    // replacing an existing file keeps exactly one file under the name, with the new bytes
    const w2 = await driver.value<{ sha256: string }>('fs.safeWrite', { path: 'AnkiDroid/file-1000.colpkg', from: '/tmp/src-600000.bin' });
    expect(sha256(join(dir, 'AnkiDroid/file-1000.colpkg'))).toBe(w2.sha256);
    await driver.value('fs.remove', { path: 'AnkiDroid/file-1000.colpkg' });
    expect(existsSync(join(dir, 'AnkiDroid/file-1000.colpkg'))).toBe(false);
    const rename = await driver.call('fs.rename', { path: 'AnkiDroid/file-600000.colpkg', name: 'renamed.colpkg' });
    expect(rename).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_USB_PROTOCOL', message: expect.stringMatching(/not supported/) } });
    await driver.value('mtp.close');
    await unplugAndWait(lab, driver, 'xfer');
  });

  it('interoperates with libmtp: mtp-getfile reads what we wrote, we read what mtp-sendfile wrote', async () => {
    const dir = lab.phoneDir('interop');
    await plugAndOpen(lab, driver, dir, 'interop');
    const ours = await driver.value<{ sha256: string }>('fs.safeWrite', { path: 'ours.colpkg', from: '/tmp/src-5242880.bin' });
    await driver.value('mtp.close'); // one program at a time on the MTP interface
    const out = await lab.run(`cd /tmp && id=$(mtp-files 2>/dev/null | grep -B1 "Filename: ours.colpkg" | sed -n "s/File ID: //p") && test -n "$id" && mtp-getfile $id /tmp/libmtp-got.bin >/dev/null 2>&1 && sha256sum /tmp/libmtp-got.bin | cut -d' ' -f1`, { timeoutMs: 120_000 });
    expect(out.trim()).toBe(ours.sha256);
    const sendOut = await lab.run('cd /tmp && cp /tmp/src-600000.bin /tmp/theirs.colpkg && mtp-sendfile /tmp/theirs.colpkg / 2>&1', { timeoutMs: 120_000 });
    expect(sendOut).not.toMatch(/Error sending file/);
    await driver.value('mtp.open', { serial: 'INTEROP' });
    const got = await driver.value<{ sha256: string; size: number }>('fs.download', { path: 'theirs.colpkg', to: '/tmp/theirs-back.bin' });
    expect(got).toMatchObject({ size: 600_000, sha256: sha256(join(dir, 'theirs.colpkg')) });
    await driver.value('mtp.close');
    await unplugAndWait(lab, driver, 'interop');
  });

  it('a read-only phone refuses the write with a typed error and is left untouched', async () => {
    const dir = lab.phoneDir('ro');
    writeTree(dir, { 'Download/keep.colpkg': 'keep' });
    await plugAndOpen(lab, driver, dir, 'ro', { readonly: true });
    const r = await driver.call('fs.safeWrite', { path: 'Download/new.colpkg', from: '/tmp/src-1000.bin' });
    expect(r).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_USB_READ_ONLY' } });
    expect(readdirSync(join(dir, 'Download'))).toEqual(['keep.colpkg']);
    expect(readFileSync(join(dir, 'Download/keep.colpkg'), 'utf8')).toBe('keep');
    expect(statSync(join(dir, 'Download')).isDirectory()).toBe(true);
    await driver.value('mtp.close');
    await unplugAndWait(lab, driver, 'ro');
  });
});
