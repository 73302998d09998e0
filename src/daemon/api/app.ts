import Fastify, { type FastifyInstance } from 'fastify';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { queryAjv, strictAjv } from '../ajv.js';
import { makeError } from '../../errors/index.js';
import { ApiErrors } from '../../errors/codes/api.js';
import type { ApiContext } from './context.js';
import { errorBody, installErrorHandling } from './error-handler.js';
import { buildOpenApi } from './openapi.js';
import { registerRoutes, type RouteSpec } from './route-table.js';
import { configRoutes } from './routes/config.js';
import { controlRoutes } from './routes/control.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { dataRoutes } from './routes/data.js';
import { decisionRoutes } from './routes/decisions.js';
import { jobRoutes } from './routes/jobs.js';
import { metaRoutes } from './routes/meta.js';
import { statusRoutes } from './routes/status.js';
import { API_HEADERS, pathOf, securityHook } from './security.js';
import { SseHub } from './sse.js';

export const BODY_LIMIT = 64 * 1024;

export interface ApiApp {
  app: FastifyInstance;
  sse: SseHub;
  routes: RouteSpec[];
  /** The request handler, for a second listener (::1 next to 127.0.0.1). */
  handler: () => RequestListener;
}

/**
 * Builds the API without listening, so tests can `inject` requests; listen.ts binds it to loopback.
 * Bodies are validated strictly (no type coercion, unknown fields refused); query strings are
 * coerced from text, since everything in a URL is text.
 */
export async function buildApiApp(ctx: ApiContext): Promise<ApiApp> {
  let requestHandler: RequestListener | undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: true,
    // Errors fastify raises before routing (a bad %-escape in the URL): same catalogued body and headers.
    frameworkErrors: (error, _req, reply) => {
      const err = makeError(ApiErrors.BAD_REQUEST, { reason: error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid' : 'the request could not be routed' });
      const r = reply as unknown as { code(n: number): typeof r; headers(h: object): typeof r; type(t: string): typeof r; send(b: unknown): void };
      r.code(400).headers(API_HEADERS).type('application/json; charset=utf-8').send(errorBody(err));
    },
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const body = clientErrorBody(err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : 'the HTTP request is malformed');
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    },
    serverFactory: (handler) => {
      requestHandler = handler as RequestListener;
      return createServer(handler) as Server<typeof IncomingMessage, typeof ServerResponse>;
    },
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return queryAjv.compile(schema);
    // A POST without a body means "no options"; a body that is there must match exactly.
    const validate = strictAjv.compile(schema);
    // fastify hands an absent body over as null; a JSON `null` body is refused by the preValidation hook.
    const check = (data: unknown) => data === null || data === undefined || validate(data);
    // fastify reads `.errors` after a failed check: a live getter (Object.assign would copy undefined).
    Object.defineProperty(check, 'errors', { get: () => validate.errors });
    return check;
  });
  // Only JSON bodies: anything else is refused with a catalogued 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));
  app.addContentTypeParser('*', (_req, _payload, done) => done(makeError(ApiErrors.UNSUPPORTED_MEDIA_TYPE, { contentType: 'of this request' }), undefined));

  app.addHook('onRequest', async (_req, reply) => {
    void reply.headers(API_HEADERS);
  });
  app.addHook('onRequest', securityHook(ctx));
  // JSON `null` parses, but no endpoint takes it; without this a handler would see null for its object.
  app.addHook('preValidation', async (req) => {
    if (req.body === null) throw makeError(ApiErrors.BAD_REQUEST, { reason: 'the body must be a JSON object, not null' });
  });
  app.addHook('onResponse', async (req, reply) => {
    // Path only: a query may hold a login code. Headers (with tokens) are never logged.
    const line = { method: req.method, path: pathOf(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) ctx.log.error(line, 'request');
    else if (reply.statusCode >= 400 || req.method !== 'GET') ctx.log.info(line, 'request');
    else ctx.log.debug(line, 'request');
  });
  installErrorHandling(app, ctx, BODY_LIMIT);

  const sse = new SseHub(ctx.bus);
  const routes: RouteSpec[] = [];
  let openapi: Record<string, unknown> | undefined;
  routes.push(
    ...statusRoutes(ctx),
    ...metaRoutes(ctx, sse, () => (openapi ??= buildOpenApi(routes, ctx.version))),
    ...jobRoutes(ctx),
    ...controlRoutes(ctx),
    ...configRoutes(ctx),
    ...dataRoutes(ctx),
    ...decisionRoutes(ctx),
    ...dashboardRoutes(ctx),
  );
  registerRoutes(app, routes);
  await app.ready();
  return {
    app,
    sse,
    routes,
    handler: () => {
      if (!requestHandler) throw new Error('the server factory did not run');
      return requestHandler;
    },
  };
}

/** For a malformed HTTP request the parser rejects before fastify sees it: still a catalogued body. */
export function clientErrorBody(reason: string): string {
  return JSON.stringify(errorBody(makeError(ApiErrors.BAD_REQUEST, { reason })));
}
