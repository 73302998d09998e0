import { makeError } from '../../../errors/index.js';
import { DaemonErrors } from '../../../errors/codes/daemon.js';
import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { originOf } from './jobs.js';
import { COLLECTION_NAME, JOB_SUMMARY } from './schemas.js';

const BACKUP_ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' } },
} as const;

export function dataRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/devices',
      scope: 'read',
      tag: 'devices',
      summary: 'Phones attached now, with their state (ready, locked, charging-only, busy …).',
      success: { status: 200, description: 'Devices.', schema: { type: 'object', properties: { devices: { type: 'array' }, available: { type: 'boolean' } } } },
      handler: async () => {
        // Without the USB layer there is nothing to list; say so rather than pretend.
        if (!ctx.providers.devices) return { devices: [], available: false };
        return { devices: await ctx.providers.devices.listDevices(), available: true };
      },
    },
    {
      method: 'GET',
      url: '/api/v1/history',
      scope: 'read',
      tag: 'history',
      summary: 'Finished and interrupted jobs, newest first.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          before: { type: 'integer', minimum: 0, maximum: 8.64e15, description: 'Creation time in ms; for paging.' },
        },
      },
      success: { status: 200, description: 'History.', schema: { type: 'object', properties: { jobs: { type: 'array', items: JOB_SUMMARY } } } },
      handler: async (req) => {
        const q = req.query as { limit: number; before?: number };
        return { jobs: ctx.history.list(q.limit, q.before) };
      },
    },
    {
      method: 'GET',
      url: '/api/v1/backups',
      scope: 'read',
      tag: 'backups',
      summary: 'Backups in the backup store, newest first.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { collection: COLLECTION_NAME, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
      },
      success: { status: 200, description: 'Backups.', schema: { type: 'object', properties: { backups: { type: 'array' } } } },
      handler: async (req) => {
        const q = req.query as { collection?: string; limit: number };
        if (!ctx.providers.backups) throw makeError(DaemonErrors.PROVIDER_MISSING, { provider: 'backup store', what: 'listing backups' });
        return { backups: await ctx.providers.backups.listBackups(q.collection === undefined ? { limit: q.limit } : { collection: q.collection, limit: q.limit }) };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/backups/:id/restore',
      scope: 'write',
      tag: 'backups',
      summary: 'Queues a restore job for the backup (the current collection is backed up first; `confirm` acknowledges the overwrite).',
      params: BACKUP_ID_PARAMS,
      body: { type: 'object', additionalProperties: false, properties: { confirm: { type: 'boolean' } } },
      success: { status: 202, description: 'The queued restore job.', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req, reply) => {
        const { id } = req.params as { id: string };
        if (!ctx.providers.backups) throw makeError(DaemonErrors.PROVIDER_MISSING, { provider: 'backup store', what: 'restoring a backup' });
        if (!(await ctx.providers.backups.hasBackup(id))) throw makeError(DaemonErrors.BACKUP_NOT_FOUND, { id });
        const confirm = (req.body as { confirm?: boolean } | undefined)?.confirm ?? false;
        const job = ctx.orchestrator.start({ kind: 'restore', params: { backupId: id, confirm }, origin: originOf(req) });
        void reply.code(202);
        return { job };
      },
    },
  ];
}
