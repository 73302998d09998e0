import { syncNow } from '../../actions.js';
import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { originOf } from './jobs.js';
import { COLLECTION_NAME, EMPTY_BODY, JOB_SUMMARY } from './schemas.js';

const PAUSE_INFO = { type: ['object', 'null'], properties: { until: { type: ['string', 'null'] }, since: { type: 'string' } } };

export function controlRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/api/v1/pause',
      scope: 'write',
      tag: 'control',
      summary: 'Pauses automatic work (scheduled sync, plug-in actions) for `minutes`, or until resumed when minutes is null or absent. Survives a restart.',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { minutes: { type: ['integer', 'null'], minimum: 1, maximum: 43200 } },
      },
      success: { status: 200, description: 'The pause now in force.', schema: { type: 'object', properties: { paused: PAUSE_INFO } } },
      handler: async (req) => {
        const minutes = (req.body as { minutes?: number | null } | undefined)?.minutes ?? null;
        return { paused: ctx.pause.pause(minutes === null ? null : minutes * 60_000) };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/resume',
      scope: 'write',
      tag: 'control',
      summary: 'Ends a pause.',
      body: EMPTY_BODY,
      success: { status: 200, description: 'Not paused any more.', schema: { type: 'object', properties: { paused: PAUSE_INFO } } },
      handler: async () => {
        ctx.pause.resume();
        return { paused: ctx.pause.get() };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/sync',
      scope: 'write',
      tag: 'control',
      summary: '"Sync now": queues a cloud sync of the collection (works while paused; refused while Anki Desktop has it open).',
      body: { type: 'object', additionalProperties: false, properties: { collection: COLLECTION_NAME } },
      success: { status: 202, description: 'The queued sync job.', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req, reply) => {
        const job = await syncNow(ctx, originOf(req), (req.body as { collection?: string } | undefined)?.collection);
        void reply.code(202);
        return { job };
      },
    },
    {
      method: 'POST',
      url: '/api/v1/shutdown',
      scope: 'write',
      tag: 'control',
      summary: 'Stops the daemon gracefully: running jobs finish or stop at a safe point.',
      body: EMPTY_BODY,
      success: { status: 202, description: 'Shutting down.', schema: { type: 'object', properties: { stopping: { const: true } } } },
      handler: async (_req, reply) => {
        // After the answer is on its way, so the caller learns it was accepted.
        reply.raw.once('finish', () => ctx.requestShutdown('API request'));
        void reply.code(202);
        return { stopping: true };
      },
    },
  ];
}
