/**
 * Host side of the lab's gadget phone (test/lab/guest/gadget-phone.sh): a USB gadget inside the
 * guest (dummy_hcd + FunctionFS + umtprd) that wears a Pixel's ids and can be switched between
 * the modes Android offers in its "USB" notification.
 *
 *   const phone = gadgetPhone(lab);
 *   await phone.setup('/tmp/gadget-phone');      // storage folder in the guest; mode 'mtp'
 *   await phone.plug('mtp-adb');                 // or setMode() while plugged: re-enumerates
 *   await phone.plug('locked'); await phone.unlock();
 */
import { join } from 'node:path';
import { REPO_ROOT, type Lab } from './lab.js';

export const GADGET_SCRIPT = join(REPO_ROOT, 'test/lab/guest/gadget-phone.sh');

/**
 * mtp: File transfer (18d1:4ee1). mtp-adb: File transfer + USB debugging (4ee2, MTP + ADB
 * 0xff/0x42/1). ptp: Transfer photos (4ee5). adb: no data + USB debugging (4ee7, ADB only).
 * charging: no data interface. locked: MTP, but no storage until unlock().
 */
export type GadgetMode = 'mtp' | 'mtp-adb' | 'ptp' | 'adb' | 'charging' | 'locked';

export interface GadgetSetup {
  readonly vid?: number;
  readonly pid?: number;
  readonly serial?: string;
  readonly product?: string;
}

export interface GadgetPhone {
  /** Loads dummy_hcd, builds the gadget, starts umtprd on `dir` (a guest path). Not plugged. */
  setup(dir: string, opts?: GadgetSetup): Promise<void>;
  /** Binds the gadget to the UDC (after switching to `mode` when given). */
  plug(mode?: GadgetMode): Promise<void>;
  /** Unbinds the gadget; its MTP responder starts afresh, as Android's does for every connection. */
  unplug(): Promise<void>;
  /** Switches the mode; a plugged phone leaves and arrives again, as a real one does. */
  setMode(mode: GadgetMode): Promise<void>;
  /** A 'locked' phone shows its storage (umtprd mounts it and sends StoreAdded). */
  unlock(): Promise<void>;
  status(): Promise<{ mode: GadgetMode; plugged: boolean }>;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

export function gadgetPhone(lab: Lab): GadgetPhone {
  const sh = (args: string, timeoutMs = 60_000): Promise<string> => lab.run(`sh ${q(GADGET_SCRIPT)} ${args}`, { timeoutMs });
  return {
    async setup(dir, opts = {}) {
      const ids = opts.vid !== undefined || opts.pid !== undefined || opts.serial !== undefined || opts.product !== undefined
        ? ` ${hex(opts.vid ?? 0x18d1)} ${hex(opts.pid ?? 0x4ee1)} ${q(opts.serial ?? 'GADGET01')} ${q(opts.product ?? 'Pixel Lab')}`
        : '';
      await sh(`setup ${q(dir)}${ids}`, 120_000);
    },
    async plug(mode) {
      await sh(mode ? `plug ${mode}` : 'plug');
    },
    async unplug() {
      await sh('unplug');
    },
    async setMode(mode) {
      await sh(`mode ${mode}`);
    },
    async unlock() {
      await sh('unlock');
    },
    async status() {
      const out = await sh('status');
      const m = /mode=(\S+) plugged=(\d)/.exec(out);
      if (!m) throw new Error(`gadget phone: unexpected status "${out.trim()}"`);
      return { mode: m[1] as GadgetMode, plugged: m[2] === '1' };
    },
  };
}
