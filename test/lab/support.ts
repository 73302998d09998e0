/** Helpers shared by the lab test files. */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Lab } from './harness/lab.js';
import type { Driver } from './harness/driver.js';

/**
 * beforeAll timeout of a lab test file. Only one guest runs at a time (harness/lab-lock.ts), so a
 * file may first wait for every other lab file of the suite (about 40 minutes on a loaded CI
 * machine), then boot (up to 5 minutes under full load).
 */
export const LAB_HOOK_TIMEOUT_MS = 3 * 3600_000;

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
}

/**
 * QEMU 7.2's usb-mtp mishandles some upload sizes (it aborts or hangs when (size + 12) % 64 < 12,
 * see the lab notes): test data must avoid them, or the lab, not ankibridge, fails.
 */
export function assertLabSafeSize(size: number): number {
  if ((size + 12) % 64 < 12) throw new Error(`test size ${size} hits QEMU usb-mtp's upload bug; pick another`);
  return size;
}

/** Plugs a phone, waits for the watcher to report it and opens an MTP session in the guest. */
export async function plugAndOpen(lab: Lab, driver: Driver, dir: string, id: string, opts: { readonly?: boolean } = {}): Promise<void> {
  const from = driver.mark();
  await lab.plugPhone(dir, { id, serial: id.toUpperCase(), readonly: opts.readonly ?? false });
  await driver.waitEvent((e) => e.type === 'arrived' && e.serial === id.toUpperCase(), { from, timeoutMs: 120_000 });
  await driver.value('mtp.open', { serial: id.toUpperCase() });
}

export async function unplugAndWait(lab: Lab, driver: Driver, id: string): Promise<void> {
  const from = driver.mark();
  await lab.unplug(id);
  await driver.waitEvent((e) => e.type === 'left' && e.serial === id.toUpperCase(), { from, timeoutMs: 120_000 });
}

/** Deterministic PRNG for seeded "random" unplug points. */
export { seededRandom as seeded } from '../support/seeded-random.js';
