import type { FastifyReply, FastifyRequest } from 'fastify';
import { makeError } from '../../errors/index.js';
import { ApiErrors } from '../../errors/codes/api.js';
import type { ApiContext } from './context.js';
import { isLoopbackHostname, parseHostHeader } from './loopback.js';
import { readCookie, SESSION_COOKIE } from './sessions.js';
import { scopeOfToken, type Scope } from './tokens.js';

export type RouteScope = 'none' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** How the request authenticated: a bearer token's scope, or the dashboard session. */
    auth?: { scope: Scope; via: 'token' | 'session' };
  }
}

export const API_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** The dashboard page may load its own scripts and styles and talk to its own origin, nothing else. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The checks every request passes, in this order: Host is a loopback name (DNS rebinding);
 * a browser request comes from our own origin; a token or session with the route's scope.
 */
export function securityHook(ctx: ApiContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const host = checkHost(ctx, req);
    checkBrowserOrigin(req, host);
    const scope: RouteScope = req.routeOptions.config?.scope ?? 'read';
    if (scope === 'none') return;
    req.auth = authenticate(ctx, req);
    if (scope === 'write' && req.auth.scope !== 'write') {
      throw makeError(ApiErrors.FORBIDDEN_SCOPE, { scope: 'read', method: req.method, path: pathOf(req.url) });
    }
  };
}

function checkHost(ctx: ApiContext, req: FastifyRequest): { hostname: string; port: number | undefined } {
  const raw = req.headers.host;
  const parsed = typeof raw === 'string' ? parseHostHeader(raw) : undefined;
  const shown = String(raw ?? '(none)').slice(0, 100);
  if (!parsed) throw makeError(ApiErrors.HOST_REFUSED, { host: shown });
  const allowed = isLoopbackHostname(parsed.hostname) || ctx.config.get().api.allowedHosts.some((h) => h.toLowerCase() === parsed.hostname);
  const port = ctx.port();
  // A loopback name on another port is another program's origin.
  if (!allowed || (port !== undefined && parsed.port !== undefined && parsed.port !== port)) {
    throw makeError(ApiErrors.HOST_REFUSED, { host: shown });
  }
  return parsed;
}

function checkBrowserOrigin(req: FastifyRequest, host: { hostname: string; port: number | undefined }): void {
  const origin = req.headers.origin;
  const referer = req.headers.referer;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') throw makeError(ApiErrors.ORIGIN_REFUSED, { origin: String(origin ?? referer ?? 'another site').slice(0, 100) });
  const claimed = typeof origin === 'string' ? origin : typeof referer === 'string' ? referer : undefined;
  if (claimed === undefined) return;
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    throw makeError(ApiErrors.ORIGIN_REFUSED, { origin: claimed.slice(0, 100) });
  }
  const port = url.port === '' ? 80 : Number(url.port);
  const sameOrigin = url.protocol === 'http:' && isLoopbackHostname(url.hostname) && port === (host.port ?? 80);
  if (!sameOrigin) throw makeError(ApiErrors.ORIGIN_REFUSED, { origin: url.origin.slice(0, 100) });
}

function authenticate(ctx: ApiContext, req: FastifyRequest): { scope: Scope; via: 'token' | 'session' } {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S{1,200})\s*$/i.exec(header);
    const scope = m ? scopeOfToken(ctx.tokens, m[1] as string) : undefined;
    if (!scope) throw makeError(ApiErrors.UNAUTHENTICATED, { tokenFile: ctx.tokenFile });
    return { scope, via: 'token' };
  }
  const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
  if (session) {
    // A cookie rides along with any request the browser makes, so writes must prove they come
    // from our page: the CSRF token is only readable by a same-origin page.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-csrf-token'] !== session.csrf) {
      throw makeError(ApiErrors.CSRF_REFUSED);
    }
    return { scope: 'write', via: 'session' };
  }
  throw makeError(ApiErrors.UNAUTHENTICATED, { tokenFile: ctx.tokenFile });
}

export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 200);
}
