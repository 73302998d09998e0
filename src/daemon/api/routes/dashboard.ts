import { makeError } from '../../../errors/index.js';
import { ApiErrors } from '../../../errors/codes/api.js';
import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { DASHBOARD_CSP } from '../security.js';
import { readCookie, SESSION_COOKIE } from '../sessions.js';
import { EMPTY_BODY } from './schemas.js';

/** A placeholder until the dashboard issue lands: proves the session and the headers, shows nothing private. */
function page(csrf: string | undefined): string {
  const meta = csrf ? `<meta name="ankibridge-csrf" content="${csrf}">` : '';
  const body = csrf
    ? '<p>You are signed in to this daemon. The dashboard itself is still to come.</p>'
    : '<p>Not signed in. The dashboard opens signed in from the tray or the command line (a one-time link from POST /api/v1/session).</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ankibridge</title>${meta}</head><body><h1>ankibridge</h1>${body}</body></html>`;
}

export function dashboardRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/',
      scope: 'none',
      tag: 'dashboard',
      summary: 'Redirects to the dashboard.',
      success: { status: 303, description: 'To /dashboard.', mediaType: 'text/plain', schema: { type: 'string' } },
      handler: async (_req, reply) => reply.redirect('/dashboard', 303),
    },
    {
      method: 'GET',
      url: '/dashboard',
      scope: 'none',
      tag: 'dashboard',
      summary: 'The dashboard page (placeholder).',
      success: { status: 200, description: 'HTML.', mediaType: 'text/html', schema: { type: 'string' } },
      handler: async (req, reply) => {
        const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
        return reply.header('content-security-policy', DASHBOARD_CSP).type('text/html; charset=utf-8').send(page(session?.csrf));
      },
    },
    {
      method: 'POST',
      url: '/api/v1/session',
      scope: 'write',
      tag: 'dashboard',
      summary: 'A one-time login link for the dashboard (valid 60 s, once); the token itself never goes into a URL.',
      body: EMPTY_BODY,
      success: { status: 200, description: 'The login path.', schema: { type: 'object', properties: { path: { type: 'string' }, expiresAt: { type: 'string' } } } },
      handler: async () => {
        const { code, expiresAt } = ctx.sessions.newLoginCode();
        return { path: `/dashboard/login?code=${code}`, expiresAt: new Date(expiresAt).toISOString() };
      },
    },
    {
      method: 'GET',
      url: '/dashboard/login',
      scope: 'none',
      tag: 'dashboard',
      summary: 'Trades a one-time login code for a session cookie (HttpOnly, SameSite=Strict) and goes to the dashboard.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['code'],
        properties: { code: { type: 'string', minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' } },
      },
      success: { status: 303, description: 'Signed in; to /dashboard.', mediaType: 'text/plain', schema: { type: 'string' } },
      handler: async (req, reply) => {
        const s = ctx.sessions.redeem((req.query as { code: string }).code);
        if (!s) throw makeError(ApiErrors.UNAUTHENTICATED, { tokenFile: ctx.tokenFile });
        void reply.header('set-cookie', `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${s.maxAgeSeconds}`);
        return reply.redirect('/dashboard', 303);
      },
    },
  ];
}
