import type { Json, JobHandler } from './jobs/types.js';
import type { Migration } from './state/migrations.js';
import type { DaemonProviders } from './providers.js';
import { desktopCollectionFree } from './desktop-collection-free.js';

/**
 * How another room plugs into the daemon: its state tables (numbered migrations), its job
 * handlers and its providers. `ankibridge daemon` starts with INSTALLED_PLUGINS; tests pass their own.
 */
export interface DaemonPlugin {
  name: string;
  migrations?: Migration[];
  jobHandlers?: Array<JobHandler<never, Json>>;
  providers?: DaemonProviders;
}

// One line per room's plugin (sync journal, backups, cloud sync, USB, desktop profile).
export const INSTALLED_PLUGINS: DaemonPlugin[] = [
  { name: 'desktop collection probe', providers: { collectionFree: desktopCollectionFree } },
];
