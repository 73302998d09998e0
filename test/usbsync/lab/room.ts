/**
 * Host side of the USB sync room running in the lab guest (guest-room.ts): plug and unplug QEMU's
 * MTP phone, wait for the room's decisions, run jobs, hand collections in and out.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../../lab/harness/lab.js';
import { startDriver, type Driver } from '../../lab/harness/driver.js';
import type { TxnResult } from '../../../src/sync/usb-sync/transactions.js';

export interface RoomDecision {
  type: 'decision';
  at: number;
  deviceId: string;
  state: string;
  headline: string;
  recommended: string | null;
  phoneSource: string;
  actions: Array<{ id: string; available: boolean; needsConfirmation: boolean; guard: string | null }>;
}

export interface RoomTiming {
  type: 'timing';
  deviceId: string;
  state: string;
  msFromUsb: number;
  settleMs: number;
  openMs: number;
  readMs: number;
}

type AnyEvent = { type: string; [k: string]: unknown };

/** A transaction's result as the guest returns it, with the time the job took. */
export type JobResult = TxnResult & { ms: number };

export interface Room {
  readonly driver: Driver;
  /** Plugs a phone whose storage is `dir`; resolves with the first decision after it. */
  plug(dir: string, serial: string, opts?: { waitFor?: (d: RoomDecision) => boolean }): Promise<{ decision: RoomDecision; hostMs: number; stages: Array<{ stage: string; ms: number }>; timing: RoomTiming | null }>;
  unplug(serial: string): Promise<void>;
  plugged(): string[];
  /** Events of one type since `from` (driver.mark()). */
  events<T = AnyEvent>(type: string, from?: number): T[];
  waitEvent<T = AnyEvent>(type: string, match?: (e: T) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<T>;
  job(kind: 'usb.pull' | 'usb.push' | 'usb.merge', opts?: { confirm?: boolean; deviceId?: string }): Promise<JobResult>;
  /** The job, expected to fail: its error code. */
  jobError(kind: 'usb.pull' | 'usb.push' | 'usb.merge', opts?: { confirm?: boolean }): Promise<{ code: string | null; message: string }>;
  useDesktop(collection: string, media?: string): Promise<void>;
  /** The guest's desktop collection copied to `to` (a collection.anki2 path on the host; media beside it). */
  desktopOut(to: string, withMedia?: boolean): Promise<void>;
  backupOut(id: string, to: string): Promise<{ source: string; reason: string }>;
  journal(limit?: number): Promise<Array<{ id: string; kind: string; state: string; note: string | null }>>;
  stop(): Promise<void>;
}

export const deviceIdOf = (serial: string): string => `usb-${serial}`;

export async function startRoom(lab: Lab): Promise<Room> {
  const driver = await startDriver(lab, {}, 'test/usbsync/lab/guest-room.ts');
  const all = (): AnyEvent[] => driver.events(0) as unknown as AnyEvent[];
  const plugged = new Set<string>();
  const xchgIn = path.join(lab.xchg, 'room-in');
  mkdirSync(xchgIn, { recursive: true });
  const room: Room = {
    driver,
    plugged: () => [...plugged],
    events<T>(type: string, from = 0) {
      return all().slice(from).filter((e) => e.type === type) as T[];
    },
    async waitEvent<T>(type: string, match: (e: T) => boolean = () => true, opts: { from?: number; timeoutMs?: number } = {}) {
      const r = await driver.waitEvent((e) => (e as unknown as AnyEvent).type === type && match(e as unknown as T), opts);
      return r.event as unknown as T;
    },
    async plug(dir, serial, opts = {}) {
      const from = driver.mark();
      const t0 = performance.now();
      await lab.plugPhone(dir, { id: serial.toLowerCase(), serial });
      plugged.add(serial);
      const decision = await room.waitEvent<RoomDecision>('decision', (d) => d.deviceId === deviceIdOf(serial) && (opts.waitFor?.(d) ?? true), { from, timeoutMs: 240_000 });
      const hostMs = performance.now() - t0;
      // the timing line follows the decision (a phone that is not ready has none)
      const timing =
        decision.state === 'phone-not-ready'
          ? null
          : await room.waitEvent<RoomTiming>('timing', (t) => t.deviceId === deviceIdOf(serial), { from, timeoutMs: 30_000 });
      const stages = room.events<{ stage: string; ms: number }>('stage', from).map((s) => ({ stage: s.stage, ms: s.ms }));
      return { decision, hostMs, stages, timing };
    },
    async unplug(serial) {
      if (!plugged.has(serial)) return;
      const from = driver.mark();
      await lab.unplug(serial.toLowerCase());
      plugged.delete(serial);
      await room.waitEvent('decision-cleared', (e: { deviceId: string }) => e.deviceId === deviceIdOf(serial), { from, timeoutMs: 60_000 });
    },
    async job(kind, opts = {}) {
      return driver.value<JobResult>('job', { kind, ...opts }, 600_000);
    },
    async jobError(kind, opts = {}) {
      const r = await driver.call('job', { kind, ...opts }, 600_000);
      if (r.ok) throw new Error(`${kind} was expected to fail, it gave ${JSON.stringify(r.value)}`);
      return { code: r.error.code, message: r.error.message };
    },
    async useDesktop(collection, media) {
      rmSync(xchgIn, { recursive: true, force: true });
      mkdirSync(xchgIn, { recursive: true });
      const from = path.join(xchgIn, 'collection.anki2');
      copyFileSync(collection, from);
      let mediaIn: string | undefined;
      if (media) {
        mediaIn = path.join(xchgIn, 'collection.media');
        const { cpSync } = await import('node:fs');
        cpSync(media, mediaIn, { recursive: true });
      }
      await driver.value('use-desktop', { from, ...(mediaIn ? { media: mediaIn } : {}) });
    },
    async desktopOut(to, withMedia = false) {
      const out = path.join(lab.xchg, 'room-out');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      await driver.value('desktop-out', { to: path.join(out, 'collection.anki2'), ...(withMedia ? { media: path.join(out, 'collection.media') } : {}) });
      mkdirSync(path.dirname(to), { recursive: true });
      rmSync(`${to}-wal`, { force: true });
      copyFileSync(path.join(out, 'collection.anki2'), to);
      if (withMedia) {
        const { cpSync } = await import('node:fs');
        const mediaTo = path.join(path.dirname(to), 'collection.media');
        rmSync(mediaTo, { recursive: true, force: true });
        cpSync(path.join(out, 'collection.media'), mediaTo, { recursive: true });
      }
    },
    async backupOut(id, to) {
      const tmp = path.join(lab.xchg, 'backup-out.anki2');
      const r = await driver.value<{ source: string; reason: string }>('backup-out', { id, to: tmp });
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(tmp, to);
      return r;
    },
    async journal(limit = 10) {
      return driver.value('journal', { limit });
    },
    async stop() {
      for (const s of [...plugged]) await lab.unplug(s.toLowerCase()).catch(() => undefined);
      await driver.stop();
    },
  };
  return room;
}
