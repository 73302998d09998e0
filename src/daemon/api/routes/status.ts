import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';

/** The whole visible state in one object: used by GET /status and as the SSE hello/resync snapshot. */
export function statusSnapshot(ctx: ApiContext): Record<string, unknown> {
  const mem = process.memoryUsage();
  return {
    version: ctx.version,
    pid: process.pid,
    startedAt: new Date(ctx.startedAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    paused: ctx.pause.get(),
    scheduler: ctx.scheduler.status(),
    jobs: { ...ctx.orchestrator.activeCount(), active: ctx.orchestrator.list().filter((j) => j.state === 'queued' || j.state === 'running') },
    jobKinds: ctx.orchestrator.kinds().map((k) => k.kind),
    providers: {
      collectionFree: ctx.providers.collectionFree !== undefined,
      devices: ctx.providers.devices !== undefined,
      backups: ctx.providers.backups !== undefined,
      decisions: ctx.providers.decisions !== undefined,
    },
    decisions: ctx.decisions.list(),
    configError: ctx.config.lastError ? { code: ctx.config.lastError.code, message: ctx.config.lastError.message } : null,
    api: { addresses: ctx.addresses() },
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    lastEventId: ctx.bus.lastId,
  };
}

export function statusRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/health',
      scope: 'none',
      tag: 'meta',
      summary: 'Liveness check without a token; says nothing about the user or their data.',
      success: { status: 200, description: 'The daemon is up.', schema: { type: 'object', properties: { status: { const: 'ok' } } } },
      handler: async () => ({ status: 'ok' }),
    },
    {
      method: 'GET',
      url: '/api/v1/status',
      scope: 'read',
      tag: 'status',
      summary: 'Daemon state: pause, scheduler, running and queued jobs, providers, memory.',
      success: { status: 200, description: 'The current state.', schema: { type: 'object' } },
      handler: async () => statusSnapshot(ctx),
    },
  ];
}
