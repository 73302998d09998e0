/**
 * Lab: the hot-plug watcher on a real (emulated) USB bus. QEMU's usb-mtp phone is plugged and
 * unplugged over QMP; the watcher runs inside the guest (test/lab/guest/driver.ts).
 */
import { loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';
import { LAB_HOOK_TIMEOUT_MS } from './support.js';

interface Health {
  counts: { tracked: number; keys: number; describing: number; timers: number };
  phones: string[];
  resources: string[];
  heapUsed: number;
  usbListeners: number;
  watcherListeners: number;
}

let lab: Lab;
let driver: Driver;

beforeAll(async () => {
  lab = await startLab();
  driver = await startDriver(lab);
  console.log(`lab: guest ready in ${(lab.bootMs / 1000).toFixed(1)} s`);
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

async function cycle(dir: string, serial: string): Promise<{ arrive: number; decide: number; leave: number }> {
  const from = driver.mark();
  const plugged = await lab.plugPhone(dir, { serial, id: serial.toLowerCase() });
  const arrived = await driver.waitEvent((e) => e.type === 'arrived' && e.serial === serial, { from });
  const unplugAt = performance.now();
  await lab.unplug(serial.toLowerCase());
  await driver.waitEvent((e) => e.type === 'left' && e.serial === serial, { from: arrived.index + 1 });
  return { arrive: arrived.hostAt - plugged.at, decide: arrived.event.at - arrived.event.usbEventAt, leave: performance.now() - unplugAt };
}

describe('USB lab: hot-plug watcher', () => {
  it('reports an MTP Android phone within 1 s of enumeration, and reports it gone on unplug', async () => {
    // Timing under software emulation on a shared machine: a guest starved of CPU for a moment
    // is no verdict on the watcher, so the phone is plugged up to 3 times and the best counts.
    const tries: Array<{ decide: number; arrive: number; leave: number }> = [];
    for (let i = 1; i <= 3; i++) {
      const from = driver.mark();
      const plugged = await lab.plugPhone(lab.phoneDir('hp'), { serial: `HP-${i}`, id: `hp${i}` });
      const { event, hostAt, index } = await driver.waitEvent((e) => e.type === 'arrived', { from });
      expect(event).toMatchObject({ type: 'arrived', mode: 'mtp', label: 'QEMU filesharing', serial: `HP-${i}`, vid: 0x46f4, pid: 0x0004, guidance: null, initial: false });
      const t0 = performance.now();
      await lab.unplug(`hp${i}`);
      const left = await driver.waitEvent((e) => e.type === 'left', { from: index + 1 });
      expect(left.event).toMatchObject({ type: 'left', serial: `HP-${i}`, key: event.key });
      // from libusb's attach (enumeration done) to our report: identification + the 200 ms settle time
      tries.push({ decide: event.at - event.usbEventAt, arrive: hostAt - plugged.at, leave: left.hostAt - t0 });
      if (event.at - event.usbEventAt < 1000) break;
    }
    const best = (k: 'decide' | 'arrive' | 'leave'): number => Math.min(...tries.map((t) => t[k]));
    console.log(`plug: attach -> report ${tries.map((t) => t.decide).join(', ')} ms (guest clock); device_add -> report ${tries.map((t) => t.arrive.toFixed(0)).join(', ')} ms, device_del -> report ${tries.map((t) => t.leave.toFixed(0)).join(', ')} ms (host clock); host load ${loadavg()[0]?.toFixed(1)}`);
    expect(best('decide')).toBeLessThan(1000);
    // the whole path (QMP, xHCI enumeration, udev, libusb, us) and the way out: no hang
    expect(best('arrive')).toBeLessThan(15_000);
    expect(best('leave')).toBeLessThan(15_000);
  });

  it('20 plug/unplug cycles leak no handles, listeners, timers or memory', async () => {
    const dir = lab.phoneDir('cycles');
    await cycle(dir, 'WARM');
    const before = await driver.value<Health>('health');
    const from = driver.mark();
    const times: Array<{ arrive: number; decide: number; leave: number }> = [];
    for (let i = 0; i < 20; i++) times.push(await cycle(dir, `CYC-${i}`));
    const after = await driver.value<Health>('health');
    const events = driver.events(from);
    expect(events.filter((e) => e.type === 'arrived')).toHaveLength(20);
    expect(events.filter((e) => e.type === 'left')).toHaveLength(20);
    expect(events.map((e) => e.type)).toEqual(Array.from({ length: 20 }, () => ['arrived', 'left']).flat());
    expect(after.counts).toEqual({ tracked: 0, keys: 0, describing: 0, timers: 0 });
    expect(after.phones).toEqual([]);
    expect(after.usbListeners).toBe(before.usbListeners);
    expect(after.watcherListeners).toBe(before.watcherListeners);
    expect([...after.resources].sort()).toEqual([...before.resources].sort());
    const growth = after.heapUsed - before.heapUsed;
    const max = (k: 'arrive' | 'decide' | 'leave'): number => Math.max(...times.map((t) => t[k]));
    console.log(`20 cycles: heap ${(before.heapUsed / 1e6).toFixed(1)} -> ${(after.heapUsed / 1e6).toFixed(1)} MB; worst plug->report ${max('arrive').toFixed(0)} ms, attach->report ${max('decide')} ms, unplug->report ${max('leave').toFixed(0)} ms`);
    expect(growth).toBeLessThan(3_000_000);
    // within 1 s: every cycle but a moment of CPU starvation of the emulated guest (at most 2 of 20)
    const slow = times.filter((t) => t.decide >= 1000).length;
    expect(slow, `cycles over 1 s: ${times.map((t) => t.decide).join(', ')} ms; host load ${loadavg()[0]?.toFixed(1)}`).toBeLessThanOrEqual(2);
  });
});
