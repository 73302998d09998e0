/**
 * USB sync as a daemon plugin (shape of src/daemon/plugins.ts DaemonPlugin, declared structurally
 * because sync may not import daemon): its migration, the DecisionSource the tray/dashboard show,
 * the job handlers usb.pull / usb.push / usb.merge, and the phones plugged in now (the devices
 * provider). At start it links USB hot-plug to the room (phone-link.ts): `connect(deviceId,
 * connection)` when a phone is identified and opened, `notReady` when it cannot be read yet (with
 * what to do), `disconnect` when it goes.
 */
import Database from 'better-sqlite3';
import { openDesktopServices } from '../desktop/services.js';
import { resolveDesktopCollection } from '../../apkg/desktop/profiles.js';
import { HotplugWatcher } from '../../usb/hotplug-watcher.js';
import type { DesktopTarget } from '../desktop/replace.js';
import { makeError } from '../../errors/define.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import type { RecoveryResult } from '../journal/recover.js';
import { notReadyDecision, type DecisionView, type NotReady } from './decision.js';
import { PhoneLink, type PhoneLinkOptions, type PhoneWatcher } from './phone-link.js';
import { recoverUsbSync } from './recovery.js';
import { USB_SYNC_MIGRATIONS } from './schema.js';
import { inspect, usbSyncDeps, type Connection, type UsbSyncDeps } from './service.js';
import { merge, pull, push, type TxnOptions, type TxnResult } from './transactions.js';

interface JobCtx {
  readonly params: { deviceId: string; confirm?: boolean; format?: 'latest' | 'legacy2' };
  progress(p: { step?: string; message?: string; fraction?: number }): void;
  readonly signal: AbortSignal;
}

const PARAMS = {
  type: 'object',
  properties: {
    deviceId: { type: 'string', minLength: 1, maxLength: 200 },
    confirm: { type: 'boolean' },
    format: { enum: ['latest', 'legacy2'] },
    collection: { type: 'string', maxLength: 200 },
  },
  required: ['deviceId'],
  additionalProperties: false,
} as const;

/** The pending decision per connected phone; the daemon's DecisionBoard subscribes. */
export class UsbDecisionSource {
  private readonly decisions = new Map<string, DecisionView>();
  private readonly listeners = new Set<() => void>();
  list(): DecisionView[] {
    return [...this.decisions.values()].filter((d) => d.state !== 'in-step');
  }
  /** Every connected phone's latest decision, in-step ones included. */
  all(): DecisionView[] {
    return [...this.decisions.values()];
  }
  get(deviceId: string): DecisionView | undefined {
    return this.decisions.get(deviceId);
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(deviceId: string, d: DecisionView | null): void {
    if (d === null) this.decisions.delete(deviceId);
    else this.decisions.set(deviceId, d);
    for (const l of this.listeners) l();
  }
}

/** A phone as GET /api/v1/devices shows it (the daemon's DeviceInfo, declared structurally). */
export interface DeviceView {
  id: string;
  label: string;
  transport: 'mtp' | 'adb' | 'folder' | 'unknown';
  /** 'reading', 'ready', or why not: 'charging-only', 'ptp', 'adb-only', 'locked', 'busy', 'no-collection', … */
  state: string;
  detail?: string;
}

export interface UsbSyncPluginOptions {
  dataDir: string;
  stateDb: string;
  /** The desktop profile phones are paired with; default: Anki Desktop's current profile. */
  target?: () => DesktopTarget;
  /** The USB watcher to link phones from (null: no hot-plug, phones only through connect()). Default: node-usb's. */
  watcher?: (() => PhoneWatcher) | null;
  /** Passed to the PhoneLink (retry interval, timing callback). */
  link?: Pick<PhoneLinkOptions, 'probe' | 'retryMs' | 'onDecision'>;
  /** Parent of private work folders (default: the OS temp folder). */
  tmpDir?: string;
  /** How long each stage of reading both sides took (see UsbSyncDeps.trace). */
  trace?: (stage: string, ms: number) => void;
  /** When the desktop side is read ahead of the first plug-in (ms after start; default 20 s). */
  warmAfterMs?: number;
}

function currentProfile(): DesktopTarget {
  const { profile } = resolveDesktopCollection({});
  return { profile: profile.name, collectionPath: profile.collectionPath, mediaDir: profile.mediaDir };
}

export function usbSyncPlugin(paths: UsbSyncPluginOptions) {
  let db: Database.Database | undefined;
  let deps: UsbSyncDeps | undefined;
  let recovered: RecoveryResult[] = [];
  let link: PhoneLink | undefined;
  let warming: NodeJS.Timeout | undefined;
  const connections = new Map<string, Connection>();
  const devices = new Map<string, DeviceView>();
  const source = new UsbDecisionSource();
  const open = (): UsbSyncDeps => {
    if (!deps) {
      db = new Database(paths.stateDb);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const desktop = openDesktopServices(db, paths.dataDir); // runs the desktop room's recovery first
      deps = { ...usbSyncDeps(db, paths.dataDir, desktop, paths.tmpDir), ...(paths.trace ? { trace: paths.trace } : {}) };
      recovered = recoverUsbSync(deps);
    }
    return deps;
  };
  const handler = (kind: 'usb.pull' | 'usb.push' | 'usb.merge', description: string, run: (d: UsbSyncDeps, c: Connection, o: TxnOptions) => Promise<TxnResult>) => ({
    kind,
    description,
    paramsSchema: PARAMS,
    // The desktop collection is what every USB job changes: one at a time with restore and cloud sync.
    collectionOf: () => 'desktop',
    async run(ctx: JobCtx) {
      const c = connections.get(ctx.params.deviceId);
      if (!c) throw makeError(UsbSyncErrors.PAIR_NOT_FOUND, { phone: ctx.params.deviceId, profile: 'current' });
      const r = await run(open(), c, {
        confirm: ctx.params.confirm === true,
        ...(ctx.params.format ? { format: ctx.params.format } : {}),
        progress: (p) => ctx.progress(p),
      });
      // Re-read both sides: the decision now shows the new state (e.g. waiting for import).
      await plugin.refresh(ctx.params.deviceId).catch(() => undefined);
      return JSON.parse(JSON.stringify(r)) as Record<string, never>;
    },
  });
  const plugin = {
    name: 'usb sync',
    migrations: USB_SYNC_MIGRATIONS,
    providers: {
      decisions: source,
      devices: { listDevices: async (): Promise<DeviceView[]> => [...devices.values()] },
    },
    recoverAtStart(): RecoveryResult[] {
      open();
      return recovered;
    },
    /**
     * DaemonPlugin.start: recovery of interrupted USB transactions before any job runs
     * (invariant 6), then phones are linked from USB hot-plug (phone-link.ts).
     */
    async start(ctx?: { log?: { warn(o: object, m: string): void; info(o: object, m: string): void } }): Promise<void> {
      for (const r of plugin.recoverAtStart()) ctx?.log?.warn({ txnId: r.txnId, kind: r.kind, outcome: r.outcome }, r.note);
      const watcher = paths.watcher === undefined ? () => new HotplugWatcher() : paths.watcher;
      if (!watcher) return;
      const target = paths.target ?? currentProfile;
      link = new PhoneLink({ watcher: watcher(), room: plugin, target, ...(ctx?.log ? { log: ctx.log } : {}), ...paths.link });
      await link.start();
      // The desktop side read ahead of the first plug-in (side-cache.ts), a while after start:
      // our read lock would make an Anki Desktop starting at the same moment (both run at login)
      // fail to open its profile; while Anki holds the collection the read is simply skipped.
      warming = setTimeout(() => {
        warming = undefined;
        if (!deps) return;
        try {
          void open().sides.warmDesktop(target()).catch(() => undefined);
        } catch {
          /* no Anki Desktop profile yet: read at plug-in */
        }
      }, paths.warmAfterMs ?? 20_000);
    },
    async stop(): Promise<void> {
      if (warming) clearTimeout(warming);
      warming = undefined;
      await link?.dispose();
      link = undefined;
      plugin.close();
    },
    async connect(deviceId: string, c: Connection): Promise<DecisionView> {
      connections.set(deviceId, c);
      devices.set(deviceId, { id: deviceId, label: c.phone.label, transport: c.transport.kind, state: 'reading', detail: 'Reading both collections' });
      return plugin.refresh(deviceId);
    },
    async refresh(deviceId: string): Promise<DecisionView> {
      const c = connections.get(deviceId);
      if (!c) throw makeError(UsbSyncErrors.PAIR_NOT_FOUND, { phone: deviceId, profile: 'current' });
      const d = await inspect(open(), c, deviceId);
      // Unplugged (or replaced) while both sides were read: that decision is no longer anyone's.
      if (connections.get(deviceId) !== c) return d;
      source.set(deviceId, d);
      devices.set(deviceId, { id: deviceId, label: c.phone.label, transport: c.transport.kind, state: 'ready', detail: d.headline });
      return d;
    },
    /** A plugged-in phone that cannot be read: its decision says what to do (decision.ts notReadyDecision). */
    notReady(deviceId: string, label: string, n: NotReady): void {
      connections.delete(deviceId);
      devices.set(deviceId, { id: deviceId, label, transport: 'unknown', state: n.reason, detail: n.guidance });
      source.set(deviceId, notReadyDecision(deviceId, label, n));
    },
    disconnect(deviceId: string): void {
      connections.delete(deviceId);
      devices.delete(deviceId);
      source.set(deviceId, null);
    },
    jobHandlers: [
      handler('usb.pull', 'Copy the phone’s collection to the desktop (guarded; the desktop is backed up first).', pull),
      handler('usb.push', 'Write the desktop collection to the phone as a package to import (guarded; the phone’s collection is backed up first).', push),
      handler('usb.merge', 'Merge the phone’s and the desktop’s changes since the last sync, as Anki’s sync would, into both.', merge),
    ],
    deps: () => open(),
    close(): void {
      connections.clear();
      deps?.sides.dispose();
      db?.close();
      db = undefined;
      deps = undefined;
    },
  };
  return plugin;
}
