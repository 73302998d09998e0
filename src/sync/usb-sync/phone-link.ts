/**
 * From USB hot-plug to a decision (DESIGN.md "Plug-in"): the HotplugWatcher reports a phone →
 * its mode is known from the descriptors → an MTP phone is opened → the phone is identified by
 * its USB serial plus its MTP device info → USB sync's `connect()` reads both sides and puts the
 * decision up. A phone that cannot be read (charging only, PTP, ADB only, locked, held by another
 * program, no AnkiDroid collection, no Anki Desktop profile) gets a "phone not ready" decision
 * that says what to do instead. A locked phone keeps its session open and is read as soon as it
 * is unlocked (Android adds its storage then, without re-enumerating); one held by another
 * program is tried again while it stays plugged in. Unplugging disconnects
 * (the decision goes, the transport is closed); a transaction running on it fails with the
 * USB room's DISCONNECTED error and its journal rolls back or finishes (transactions.ts).
 */
import type { Device } from 'usb';
import { isAnkibridgeError } from '../../errors/index.js';
import { UsbErrors } from '../../errors/codes/usb.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import type { PhoneEvent, WatcherStatus } from '../../usb/hotplug-watcher.js';
import { GUIDANCE, type Identification } from '../../usb/identify.js';
import type { MtpSession } from '../../usb/mtp/session.js';
import { probePhone, statusFromIdentity } from '../../usb/phone-status.js';
import type { DeviceTransport } from '../../usb/transport.js';
import type { DesktopTarget } from '../desktop/replace.js';
import type { DecisionView, NotReady } from './decision.js';
import type { PhoneIdentity } from './pair-store.js';
import type { Connection } from './service.js';

export type PhoneTransport = DeviceTransport & { readonly session: MtpSession };

/** What opening a phone found: ready (with the open transport) or why not, with what to do. */
export type ProbeResult = { ready: true; transport: PhoneTransport } | { ready: false; notReady: NotReady; retry: boolean };

export interface ProbeHooks {
  /** The phone opened but is locked: it is being waited for (say so now). */
  onLocked(): void;
  /** Aborted when the phone goes or the daemon stops (ends a wait for an unlock). */
  signal: AbortSignal;
}

export type PhoneProbe = (device: Device, identity: Identification, hooks: ProbeHooks) => Promise<ProbeResult>;

/** The watcher as the link uses it (HotplugWatcher; tests script one). */
export interface PhoneWatcher {
  on(event: 'phone', listener: (e: PhoneEvent) => void): unknown;
  off(event: 'phone', listener: (e: PhoneEvent) => void): unknown;
  start(): Promise<WatcherStatus>;
  phones(): Array<{ key: string; device: Device }>;
  dispose(): void;
}

/** The USB sync room as the link drives it (daemon-plugin.ts). */
export interface LinkedRoom {
  connect(deviceId: string, c: Connection): Promise<DecisionView>;
  disconnect(deviceId: string): void;
  notReady(deviceId: string, label: string, n: NotReady): void;
}

export interface PhoneTiming {
  /** libusb's attach (ms, Date.now()). */
  usbEventAt: number;
  /** The watcher reported the phone (after its settle time). */
  arrivedAt: number;
  /** The MTP session and storage were open. */
  openedAt: number;
  /** Both sides read, the decision built. */
  decidedAt: number;
}

export interface PhoneLinkOptions {
  watcher: PhoneWatcher;
  room: LinkedRoom;
  /** The desktop profile to pair with (Anki's current profile); throws a catalogued error when there is none. */
  target(): DesktopTarget;
  probe?: PhoneProbe;
  /** How often a locked or busy phone is tried again while plugged in (ms). */
  retryMs?: number;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Called with each decision reached from a plug-in, and how long each stage took. */
  onDecision?(deviceId: string, d: DecisionView, t: PhoneTiming): void;
}

interface Plugged {
  deviceId: string;
  label: string;
  gen: number;
  transport: PhoneTransport | null;
  retry: NodeJS.Timeout | null;
  /** Aborted when the phone goes: ends a wait for an unlock. */
  gone: AbortController;
}

/** The id a phone keeps in decisions and the API: its USB serial (the same in every USB mode), else its port. */
export function deviceIdOf(e: Pick<PhoneEvent, 'key' | 'info'>): string {
  return e.info.serial ? `usb-${e.info.serial}` : `port-${e.key}`;
}

function guidanceOf(e: unknown): string {
  if (isAnkibridgeError(e)) return `${e.message} ${e.hint}`.trim();
  return (e as Error)?.message ?? String(e);
}

/** How long a locked phone's session is kept open, waiting for the person to unlock it. */
const UNLOCK_WAIT_MS = 60 * 60_000;

/**
 * Opens an MTP phone (the USB room's probePhone). A locked phone keeps its session open and is
 * waited for (Android adds its storage and sends StoreAdded on unlock, without re-enumerating);
 * one held by another program is tried again.
 */
export const defaultProbe: PhoneProbe = async (device, identity, hooks) => {
  const { status, transport } = await probePhone(device, identity, { waitUnlockMs: UNLOCK_WAIT_MS, unlockPollMs: 2000, onLocked: hooks.onLocked, signal: hooks.signal });
  if (transport) return { ready: true, transport };
  const guidance = status.guidance ?? `${identity.label} does not offer its files over USB.`;
  return { ready: false, retry: status.state === 'busy' || status.state === 'locked', notReady: { reason: status.state, guidance } };
};

function notReadyFromDescriptors(identity: Identification): ProbeResult {
  const status = statusFromIdentity(identity);
  return { ready: false, retry: false, notReady: { reason: status?.state ?? identity.mode, guidance: status?.guidance ?? identity.guidance ?? `${identity.label} does not offer its files over USB.` } };
}

export class PhoneLink {
  private readonly plugged = new Map<string, Plugged>();
  private gen = 0;
  private disposed = false;
  private readonly probe: PhoneProbe;

  constructor(private readonly o: PhoneLinkOptions) {
    this.probe = o.probe ?? defaultProbe;
  }

  async start(): Promise<WatcherStatus> {
    this.o.watcher.on('phone', this.onPhone);
    const status = await this.o.watcher.start();
    if (!status.usable) this.o.log?.info({ reason: status.reason }, `USB phones are not watched: ${status.reason}`);
    return status;
  }

  /** Phones plugged in now, by device id. */
  deviceIds(): string[] {
    return [...this.plugged.values()].map((p) => p.deviceId);
  }

  private readonly onPhone = (e: PhoneEvent): void => {
    if (this.disposed) return;
    if (e.type === 'arrived') void this.arrived(e);
    else void this.left(e);
  };

  private async arrived(e: PhoneEvent): Promise<void> {
    void this.left(e, true); // a re-enumeration on the same port (mode switch) replaces what was there
    const p: Plugged = { deviceId: deviceIdOf(e), label: e.identity.label, gen: ++this.gen, transport: null, retry: null, gone: new AbortController() };
    this.plugged.set(e.key, p);
    this.o.log?.info({ deviceId: p.deviceId, mode: e.identity.mode, label: p.label }, `phone plugged in: ${p.label} (${e.identity.mode})`);
    await this.attempt(e, p, e.at);
  }

  private current(key: string, p: Plugged): boolean {
    return !this.disposed && this.plugged.get(key) === p;
  }

  private async attempt(e: PhoneEvent, p: Plugged, arrivedAt: number): Promise<void> {
    const device = this.o.watcher.phones().find((x) => x.key === e.key)?.device;
    if (!device) return;
    let r: ProbeResult;
    try {
      const hooks: ProbeHooks = {
        signal: p.gone.signal,
        onLocked: () => {
          if (!this.current(e.key, p)) return;
          this.o.room.notReady(p.deviceId, p.label, { reason: 'locked', guidance: GUIDANCE.UNLOCK });
          this.o.log?.info({ deviceId: p.deviceId }, `phone ${p.label} is locked: waiting for it to be unlocked`);
        },
      };
      // A phone that does not offer MTP (charging only, PTP, ADB only) is told so from its descriptors.
      r = e.identity.mode === 'mtp' ? await this.probe(device, e.identity, hooks) : notReadyFromDescriptors(e.identity);
    } catch (err) {
      r = { ready: false, retry: false, notReady: { reason: 'error', guidance: guidanceOf(err) } };
    }
    if (!this.current(e.key, p)) {
      if (r.ready) await r.transport.close().catch(() => undefined);
      return;
    }
    if (!r.ready) {
      this.o.room.notReady(p.deviceId, p.label, r.notReady);
      this.o.log?.info({ deviceId: p.deviceId, reason: r.notReady.reason }, `phone ${p.label} is not ready: ${r.notReady.guidance}`);
      if (r.retry) p.retry = setTimeout(() => void this.attempt(e, p, arrivedAt), this.o.retryMs ?? 2000);
      return;
    }
    p.retry = null;
    p.transport = r.transport;
    const openedAt = Date.now();
    const info = r.transport.session.deviceInfo;
    const label = info.model ? (info.manufacturer && !info.model.toLowerCase().includes(info.manufacturer.toLowerCase()) ? `${info.model} (${info.manufacturer})` : info.model) : p.label;
    p.label = label;
    const phone: PhoneIdentity = {
      serial: e.info.serial ?? info.serialNumber ?? e.key,
      ...(info.manufacturer ? { manufacturer: info.manufacturer } : {}),
      ...(info.model ? { model: info.model } : {}),
      label,
    };
    let target: DesktopTarget;
    try {
      target = this.o.target();
    } catch (err) {
      this.o.room.notReady(p.deviceId, label, { reason: 'no-desktop', guidance: guidanceOf(err) });
      return;
    }
    try {
      const d = await this.o.room.connect(p.deviceId, { target, phone, transport: r.transport });
      if (!this.current(e.key, p)) return;
      const t: PhoneTiming = { usbEventAt: e.usbEventAt, arrivedAt, openedAt, decidedAt: Date.now() };
      this.o.log?.info(
        { deviceId: p.deviceId, state: d.state, ms: t.decidedAt - t.usbEventAt, openMs: t.openedAt - t.arrivedAt, readMs: t.decidedAt - t.openedAt },
        `phone ${label}: ${d.headline} (decision ready ${t.decidedAt - t.usbEventAt} ms after plug-in)`,
      );
      this.o.onDecision?.(p.deviceId, d, t);
    } catch (err) {
      if (!this.current(e.key, p)) return;
      const code = isAnkibridgeError(err) ? err.code : '';
      if (code === UsbErrors.DISCONNECTED.code) return; // the watcher's "left" follows
      const reason = code === UsbSyncErrors.PHONE_COLLECTION_NOT_FOUND.code ? 'no-collection' : code === UsbErrors.LOCKED.code ? 'locked' : 'error';
      this.o.room.notReady(p.deviceId, label, { reason, guidance: reason === 'locked' ? GUIDANCE.UNLOCK : guidanceOf(err) });
      this.o.log?.warn({ deviceId: p.deviceId, code, err: (err as Error).message }, `phone ${label} could not be read: ${(err as Error).message}`);
    }
  }

  private left(e: Pick<PhoneEvent, 'key'>, replaced = false): Promise<void> {
    const p = this.plugged.get(e.key);
    if (!p) return Promise.resolve();
    this.plugged.delete(e.key);
    p.gone.abort();
    if (p.retry) clearTimeout(p.retry);
    p.retry = null;
    this.o.room.disconnect(p.deviceId);
    if (!replaced) this.o.log?.info({ deviceId: p.deviceId }, `phone unplugged: ${p.label}`);
    const t = p.transport;
    p.transport = null;
    // The device is gone: closing only lets go of our handles (bounded waits in usb-pipe.ts).
    return t ? t.close().catch(() => undefined) : Promise.resolve();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.o.watcher.off('phone', this.onPhone);
    this.disposed = true;
    await Promise.all([...this.plugged.keys()].map((key) => this.left({ key })));
    this.o.watcher.dispose();
  }
}
