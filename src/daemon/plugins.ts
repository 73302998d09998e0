import type { Logger } from 'pino';
import type { DaemonConfig } from './config/schema.js';
import type { EventBus } from './events/bus.js';
import type { JobHistory } from './jobs/history.js';
import type { Json, JobHandler } from './jobs/types.js';
import type { Migration } from './state/migrations.js';
import type { DaemonProviders } from './providers.js';
import { desktopCollectionFree } from './desktop-collection-free.js';
import { daemonPaths } from './paths.js';
import { desktopWiring } from './wiring/desktop.js';
import { cloudWiring } from './wiring/cloud.js';
import { usbSyncPlugin } from '../sync/usb-sync/index.js';

/** What a plugin gets once the state store is migrated, before jobs run or the API listens. */
export interface PluginStartContext {
  log: Logger;
  history: JobHistory;
  bus: EventBus;
  /** The config in force (it changes on reload). */
  config: () => DaemonConfig;
}

/**
 * How another room plugs into the daemon: its state tables (numbered migrations), its job
 * handlers and its providers. `ankibridge daemon` starts with INSTALLED_PLUGINS; tests pass their own.
 * A later plugin's handler or provider replaces an earlier one of the same kind (so `--plugin`
 * stand-ins in tests override the installed ones).
 */
export interface DaemonPlugin {
  name: string;
  migrations?: Migration[];
  jobHandlers?: Array<JobHandler<never, Json>>;
  providers?: DaemonProviders;
  /** Called once after migrations at start (e.g. journal recovery: invariant 6). */
  start?(ctx: PluginStartContext): void | Promise<void>;
  /** Called once when the daemon stops, after jobs have finished. */
  stop?(): void | Promise<void>;
}

/** The installed rooms, on the daemon's own folders (XDG, so a test gets an isolated set). */
export function installedPlugins(paths = daemonPaths()): DaemonPlugin[] {
  const files = { dataDir: paths.dataDir, stateDb: paths.stateDb, configDir: paths.configDir };
  return [
    { name: 'desktop collection probe', providers: { collectionFree: desktopCollectionFree } },
    desktopWiring(files),
    cloudWiring(files),
    usbSyncPlugin(files),
  ];
}

// One line per room's plugin (sync journal, backups, cloud sync, USB, desktop profile). Nothing is
// opened until the daemon starts them, so building the list is cheap.
export const INSTALLED_PLUGINS: DaemonPlugin[] = installedPlugins();
