import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import type { SseHub } from '../sse.js';
import { statusSnapshot } from './status.js';

export function metaRoutes(ctx: ApiContext, sse: SseHub, openapi: () => Record<string, unknown>): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/openapi.json',
      scope: 'read',
      tag: 'meta',
      summary: 'This document (OpenAPI 3.1).',
      success: { status: 200, description: 'The OpenAPI document.', schema: { type: 'object' } },
      handler: async () => openapi(),
    },
    {
      method: 'GET',
      url: '/api/v1/events',
      scope: 'read',
      tag: 'events',
      summary:
        'Server-sent events: job.queued/started/progress/cancelling/finished, paused, resumed, scheduler.skipped/backoff, cloud.trigger (+ .skipped: Anki Desktop closed the collection), cloud.fullSyncRequired, config.changed. ' +
        'Reconnect with Last-Event-ID (or ?lastEventId=) to get missed events; a `resync` event means re-read /api/v1/status.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { lastEventId: { type: 'string', maxLength: 20 } },
      },
      success: { status: 200, description: 'An event stream.', mediaType: 'text/event-stream', schema: { type: 'string' } },
      handler: async (req, reply) => {
        sse.handle(req, reply, () => statusSnapshot(ctx));
        return reply;
      },
    },
  ];
}
