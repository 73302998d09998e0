/**
 * The user's commands that more than one front end offers (HTTP API, tray, notifications), in
 * one place so that every front end goes through the same checks and the same orchestrator.
 */
import { makeError } from '../errors/index.js';
import { DaemonErrors } from '../errors/codes/daemon.js';
import type { ApiContext } from './api/context.js';
import type { JobOrigin, JobSummary } from './jobs/types.js';

/** "Sync now": a cloud sync of the collection; works while paused; refused while Anki Desktop has it open. */
export async function syncNow(ctx: ApiContext, origin: JobOrigin, collection?: string): Promise<JobSummary> {
  const name = collection ?? ctx.config.get().cloud.collection;
  if (!ctx.orchestrator.hasHandler('cloud.sync')) {
    throw makeError(DaemonErrors.PROVIDER_MISSING, { provider: 'cloud sync handler', what: 'syncing with AnkiWeb or a sync server' });
  }
  const free = ctx.providers.collectionFree ? await ctx.providers.collectionFree.isCollectionFree(name) : undefined;
  if (free && !free.free) throw makeError(DaemonErrors.COLLECTION_BUSY, { collection: name, reason: free.reason });
  return ctx.orchestrator.start({ kind: 'cloud.sync', params: { collection: name }, collection: name, origin });
}
