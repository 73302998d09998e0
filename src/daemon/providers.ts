/**
 * What the daemon asks of the other rooms, besides job handlers (jobs/types.ts). Each provider is
 * optional: without one the daemon says so (DAEMON_PROVIDER_MISSING, or a stated skip reason)
 * instead of guessing. Implementations must not throw for expected conditions and must be quick
 * (they are called from HTTP requests and the scheduler).
 */

/** From the desktop layer (src/apkg profile code): is Anki Desktop holding this collection? */
export interface CollectionFreeProvider {
  isCollectionFree(collection: string): Promise<{ free: true } | { free: false; reason: string }>;
}

export interface DeviceInfo {
  /** Stable while plugged in (e.g. USB serial). */
  id: string;
  /** For a person: "Pixel 7 (AnkiDroid 2.19)". */
  label: string;
  transport: 'mtp' | 'adb' | 'folder' | 'unknown';
  /** 'ready', 'locked', 'charging-only', 'busy', … — a word the tray and CLI can show. */
  state: string;
  /** A sentence explaining `state` when it is not 'ready'. */
  detail?: string;
}

/** From the USB room (via sync): phones currently attached. */
export interface DevicesProvider {
  listDevices(): Promise<DeviceInfo[]>;
}

export interface BackupInfo {
  id: string;
  collection: string;
  /** ISO time the backup was taken. */
  createdAt: string;
  sizeBytes: number;
  /** Why it was taken: 'before-push', 'scheduled', 'manual', … */
  reason: string;
}

/**
 * From the backup engineer (src/sync): the backup store. Restoring is a job of kind 'restore'
 * with params `{ backupId }`, so it queues and reports progress like every other action.
 */
export interface BackupsProvider {
  listBackups(opts: { collection?: string; limit: number }): Promise<BackupInfo[]>;
  /** Whether the id names a backup (so the API can answer 404 before queueing a restore). */
  hasBackup(id: string): Promise<boolean>;
}

import type { DecisionSource } from './decisions/types.js';

export interface DaemonProviders {
  collectionFree?: CollectionFreeProvider;
  devices?: DevicesProvider;
  backups?: BackupsProvider;
  /** From the USB sync layer: the pending decision per connected phone (decisions/types.ts). */
  decisions?: DecisionSource;
}
