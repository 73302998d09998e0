/**
 * Cloud sync and manual backups in the running daemon: the `cloud.sync` job wraps the cloud
 * room's CloudSync (src/sync/cloud) for Anki Desktop's current profile, and the `backup` job puts
 * that collection into the backup store. Endpoint from the daemon config (`cloud.endpoint`, null =
 * AnkiWeb); the host key from the cloud room's credential store in the config folder.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveDesktopCollection, resolveDesktopProfile } from '../../apkg/desktop/profiles.js';
import { BackupStore } from '../../sync/backup/store.js';
import { ensureBackupSchema } from '../../sync/backup/schema.js';
import type { BackupFn, CloudSyncResult } from '../../sync/cloud/index.js';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import type { DaemonConfig } from '../config/schema.js';
import { desktopCollectionFree } from '../desktop-collection-free.js';
import type { EventBus } from '../events/bus.js';
import type { JobContext, JobHandler, Json } from '../jobs/types.js';
import type { DaemonPlugin } from '../plugins.js';

export interface CloudSyncParams {
  collection?: string;
  /** Run a full sync in this direction (only after a run reported `fullSyncRequired`). */
  fullSync?: 'upload' | 'download';
  /** The person's confirmation of `fullSync`; without it a full sync is refused. */
  confirm?: boolean;
}

const COLLECTION = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } as const;

export function cloudWiring(paths: { dataDir: string; stateDb: string; configDir: string }): DaemonPlugin {
  let db: Database.Database | undefined;
  let store: BackupStore | undefined;
  let bus: EventBus | undefined;
  let config: (() => DaemonConfig) | undefined;
  const backups = (): BackupStore => {
    if (!store) {
      db = new Database(paths.stateDb);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      ensureBackupSchema(db);
      store = new BackupStore(db, path.join(paths.dataDir, 'backups'));
    }
    return store;
  };

  const cloudSync: JobHandler<CloudSyncParams, Json> = {
    kind: 'cloud.sync',
    description: "Syncs Anki Desktop's collection with AnkiWeb or the configured sync server (a full sync only with a confirmed direction).",
    paramsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { collection: COLLECTION, fullSync: { enum: ['upload', 'download'] }, confirm: { type: 'boolean' } },
    },
    async run(ctx) {
      onlyDesktop(ctx);
      if (ctx.params.fullSync !== undefined && ctx.params.confirm !== true) {
        throw makeError(DaemonErrors.JOB_INPUT_INVALID, { kind: 'cloud.sync', reason: `a full ${ctx.params.fullSync} replaces one side; it needs confirm: true` });
      }
      const { profile } = resolveDesktopProfile({});
      const collectionPath = profile.collectionPath;
      const endpoint = config?.().cloud.endpoint ?? undefined;
      // Loaded on the first sync: an idle daemon that never syncs does not carry the protocol code.
      const { CloudSync, defaultCredentialStore } = await import('../../sync/cloud/index.js');
      const sync = new CloudSync({
        collectionPath,
        ...(endpoint ? { endpoint } : {}),
        credentials: defaultCredentialStore(paths.configDir),
        isCollectionFree: async () => (await desktopCollectionFree.isCollectionFree('desktop')).free,
        backup: backupFn(backups, profile.name, collectionPath, profile.mediaDir),
        onEndpointChanged: (to) => ctx.log.warn({ endpoint: to }, 'the sync server moved this account to another address; restart the daemon after putting it in cloud.endpoint'),
      });
      ctx.progress({ step: 'connect', message: `Syncing with ${sync.endpoint}` });
      const result: CloudSyncResult = await sync.run({
        signal: ctx.signal,
        onProgress: (p) => ctx.progress({ step: p.phase, ...(p.total > 0 ? { fraction: p.done / p.total } : {}) }),
        ...(ctx.params.fullSync ? { fullSync: { direction: ctx.params.fullSync, confirmed: true as const } } : {}),
      });
      if (result.kind === 'fullSyncRequired') {
        // Nothing moved: a person chooses the direction (a new cloud.sync with fullSync + confirm).
        ctx.log.warn({ reason: result.reason, uploadOk: result.uploadOk, downloadOk: result.downloadOk }, 'cloud sync needs a full sync; waiting for a confirmed direction');
        bus?.emit('cloud.fullSyncRequired', { jobId: ctx.id, state: result as unknown as Record<string, unknown> });
      } else {
        ctx.log.info({ result: result.kind }, 'cloud sync finished');
      }
      return JSON.parse(JSON.stringify(result)) as Json;
    },
  };

  const backup: JobHandler<{ collection?: string }, Json> = {
    kind: 'backup',
    description: "Backs up Anki Desktop's collection and media into the backup store.",
    paramsSchema: { type: 'object', additionalProperties: false, properties: { collection: COLLECTION } },
    async run(ctx) {
      onlyDesktop(ctx);
      const { profile } = resolveDesktopCollection({});
      const free = await desktopCollectionFree.isCollectionFree('desktop');
      if (!free.free) throw makeError(DaemonErrors.COLLECTION_BUSY, { collection: 'desktop', reason: free.reason });
      ctx.progress({ step: 'backup', message: `Backing up ${profile.name}` });
      const rec = backups().create({
        collectionPath: profile.collectionPath,
        ...(existsSync(profile.mediaDir) ? { mediaDir: profile.mediaDir } : {}),
        source: 'desktop',
        label: profile.name,
        reason: 'manual',
      });
      return { backupId: rec.id, collectionBytes: rec.collectionBytes, mediaFiles: rec.media.count };
    },
  };

  return {
    name: 'cloud sync and backups',
    jobHandlers: [cloudSync as unknown as JobHandler<never, Json>, backup as unknown as JobHandler<never, Json>],
    start(ctx) {
      bus = ctx.bus;
      config = ctx.config;
    },
    stop() {
      db?.close();
      db = undefined;
      store = undefined;
    },
  };
}

function onlyDesktop(ctx: JobContext<{ collection?: string }>): void {
  const c = ctx.params.collection ?? 'desktop';
  if (c !== 'desktop') throw makeError(DaemonErrors.JOB_INPUT_INVALID, { kind: ctx.kind, reason: `only the "desktop" collection is synced, not "${c}"` });
}

/** The collection a full sync replaces goes into the backup store first (labelled as the restore job expects). */
function backupFn(store: () => BackupStore, profile: string, localPath: string, mediaDir: string): BackupFn {
  return async (collectionPath) => {
    const isLocal = path.resolve(collectionPath) === path.resolve(localPath);
    return store().create({
      collectionPath,
      ...(isLocal && existsSync(mediaDir) ? { mediaDir } : {}),
      source: isLocal ? 'desktop' : 'cloud-server',
      label: isLocal ? profile : `${profile} (server copy)`,
      reason: 'pre-overwrite',
    });
  };
}
