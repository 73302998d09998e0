// Must-show 1 of issue 7: the local API's security, over fastify.inject and over real sockets.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { findError } from '../../src/errors/index.js';
import { isolatedHome } from './support/isolated.js';
import { plugin } from './support/test-plugin.js';

const home = isolatedHome();
home.apply();
let d: RunningDaemon;
let write: string;
let read: string;

/** A raw HTTP request over the real socket, with any Host/Origin we like (fetch forbids setting Host). */
function raw(opts: { host?: string; path: string; method?: string; headers?: Record<string, string>; body?: string; family?: 4 | 6 }) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(
      { host: opts.family === 6 ? '::1' : '127.0.0.1', port: d.port, path: opts.path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${d.port}`, ...opts.headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** fastify.inject, addressed like a real client (Host with the bound port). */
function inject(o: { method?: string; url: string; headers?: Record<string, string>; payload?: string }) {
  return d.app.inject({ ...o, method: (o.method ?? 'GET') as 'GET', headers: { host: `127.0.0.1:${d.port}`, ...o.headers } });
}

function expectCatalogued(body: string, code: string) {
  const j = JSON.parse(body) as { error: { code: string; message: string; hint: string } };
  expect(j.error.code).toBe(code);
  expect(findError(j.error.code), `${j.error.code} is in the catalogue`).toBeDefined();
  expect(j.error.message.length).toBeGreaterThan(10);
}

beforeAll(async () => {
  d = await startDaemon({ plugins: [plugin] });
  write = readFileSync(d.paths.tokenFile, 'utf8').trim();
  read = readFileSync(d.paths.readTokenFile, 'utf8').trim();
});

afterAll(async () => {
  await d?.stop();
});

describe('API security', () => {
  it('answers 401 without a token, and with a wrong one, on every authenticated route', async () => {
    for (const r of d.routes.filter((x) => x.scope !== 'none')) {
      const url = r.url.replace(':id', '00000000-0000-0000-0000-000000000000');
      const none = await inject({ method: r.method, url });
      expect(none.statusCode, `${r.method} ${r.url}`).toBe(401);
      expectCatalogued(none.body, 'ANKIBRIDGE_ERR_API_UNAUTHENTICATED');
      const wrong = await inject({ method: r.method, url, headers: { authorization: `Bearer abw_${'x'.repeat(43)}` } });
      expect(wrong.statusCode).toBe(401);
    }
    // Unknown paths too, so probing learns nothing without a token.
    expect((await inject({ url: '/api/v1/secret' })).statusCode).toBe(401);
    const overSocket = await raw({ path: '/api/v1/status' });
    expect(overSocket.status).toBe(401);
    expectCatalogued(overSocket.body, 'ANKIBRIDGE_ERR_API_UNAUTHENTICATED');
  });

  it('lets the read token read but answers 403 on every write route', async () => {
    const ok = await inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${read}` } });
    expect(ok.statusCode).toBe(200);
    for (const r of d.routes.filter((x) => x.scope === 'write')) {
      const res = await inject({ method: r.method, url: r.url.replace(':id', '00000000-0000-0000-0000-000000000000'), headers: { authorization: `Bearer ${read}` } });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expectCatalogued(res.body, 'ANKIBRIDGE_ERR_API_FORBIDDEN_SCOPE');
    }
    const w = await raw({ path: '/api/v1/pause', method: 'POST', headers: { authorization: `Bearer ${read}` } });
    expect(w.status).toBe(403);
  });

  it('refuses a Host that is not loopback (DNS rebinding), even with a valid token and on /health', async () => {
    for (const host of ['evil.example', `evil.example:${d.port}`, `localhost.evil.example:${d.port}`, '10.0.0.1', `localhost:${d.port + 1}`]) {
      const res = await raw({ host, path: '/api/v1/status', headers: { authorization: `Bearer ${write}` } });
      expect(res.status, host).toBe(403);
      expectCatalogued(res.body, 'ANKIBRIDGE_ERR_API_HOST_REFUSED');
    }
    expect((await raw({ host: 'evil.example', path: '/health' })).status).toBe(403);
    for (const host of [`localhost:${d.port}`, `127.0.0.1:${d.port}`, `[::1]:${d.port}`]) {
      expect((await raw({ host, path: '/api/v1/status', headers: { authorization: `Bearer ${write}` } })).status, host).toBe(200);
    }
  });

  it('refuses browser requests from other origins (Origin, Referer, Sec-Fetch-Site) and accepts its own', async () => {
    const auth = { authorization: `Bearer ${write}` };
    const cases: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://localhost:${d.port + 1}` },
      { origin: `https://127.0.0.1:${d.port}` },
      { referer: 'http://evil.example/page' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of cases) {
      const res = await raw({ path: '/api/v1/pause', method: 'POST', headers: { ...auth, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expectCatalogued(res.body, 'ANKIBRIDGE_ERR_API_ORIGIN_REFUSED');
    }
    const same = await raw({ path: '/api/v1/status', headers: { ...auth, origin: `http://127.0.0.1:${d.port}` } });
    expect(same.status).toBe(200);
  });

  it('listens on loopback addresses only (read from the sockets)', async () => {
    const addrs = d.ctx.addresses();
    expect(addrs.map((a) => a.address).sort()).toEqual(['127.0.0.1', '::1']);
    const server = d.app.server.address();
    expect(typeof server === 'object' && server?.address).toBe('127.0.0.1');
    expect((await raw({ path: '/health', family: 6, host: `[::1]:${d.port}` })).status).toBe(200);
    // And a non-loopback address of this machine does not answer on the port.
    const external = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
    expect(external, 'this machine has a non-loopback IPv4 address to try').toBeDefined();
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: external?.address as string, port: d.port });
      s.once('connect', () => (s.destroy(), resolve('connected')));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('keeps the tokens in 0600 files, 256 bits each, different per scope', () => {
    for (const f of [d.paths.tokenFile, d.paths.readTokenFile]) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(Buffer.from(write.slice(4), 'base64url')).toHaveLength(32);
    expect(Buffer.from(read.slice(4), 'base64url')).toHaveLength(32);
    expect(write).not.toBe(read);
  });

  it('sends security headers on every answer, and /health says nothing', async () => {
    for (const res of [
      await inject({ url: '/health' }),
      await inject({ url: '/api/v1/status' }),
      await inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${write}` } }),
      await inject({ url: '/nope', headers: { authorization: `Bearer ${write}` } }),
      await inject({ url: '/dashboard' }),
    ]) {
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const health = await inject({ url: '/health' });
    expect(health.json()).toEqual({ status: 'ok' });
  });

  it('gives the dashboard a same-origin session: one-time code → HttpOnly SameSite=Strict cookie; writes need the CSRF token', async () => {
    const page0 = await inject({ url: '/dashboard' });
    expect(page0.statusCode).toBe(200);
    expect(page0.headers['content-type']).toMatch(/text\/html/);
    const s = await inject({ method: 'POST', url: '/api/v1/session', headers: { authorization: `Bearer ${write}` } });
    expect(s.statusCode, s.body).toBe(200);
    const path = (s.json() as { path: string }).path;
    const login = await inject({ url: path });
    expect(login.statusCode).toBe(303);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await inject({ url: path })).statusCode, 'a login code works once').toBe(401);
    const jar = cookie.split(';')[0] as string;
    expect((await inject({ url: '/api/v1/status', headers: { cookie: jar } })).statusCode).toBe(200);
    const noCsrf = await inject({ method: 'POST', url: '/api/v1/resume', headers: { cookie: jar } });
    expect(noCsrf.statusCode).toBe(403);
    expectCatalogued(noCsrf.body, 'ANKIBRIDGE_ERR_API_CSRF_REFUSED');
    const page = await inject({ url: '/dashboard', headers: { cookie: jar } });
    const csrf = /name="ankibridge-csrf" content="([^"]+)"/.exec(page.body)?.[1];
    expect(csrf).toBeDefined();
    const withCsrf = await inject({ method: 'POST', url: '/api/v1/resume', headers: { cookie: jar, 'x-csrf-token': csrf as string, origin: `http://localhost:${d.port}` } });
    expect(withCsrf.statusCode).toBe(200);
  });

  it('never writes a token (or a login code) to the log', async () => {
    await inject({ url: '/api/v1/status', headers: { authorization: `Bearer ${write}` } });
    await inject({ method: 'POST', url: '/api/v1/pause', headers: { authorization: `Bearer ${read}` } });
    d.log.info({ token: write, headers: { authorization: `Bearer ${write}` } }, 'a careless caller');
    const logDir = join(home.env.XDG_STATE_HOME, 'ankibridge');
    const text = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n');
    expect(text.length).toBeGreaterThan(100);
    expect(text).toContain('a careless caller');
    expect(text).not.toContain(write);
    expect(text).not.toContain(read);
    expect(text).not.toContain(write.slice(4, 20));
    expect(text).not.toMatch(/code=[A-Za-z0-9_-]{20,}/);
  });
});
