import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { originOf } from './jobs.js';
import { JOB_SUMMARY } from './schemas.js';

const DECISION_ID = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' } as const;

export function decisionRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/decisions',
      scope: 'read',
      tag: 'decisions',
      summary:
        'Pending decisions, one per connected phone that needs one: the pair state, both sides\' changes since they last agreed, ' +
        'the recommended action, and each action with the guard\'s wording and whether it needs confirmation.',
      success: {
        status: 200,
        description: 'Decisions.',
        schema: { type: 'object', properties: { decisions: { type: 'array' }, available: { type: 'boolean' } } },
      },
      handler: async () => ({ decisions: ctx.decisions.list(), available: ctx.decisions.available }),
    },
    {
      method: 'POST',
      url: '/api/v1/decisions/:id/actions/:action',
      scope: 'write',
      tag: 'decisions',
      summary:
        'Answers a decision: queues the action\'s job. An action that would lose work is refused (409 DECISION_CONFIRMATION_REQUIRED, ' +
        'with the guard\'s sentence) unless `confirm` is true.',
      params: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'action'],
        properties: { id: DECISION_ID, action: { type: 'string', minLength: 1, maxLength: 40, pattern: '^[a-z-]+$' } },
      },
      body: { type: 'object', additionalProperties: false, properties: { confirm: { type: 'boolean' } } },
      success: { status: 202, description: 'The queued job.', schema: { type: 'object', properties: { job: JOB_SUMMARY } } },
      handler: async (req, reply) => {
        const { id, action } = req.params as { id: string; action: string };
        const confirm = (req.body as { confirm?: boolean } | undefined)?.confirm ?? false;
        const job = ctx.decisions.act(id, action, { confirm, origin: originOf(req) });
        void reply.code(202);
        return { job };
      },
    },
  ];
}
