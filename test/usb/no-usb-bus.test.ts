import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HotplugWatcher } from '../../src/usb/hotplug-watcher.js';

describe('the USB layer on a machine without a USB bus', () => {
  it('starts, says "no USB access", does not crash, and leaves nothing running', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    // On CI and in containers there is no /sys/bus/usb; elsewhere point the watcher at an empty sysfs.
    const sysfs = existsSync('/sys/bus/usb') ? mkdtempSync(join(tmpdir(), 'nosysfs-')) : undefined;
    const w = new HotplugWatcher(sysfs ? { sysfsRoot: sysfs } : {});
    const seen: unknown[] = [];
    w.on('status', (s) => seen.push(s));
    const status = await w.start();
    expect(status).toEqual({ usable: false, reason: expect.stringMatching(/no USB bus/) });
    expect(seen).toEqual([status]);
    expect(w.phones()).toEqual([]);
    w.dispose();
    if (sysfs) rmSync(sysfs, { recursive: true });
    await new Promise((r) => setTimeout(r, 50));
    const leaked = process.getActiveResourcesInfo().filter((r) => !before.has(r) && r !== 'TTYWrap');
    expect(leaked).toEqual([]);
  });

  it('node-usb v2 itself loads here without a bus and lists no devices (the reason we use v2)', async () => {
    const mod = (await import('usb')) as unknown as { default: typeof import('usb') };
    expect(mod.default.getDeviceList()).toEqual(existsSync('/sys/bus/usb') ? expect.any(Array) : []);
  });
});
