/** The operations the guest driver offers to host-side tests (all run ankibridge's own code). */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { loadUsb } from '../../../src/usb/node-usb.js';
import type { HotplugWatcher } from '../../../src/usb/hotplug-watcher.js';
import { openPhone } from '../../../src/usb/open-phone.js';
import { probePhone } from '../../../src/usb/phone-status.js';
import { downloadFile, fileSource, readToFile, recoverPending, safeWrite } from '../../../src/usb/safe-write.js';
import { findAnkiDroid } from '../../../src/usb/ankidroid-finder.js';
import type { DeviceTransport } from '../../../src/usb/transport.js';
import type { MtpSession } from '../../../src/usb/mtp/session.js';
import { withProgress, type CutPoint } from './progress-transport.js';

export type GuestOp = (args: Record<string, unknown>) => Promise<unknown>;

async function sha256File(path: string): Promise<string> {
  const src = await fileSource(path);
  const h = createHash('sha256');
  for await (const c of src.open()) h.update(c);
  return h.digest('hex');
}

export function guestOps(watcher: HotplugWatcher): Record<string, GuestOp> {
  let phone: (DeviceTransport & { session: MtpSession }) | null = null;
  const current = (): DeviceTransport & { session: MtpSession } => {
    if (!phone) throw new Error('no phone open: call mtp.open first');
    return phone;
  };
  const s = (a: Record<string, unknown>, k: string): string => String(a[k] ?? '');
  /** The open phone, reporting PROGRESS/STEP lines when the request has { progress: tag, every? }. */
  const tracked = (a: Record<string, unknown>): DeviceTransport & { moved?: () => number } =>
    a.progress ? withProgress(current(), String(a.progress), Number(a.every ?? 1 << 20), a.cut as CutPoint | undefined) : current();
  return {
    async exit() {
      await phone?.close().catch(() => undefined);
      return true;
    },
    async health() {
      (globalThis as { gc?: () => void }).gc?.();
      const access = await loadUsb();
      const usbLib = access.ok ? access.lib.usb : null;
      return {
        counts: watcher.counts(),
        phones: watcher.phones().map((p) => p.key),
        resources: process.getActiveResourcesInfo(),
        heapUsed: process.memoryUsage().heapUsed,
        rss: process.memoryUsage().rss,
        maxRssKiB: process.resourceUsage().maxRSS,
        usbListeners: usbLib ? usbLib.listenerCount('attach') + usbLib.listenerCount('detach') : -1,
        watcherListeners: watcher.listenerCount('phone'),
      };
    },
    async 'mtp.open'(a) {
      await phone?.close().catch(() => undefined);
      phone = null;
      const p = watcher.phones().find((x) => x.identity.mode === 'mtp' && (!a.serial || x.info.serial === a.serial));
      if (!p) throw new Error(`the watcher reports no MTP phone${a.serial ? ` with serial ${String(a.serial)}` : ''}`);
      phone = await openPhone(p.device, p.identity, {
        ...(a.dataTimeoutMs ? { dataTimeoutMs: Number(a.dataTimeoutMs) } : {}),
        ...(a.inDepth ? { inDepth: Number(a.inDepth) } : {}),
        ...(a.inChunk ? { inChunk: Number(a.inChunk) } : {}),
        ...(a.outChunk ? { outChunk: Number(a.outChunk) } : {}),
        ...(a.outDepth ? { outDepth: Number(a.outDepth) } : {}),
      });
      const info = phone.session.deviceInfo;
      return { manufacturer: info.manufacturer, model: info.model, serial: info.serialNumber, canRename: phone.canRename, storageId: phone.session && (phone as unknown as { storageId: number }).storageId, operations: [...info.operations].map((o) => o.toString(16)) };
    },
    /** The phone's state as the daemon would report it (opens and closes a session when MTP). */
    async 'phone.status'(a) {
      const p = watcher.phones().find((x) => !a.serial || x.info.serial === a.serial);
      if (!p) throw new Error(`the watcher reports no phone${a.serial ? ` with serial ${String(a.serial)}` : ''}`);
      const { status, transport } = await probePhone(p.device, p.identity, {
        ...(a.waitUnlockMs ? { waitUnlockMs: Number(a.waitUnlockMs), unlockPollMs: Number(a.unlockPollMs ?? 2000) } : {}),
        // the host waits for this line before it unlocks the phone
        onLocked: () => console.log(`WAITING-UNLOCK ${String(a.tag ?? '')}`),
      });
      let rootEntries: string[] | null = null;
      if (transport) {
        rootEntries = (await transport.list('')).map((e) => e.name);
        await transport.close();
      }
      return { ...status, mode: p.identity.mode, rootEntries };
    },
    async 'mtp.close'() {
      await phone?.close();
      phone = null;
      return true;
    },
    async 'fs.list'(a) {
      return current().list(s(a, 'dir'));
    },
    async 'fs.get'(a) {
      const to = s(a, 'to');
      await rm(to, { force: true });
      const t0 = performance.now();
      const size = await readToFile(current(), s(a, 'path'), to);
      const ms = performance.now() - t0;
      return { size, ms, sha256: await sha256File(to) };
    },
    /** A read whose bytes go nowhere (discard), into a hash, or both: where the time of a get goes. */
    async 'fs.getSink'(a) {
      const h = createHash('sha256');
      const kind = s(a, 'sink');
      const t0 = performance.now();
      const size = await current().read(s(a, 'path'), kind === 'hash' ? (c) => void h.update(c) : () => undefined, { transient: a.transient !== false });
      return { size, ms: performance.now() - t0, sha256: kind === 'hash' ? h.digest('hex') : null };
    },
    async 'fs.download'(a) {
      const t0 = performance.now();
      const t = tracked(a);
      const r = await downloadFile(t, s(a, 'path'), s(a, 'to'));
      return { ...r, ms: performance.now() - t0, moved: t.moved?.() ?? null };
    },
    async 'fs.put'(a) {
      const t0 = performance.now();
      const src = await fileSource(s(a, 'from'));
      // stream: true sends from the stream (copied into the transfer buffers), not by random access
      await current().write(s(a, 'path'), a.stream === true ? { size: src.size, open: () => src.open() } : src);
      return { ms: performance.now() - t0 };
    },
    async 'fs.safeWrite'(a) {
      const t0 = performance.now();
      const t = tracked(a);
      const r = await safeWrite(t, s(a, 'path'), await fileSource(s(a, 'from')), { forceCopyFallback: a.forceFallback === true });
      return { ...r, ms: performance.now() - t0, moved: t.moved?.() ?? null };
    },
    async 'fs.remove'(a) {
      await current().remove(s(a, 'path'));
      return true;
    },
    async 'fs.rename'(a) {
      await current().rename(s(a, 'path'), s(a, 'name'));
      return true;
    },
    async 'fs.mkdir'(a) {
      await current().mkdir(s(a, 'path'));
      return true;
    },
    async 'fs.recover'(a) {
      return recoverPending(current(), s(a, 'dir'));
    },
    async 'fs.find'() {
      return findAnkiDroid(current());
    },
    /** Round-trip time of simple transactions (GetStorageIDs), for the bench and diagnostics. */
    async 'mtp.txTime'(a) {
      const n = Number(a.n ?? 20);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await current().session.storageIds();
      return (performance.now() - t0) / n;
    },
    async 'local.ls'(a) {
      const { readdir } = await import('node:fs/promises');
      return readdir(s(a, 'dir'));
    },
    async 'local.mkdir'(a) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(s(a, 'dir'), { recursive: true });
      return true;
    },
    async 'local.sha256'(a) {
      return sha256File(s(a, 'path'));
    },
  };
}
