/**
 * Notices Android phones arriving and leaving, event-driven through node-usb's attach/detach
 * (libusb hot-plug; no polling loop). Debounced: a device that comes and goes within `settleMs`
 * is never reported, and one that goes and comes back the same within `settleMs` (a flapping
 * cable, a re-enumeration in the same mode) is not reported as gone. A mode switch on the phone
 * re-enumerates it with other descriptors: that is reported as left + arrived.
 *
 * Without a USB bus it starts anyway, reports { usable: false, reason } and never throws.
 */
import { EventEmitter } from 'node:events';
import type { Device } from 'usb';
import { describeDevice, portPath } from './describe-device.js';
import { identify, type Identification, type UsbDeviceInfo } from './identify.js';
import { loadUsb, type UsbAccess, type UsbLib } from './node-usb.js';

export interface PhoneEvent {
  readonly type: 'arrived' | 'left';
  /** Stable while plugged: bus and port path. */
  readonly key: string;
  readonly info: UsbDeviceInfo;
  readonly identity: Identification;
  /** Date.now() when the event was decided. */
  readonly at: number;
  /** Date.now() when libusb told us of the attach/detach this event is about. */
  readonly usbEventAt: number;
  /** Already plugged in when the watcher started. */
  readonly initial: boolean;
}

export type WatcherStatus = { readonly usable: true } | { readonly usable: false; readonly reason: string };

interface Tracked {
  device: Device;
  info: UsbDeviceInfo;
  identity: Identification;
  reported: boolean;
  timer: NodeJS.Timeout | null;
  pending: 'arrive' | 'leave' | null;
  usbEventAt: number;
}

export interface HotplugWatcherOptions {
  readonly settleMs?: number;
  /** For tests: pretend the sysfs root is elsewhere (e.g. an empty folder = no USB bus). */
  readonly sysfsRoot?: string;
  /** For tests: a stand-in for node-usb (the debounce logic is tested with scripted events). */
  readonly usbLib?: UsbLib;
}

const HUB_CLASS = 0x09;

function sameIdentity(a: Tracked, info: UsbDeviceInfo, id: Identification): boolean {
  return a.info.vendorId === info.vendorId && a.info.productId === info.productId && a.info.serial === info.serial && a.identity.mode === id.mode;
}

export class HotplugWatcher extends EventEmitter<{ phone: [PhoneEvent]; status: [WatcherStatus]; error: [Error] }> {
  private readonly settleMs: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly keys = new Map<Device, string>();
  private readonly describing = new Set<Device>();
  private lib: UsbLib | null = null;
  private disposed = false;
  private statusValue: WatcherStatus | null = null;

  constructor(private readonly options: HotplugWatcherOptions = {}) {
    super();
    this.settleMs = options.settleMs ?? 200;
  }

  get status(): WatcherStatus | null {
    return this.statusValue;
  }

  /** Starts watching; resolves with the status once the devices already present are known. */
  async start(): Promise<WatcherStatus> {
    const access: UsbAccess = this.options.usbLib
      ? { ok: true, lib: this.options.usbLib }
      : await loadUsb(this.options.sysfsRoot === undefined ? {} : { sysfsRoot: this.options.sysfsRoot });
    if (this.disposed) return { usable: false, reason: 'the watcher was stopped' };
    if (!access.ok) return this.setStatus({ usable: false, reason: access.reason });
    this.lib = access.lib;
    try {
      this.lib.usb.on('attach', this.onAttach);
      this.lib.usb.on('detach', this.onDetach);
      for (const dev of this.lib.getDeviceList()) void this.handleAttach(dev, true);
    } catch (e) {
      this.detachListeners();
      return this.setStatus({ usable: false, reason: `USB hot-plug could not start: ${(e as Error).message}` });
    }
    return this.setStatus({ usable: true });
  }

  /** Phones currently reported as present. */
  phones(): Array<{ key: string; info: UsbDeviceInfo; identity: Identification; device: Device }> {
    return [...this.tracked.entries()]
      .filter(([, t]) => t.reported)
      .map(([key, t]) => ({ key, info: t.info, identity: t.identity, device: t.device }));
  }

  /** Internal bookkeeping sizes, for leak checks. */
  counts(): { tracked: number; keys: number; describing: number; timers: number } {
    return {
      tracked: this.tracked.size, keys: this.keys.size, describing: this.describing.size,
      timers: [...this.tracked.values()].filter((t) => t.timer).length,
    };
  }

  private setStatus(s: WatcherStatus): WatcherStatus {
    this.statusValue = s;
    this.emit('status', s);
    return s;
  }

  private readonly onAttach = (dev: Device): void => void this.handleAttach(dev, false);
  private readonly onDetach = (dev: Device): void => this.handleDetach(dev);

  private async handleAttach(dev: Device, initial: boolean): Promise<void> {
    const usbEventAt = Date.now();
    if (dev.deviceDescriptor.bDeviceClass === HUB_CLASS) return;
    this.describing.add(dev);
    let info: UsbDeviceInfo;
    try {
      info = await describeDevice(dev);
    } catch (e) {
      this.describing.delete(dev);
      this.emit('error', e as Error);
      return;
    }
    // detached while we were reading its descriptors
    if (!this.describing.delete(dev) || this.disposed) return;
    const identity = identify(info);
    if (!identity.isAndroid) return;
    const key = info.portPath;
    this.keys.set(dev, key);
    const existing = this.tracked.get(key);
    if (existing && existing.pending === 'leave') {
      this.clear(existing);
      if (existing.device !== dev) this.keys.delete(existing.device);
      if (sameIdentity(existing, info, identity)) {
        existing.device = dev;
        return; // flapped back within the settle time: still the same phone
      }
      this.tracked.delete(key);
      this.emitPhone('left', key, existing, false);
    }
    const t: Tracked = { device: dev, info, identity, reported: false, timer: null, pending: 'arrive', usbEventAt };
    this.tracked.set(key, t);
    const report = (): void => {
      t.timer = null;
      t.pending = null;
      t.reported = true;
      this.emitPhone('arrived', key, t, initial);
    };
    if (initial) report();
    // the settle time counts from libusb's attach, so reading descriptors overlaps it
    else t.timer = setTimeout(report, Math.max(0, this.settleMs - (Date.now() - usbEventAt)));
  }

  private handleDetach(dev: Device): void {
    if (this.describing.delete(dev)) return;
    const key = this.keys.get(dev) ?? (() => {
      try {
        return portPath(dev);
      } catch {
        return undefined;
      }
    })();
    if (key === undefined) return;
    this.keys.delete(dev);
    const t = this.tracked.get(key);
    if (!t || t.device !== dev) return;
    if (t.pending === 'arrive') {
      this.clear(t);
      this.tracked.delete(key); // came and went within the settle time: never reported
      return;
    }
    t.pending = 'leave';
    t.usbEventAt = Date.now();
    t.timer = setTimeout(() => {
      t.timer = null;
      this.tracked.delete(key);
      this.emitPhone('left', key, t, false);
    }, this.settleMs);
  }

  private emitPhone(type: PhoneEvent['type'], key: string, t: Tracked, initial: boolean): void {
    this.emit('phone', { type, key, info: t.info, identity: t.identity, at: Date.now(), usbEventAt: t.usbEventAt, initial });
  }

  private clear(t: Tracked): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.pending = null;
  }

  private detachListeners(): void {
    // removing the last attach/detach listener stops node-usb's libusb hot-plug thread
    this.lib?.usb.off('attach', this.onAttach);
    this.lib?.usb.off('detach', this.onDetach);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detachListeners();
    for (const t of this.tracked.values()) this.clear(t);
    this.tracked.clear();
    this.keys.clear();
    this.describing.clear();
    this.removeAllListeners();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
