import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteScope } from './security.js';

/** One endpoint: registered with fastify and described in /openapi.json from the same object. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  scope: RouteScope;
  summary: string;
  tag: string;
  body?: Record<string, unknown>;
  querystring?: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** Success status and what comes back (a JSON schema, or a media type for non-JSON). */
  success: { status: number; description: string; schema?: Record<string, unknown>; mediaType?: string };
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export function registerRoutes(app: FastifyInstance, routes: RouteSpec[]): void {
  for (const r of routes) {
    const schema: Record<string, unknown> = {};
    if (r.body) schema['body'] = r.body;
    if (r.querystring) schema['querystring'] = r.querystring;
    if (r.params) schema['params'] = r.params;
    app.route({ method: r.method, url: r.url, schema, config: { scope: r.scope }, handler: r.handler });
  }
}

/** A fastify `:id` path becomes an OpenAPI `{id}` path. */
export function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}');
}
