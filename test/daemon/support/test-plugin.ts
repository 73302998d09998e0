// A stand-in for the sync room's handlers and providers, so the daemon's own machinery (queue,
// API, CLI) can be driven end to end before the real ones are plugged in. The daemon under test is
// real; only the work inside the jobs is simulated.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonPlugin } from '../../../src/daemon/plugins.js';
import type { JobHandler } from '../../../src/daemon/jobs/types.js';

/** While this file exists in XDG_DATA_HOME, the desktop collection counts as open in Anki. */
export const BUSY_MARKER = 'anki-open.marker';
const busy = () => existsSync(join(process.env['XDG_DATA_HOME'] ?? '/nonexistent', BUSY_MARKER));

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

const cloudSync: JobHandler<{ collection: string }, { pulled: number }> = {
  kind: 'cloud.sync',
  description: 'Test cloud sync: takes 50 ms.',
  paramsSchema: { type: 'object', additionalProperties: false, properties: { collection: { type: 'string' } } },
  async run(ctx) {
    ctx.progress({ fraction: 0.5, step: 'sync' });
    await wait(50, ctx.signal);
    return { pulled: 0 };
  },
};

const restore: JobHandler<{ backupId: string; confirm: boolean }, { restored: string }> = {
  kind: 'restore',
  description: 'Test restore.',
  paramsSchema: { type: 'object', additionalProperties: false, required: ['backupId'], properties: { backupId: { type: 'string' }, confirm: { type: 'boolean' } } },
  async run(ctx) {
    return { restored: ctx.params.backupId };
  },
};

export const plugin: DaemonPlugin = {
  name: 'test plugin',
  jobHandlers: [cloudSync as never, restore as never],
  providers: {
    collectionFree: { isCollectionFree: async () => (busy() ? { free: false, reason: 'Anki Desktop has the collection open' } : { free: true }) },
    devices: { listDevices: async () => [{ id: 'SERIAL1', label: 'Test phone', transport: 'mtp', state: 'ready' }] },
    backups: {
      listBackups: async ({ limit }) => [{ id: 'b-1', collection: 'desktop', createdAt: '2026-01-01T00:00:00.000Z', sizeBytes: 1234, reason: 'manual' }].slice(0, limit),
      hasBackup: async (id) => id === 'b-1',
    },
  },
};
