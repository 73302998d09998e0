/**
 * USB sync as a daemon plugin (shape of src/daemon/plugins.ts DaemonPlugin, declared structurally
 * because sync may not import daemon): its migration, the DecisionSource the tray/dashboard show,
 * and the job handlers usb.pull / usb.push / usb.merge. The daemon's USB wiring calls
 * `connect(deviceId, connection)` when a phone is identified and opened, `disconnect` when it goes.
 */
import Database from 'better-sqlite3';
import { openDesktopServices } from '../desktop/services.js';
import { makeError } from '../../errors/define.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import type { RecoveryResult } from '../journal/recover.js';
import type { DecisionView } from './decision.js';
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

export function usbSyncPlugin(paths: { dataDir: string; stateDb: string }) {
  let db: Database.Database | undefined;
  let deps: UsbSyncDeps | undefined;
  let recovered: RecoveryResult[] = [];
  const connections = new Map<string, Connection>();
  const source = new UsbDecisionSource();
  const open = (): UsbSyncDeps => {
    if (!deps) {
      db = new Database(paths.stateDb);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const desktop = openDesktopServices(db, paths.dataDir); // runs the desktop room's recovery first
      deps = usbSyncDeps(db, paths.dataDir, desktop);
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
    providers: { decisions: source },
    recoverAtStart(): RecoveryResult[] {
      open();
      return recovered;
    },
    /** DaemonPlugin.start: recovery of interrupted USB transactions before any job runs (invariant 6). */
    start(ctx?: { log?: { warn(o: object, m: string): void } }): void {
      for (const r of plugin.recoverAtStart()) ctx?.log?.warn({ txnId: r.txnId, kind: r.kind, outcome: r.outcome }, r.note);
    },
    stop(): void {
      plugin.close();
    },
    async connect(deviceId: string, c: Connection): Promise<DecisionView> {
      connections.set(deviceId, c);
      return plugin.refresh(deviceId);
    },
    async refresh(deviceId: string): Promise<DecisionView> {
      const c = connections.get(deviceId);
      if (!c) throw makeError(UsbSyncErrors.PAIR_NOT_FOUND, { phone: deviceId, profile: 'current' });
      const d = await inspect(open(), c, deviceId);
      source.set(deviceId, d);
      return d;
    },
    disconnect(deviceId: string): void {
      connections.delete(deviceId);
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
      db?.close();
      db = undefined;
      deps = undefined;
    },
  };
  return plugin;
}
