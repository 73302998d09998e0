import { makeError } from '../../../errors/index.js';
import { ApiErrors } from '../../../errors/codes/api.js';
import type { ApiContext } from '../context.js';
import type { RouteSpec } from '../route-table.js';
import { DASHBOARD_CSP } from '../security.js';
import { readCookie, SESSION_COOKIE } from '../sessions.js';
import { EMPTY_BODY } from './schemas.js';
import { DASHBOARD_ICON_SVG, dashboardPage } from '../../dashboard/page.js';
import { DASHBOARD_JS } from '../../dashboard/script.js';
import { DASHBOARD_CSS } from '../../dashboard/style.js';

/** `focus`: the decision the page scrolls to (a notification's click lands there). */
const FOCUS = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' } as const;

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
      summary: 'The dashboard page: state, connected phones with their decision, running jobs, history, backups; live over SSE.',
      querystring: { type: 'object', additionalProperties: false, properties: { focus: FOCUS } },
      success: { status: 200, description: 'HTML.', mediaType: 'text/html', schema: { type: 'string' } },
      handler: async (req, reply) => {
        const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
        return reply.header('content-security-policy', DASHBOARD_CSP).type('text/html; charset=utf-8').send(dashboardPage(session));
      },
    },
    {
      method: 'GET',
      url: '/dashboard/app.js',
      scope: 'none',
      tag: 'dashboard',
      summary: "The dashboard's script (static; holds nothing private).",
      success: { status: 200, description: 'JavaScript.', mediaType: 'text/javascript', schema: { type: 'string' } },
      handler: async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(DASHBOARD_JS),
    },
    {
      method: 'GET',
      url: '/dashboard/icon.svg',
      scope: 'none',
      tag: 'dashboard',
      summary: "The dashboard's icon (static).",
      success: { status: 200, description: 'SVG.', mediaType: 'image/svg+xml', schema: { type: 'string' } },
      handler: async (_req, reply) => reply.type('image/svg+xml').send(DASHBOARD_ICON_SVG),
    },
    {
      method: 'GET',
      url: '/dashboard/app.css',
      scope: 'none',
      tag: 'dashboard',
      summary: "The dashboard's stylesheet (static).",
      success: { status: 200, description: 'CSS.', mediaType: 'text/css', schema: { type: 'string' } },
      handler: async (_req, reply) => reply.type('text/css; charset=utf-8').send(DASHBOARD_CSS),
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
        properties: { code: { type: 'string', minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }, focus: FOCUS },
      },
      success: { status: 303, description: 'Signed in; to /dashboard.', mediaType: 'text/plain', schema: { type: 'string' } },
      handler: async (req, reply) => {
        const q = req.query as { code: string; focus?: string };
        const s = ctx.sessions.redeem(q.code);
        if (!s) throw makeError(ApiErrors.UNAUTHENTICATED, { tokenFile: ctx.tokenFile });
        void reply.header('set-cookie', `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${s.maxAgeSeconds}`);
        return reply.redirect(q.focus === undefined ? '/dashboard' : `/dashboard?focus=${encodeURIComponent(q.focus)}`, 303);
      },
    },
  ];
}
