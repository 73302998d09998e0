import type { FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import type { JobOrigin } from '../../jobs/types.js';
import { COLLECTION_NAME, EMPTY_BODY, JOB_ID_PARAMS, JOB_SUMMARY } from './schemas.js';

/** Who is asking, as the client says (`X-Ankibridge-Client: cli|tray|dashboard`); default 'api'. */
export function originOf(req: FastifyRequest): JobOrigin {
  const c = req.headers['x-ankibridge-client'];
  if (req.auth?.via === 'session') return 'dashboard';
  return c === 'cli' || c === 'tray' ? c : 'api';
}

export function jobRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/jobs',
      scope: 'read',
      tag: 'jobs',
      summary: 'Running and queued jobs, then recently finished ones; and the job kinds this daemon can run.',
      success: { status: 200, description: 'Jobs.', schema: { type: 'object', properties: { jobs: { type: 'array', items: JOB_SUMMARY }, kinds: { type: 'array' } } } },
      handler: async () => ({ jobs: ctx.orchestrator.list(), kinds: ctx.orchestrator.kinds() }),
    },
    {
      method: 'POST',
      url: '/api/v1/jobs',
      scope: 'write',
      tag: 'jobs',
      summary: 'Queues a job; it runs when no other job holds its collection.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { type: 'string', minLength: 1, maxLength: 40, pattern: '^[a-z][a-z.]*$' },
          collection: COLLECTION_NAME,
          params: { type: 'object', maxProperties: 50 },
        },
      },
      success: { status: 202, description: 'The queued job.', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req, reply) => {
        const b = req.body as { kind: string; collection?: string; params?: Record<string, unknown> };
        const job = ctx.orchestrator.start({ kind: b.kind, params: b.params, collection: b.collection, origin: originOf(req) });
        void reply.code(202);
        return { job };
      },
    },
    {
      method: 'GET',
      url: '/api/v1/jobs/:id',
      scope: 'read',
      tag: 'jobs',
      summary: 'One job with its progress, result or error.',
      params: JOB_ID_PARAMS,
      success: { status: 200, description: 'The job.', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req) => ({ job: ctx.orchestrator.get((req.params as { id: string }).id) }),
    },
    {
      method: 'POST',
      url: '/api/v1/jobs/:id/cancel',
      scope: 'write',
      tag: 'jobs',
      summary: 'Cancels a queued job at once, or asks a running one to stop at its next safe point.',
      params: JOB_ID_PARAMS,
      body: EMPTY_BODY,
      success: { status: 202, description: 'The job as it is now (state may still be running).', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req, reply) => {
        const job = ctx.orchestrator.cancel((req.params as { id: string }).id);
        void reply.code(202);
        return { job };
      },
    },
  ];
}
