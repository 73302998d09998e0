// The hot-plug → connect hook (phone-link.ts) inside the USB sync plugin, with a scripted watcher
// (the lab proves the real one): a phone in charging-only / PTP / ADB-only mode, a locked phone
// and an unreadable one each give a "phone not ready" decision that says what to do (and the
// devices provider the same state); a locked phone is tried again and, once unlocked, gets its
// real decision; an MTP phone is identified by USB serial + MTP device info; unplugging clears
// the decision, also when it goes while both sides are being read.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from 'usb';
import { AnkiPeer } from '../peer/peer.js';
import { identify, GUIDANCE, type InterfaceInfo, type UsbDeviceInfo } from '../../src/usb/identify.js';
import type { PhoneEvent, WatcherStatus } from '../../src/usb/hotplug-watcher.js';
import { openFolderTransport } from '../../src/usb/folder-transport.js';
import { usbSyncPlugin } from '../../src/sync/usb-sync/daemon-plugin.js';
import type { ProbeResult, PhoneTransport, PhoneWatcher } from '../../src/sync/usb-sync/phone-link.js';
import { pairIdOf } from '../../src/sync/usb-sync/pair-store.js';
import { copyCollection } from './support/scene.js';

const eps3 = [
  { address: 0x81, direction: 'in' as const, kind: 'bulk' as const, maxPacketSize: 512 },
  { address: 0x02, direction: 'out' as const, kind: 'bulk' as const, maxPacketSize: 512 },
  { address: 0x83, direction: 'in' as const, kind: 'interrupt' as const, maxPacketSize: 64 },
];
const itf = (cls: [number, number, number], name: string | null, endpoints = eps3): InterfaceInfo => ({ number: 0, alternate: 0, class: cls[0], subclass: cls[1], protocol: cls[2], name, endpoints });
const MODES: Record<string, { pid: number; interfaces: InterfaceInfo[] }> = {
  mtp: { pid: 0x4ee1, interfaces: [itf([6, 1, 1], 'MTP')] },
  ptp: { pid: 0x4ee5, interfaces: [itf([6, 1, 1], null)] },
  adb: { pid: 0x4ee7, interfaces: [itf([0xff, 0x42, 1], 'ADB Interface', eps3.slice(0, 2))] },
  charging: { pid: 0x4ee0, interfaces: [] },
};

class ScriptedWatcher extends EventEmitter implements PhoneWatcher {
  private readonly present = new Map<string, Device>();
  async start(): Promise<WatcherStatus> {
    return { usable: true };
  }
  phones() {
    return [...this.present.entries()].map(([key, device]) => ({ key, device }));
  }
  plug(mode: keyof typeof MODES, serial = 'SER42'): PhoneEvent {
    const m = MODES[mode]!;
    const info: UsbDeviceInfo = { busNumber: 1, address: 7, portPath: '1-3', vendorId: 0x18d1, productId: m.pid, deviceClass: 0, manufacturer: 'Google', product: 'Pixel 7', serial, interfaces: m.interfaces };
    const e: PhoneEvent = { type: 'arrived', key: info.portPath, info, identity: identify(info), at: Date.now(), usbEventAt: Date.now(), initial: false };
    this.present.set(e.key, { mode } as unknown as Device);
    this.emit('phone', e);
    return e;
  }
  unplug(e: PhoneEvent): void {
    this.present.delete(e.key);
    this.emit('phone', { ...e, type: 'left' });
  }
  dispose(): void {
    this.removeAllListeners();
  }
}

let peer: AnkiPeer;
let root: string;
beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-link-'));
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function until<T>(f: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('hot-plug → USB sync', () => {
  it('not-ready modes and a locked phone say what to do; unlocked, the phone is read and identified; unplug clears it', async () => {
    const dir = path.join(root, 'one');
    const desktop = path.join(dir, 'anki', 'User 1', 'collection.anki2');
    const phoneRoot = path.join(dir, 'phone');
    const seed = path.join(dir, 'seed.anki2');
    await peer.createCollection({ path: seed, notes: 10, seed: 2, reviewsPerCard: 1 });
    copyCollection(seed, desktop);
    copyCollection(seed, path.join(phoneRoot, 'AnkiDroid', 'collection.anki2'));
    const watcher = new ScriptedWatcher();
    let locked = true;
    let probes = 0;
    let gate: Promise<void> = Promise.resolve();
    const probe = async (device: Device): Promise<ProbeResult> => {
      probes++;
      if (locked) return { ready: false, retry: true, notReady: { reason: 'locked', guidance: GUIDANCE.UNLOCK } };
      await gate;
      const t = openFolderTransport(phoneRoot, 'Pixel 7') as unknown as PhoneTransport;
      Object.assign(t, { session: { deviceInfo: { manufacturer: 'Google', model: 'Pixel 7', serialNumber: 'MTPSER', operations: new Set() } } });
      void device;
      return { ready: true, transport: t };
    };
    const room = usbSyncPlugin({
      dataDir: path.join(dir, 'data'), stateDb: path.join(dir, 'state.db'), tmpDir: path.join(dir, 'tmp'),
      target: () => ({ profile: 'User 1', collectionPath: desktop, mediaDir: path.join(path.dirname(desktop), 'collection.media') }),
      watcher: () => watcher,
      link: { probe, retryMs: 50 },
    });
    await room.start();
    try {
      const decisions = room.providers.decisions;
      const id = 'usb-SER42';
      // descriptor modes: no session is even tried for those that cannot speak MTP
      for (const [mode, word] of [['charging', 'charging-only'], ['ptp', 'ptp'], ['adb', 'adb-only']] as const) {
        const before = probes;
        const e = watcher.plug(mode);
        const d = await until(() => decisions.get(id), `${mode} decision`);
        expect(d.state).toBe('phone-not-ready');
        expect(d.headline).toContain(GUIDANCE.FILE_TRANSFER);
        expect(d.actions.every((a) => !a.available && a.unavailableReason === d.headline)).toBe(true);
        expect(decisions.list().map((x) => x.deviceId)).toEqual([id]);
        expect(await room.providers.devices.listDevices()).toEqual([expect.objectContaining({ id, state: word, detail: d.headline })]);
        expect(probes).toBe(before);
        watcher.unplug(e);
        expect(decisions.get(id)).toBeUndefined();
        expect(await room.providers.devices.listDevices()).toEqual([]);
      }
      // File transfer, but locked: "Unlock your phone", tried again until it opens
      const e = watcher.plug('mtp');
      const lockedDecision = await until(() => decisions.get(id), 'locked decision');
      expect(lockedDecision).toMatchObject({ state: 'phone-not-ready', headline: GUIDANCE.UNLOCK });
      await until(() => (probes >= 3 ? true : undefined), 'retries');
      locked = false;
      const ready = await until(() => (decisions.get(id)?.state === 'in-step' ? decisions.get(id) : undefined), 'the real decision');
      expect(ready.deviceLabel).toBe('Pixel 7 (Google)');
      expect(decisions.list()).toEqual([]); // in step: nothing to ask
      // paired by USB serial + MTP device info
      const pairs = room.deps().pairs;
      expect(pairs.get(pairIdOf('User 1', { serial: 'SER42', manufacturer: 'Google', model: 'Pixel 7', label: '' }))).toBeDefined();
      watcher.unplug(e);
      expect(decisions.get(id)).toBeUndefined();
      // unplugged while both sides are read: no decision is left behind for a phone that is gone
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      const e2 = watcher.plug('mtp');
      await until(() => (probes > 0 && decisions.get(id) === undefined ? true : undefined), 'probe started');
      watcher.unplug(e2);
      open();
      await new Promise((r) => setTimeout(r, 300));
      expect(decisions.get(id)).toBeUndefined();
      expect(await room.providers.devices.listDevices()).toEqual([]);
    } finally {
      await room.stop();
    }
  });

  it('a phone without AnkiDroid\'s files says where to get them', async () => {
    const dir = path.join(root, 'two');
    const desktop = path.join(dir, 'anki', 'User 1', 'collection.anki2');
    const seed = path.join(dir, 'seed.anki2');
    await peer.createCollection({ path: seed, notes: 5, seed: 3 });
    copyCollection(seed, desktop);
    const empty = path.join(dir, 'phone');
    const watcher = new ScriptedWatcher();
    const room = usbSyncPlugin({
      dataDir: path.join(dir, 'data'), stateDb: path.join(dir, 'state.db'), tmpDir: path.join(dir, 'tmp'),
      target: () => ({ profile: 'User 1', collectionPath: desktop, mediaDir: path.join(path.dirname(desktop), 'collection.media') }),
      watcher: () => watcher,
      link: {
        probe: async () => {
          const { mkdirSync } = await import('node:fs');
          mkdirSync(path.join(empty, 'DCIM'), { recursive: true });
          const t = openFolderTransport(empty, 'Pixel 7') as unknown as PhoneTransport;
          Object.assign(t, { session: { deviceInfo: { manufacturer: 'Google', model: 'Pixel 7', serialNumber: 'X', operations: new Set() } } });
          return { ready: true, transport: t };
        },
      },
    });
    await room.start();
    try {
      watcher.plug('mtp', 'EMPTY1');
      const d = await until(() => room.providers.decisions.get('usb-EMPTY1'), 'decision');
      expect(d.state).toBe('phone-not-ready');
      expect(d.headline).toContain('No AnkiDroid collection was found');
      expect(d.headline).toContain('Export collection');
      expect(await room.providers.devices.listDevices()).toEqual([expect.objectContaining({ state: 'no-collection' })]);
    } finally {
      await room.stop();
    }
  });
});
