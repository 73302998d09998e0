// Must-show 2 of issue 7: every endpoint's input fuzzed (malformed JSON, wrong types, huge bodies,
// odd paths and queries): always a catalogued 4xx, never a 5xx, and the daemon stays up.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import type { RouteSpec } from '../../src/daemon/api/route-table.js';
import { findError } from '../../src/errors/index.js';
import { isolatedHome } from './support/isolated.js';
import { plugin } from './support/test-plugin.js';
import { seededRandom as prng } from '../support/seeded-random.js';

isolatedHome().apply();
let d: RunningDaemon;
let auth: Record<string, string>;


function randomJson(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * (depth > 3 ? 6 : 9));
  const strs = ['', 'x', '🙂', '../../etc/passwd', '<script>', 'a'.repeat(300), '__proto__', 'null', '1e999', 'cloud.sync', 'selftest', 'desktop'];
  switch (pick) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return [0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, 10, 60][Math.floor(rnd() * 9)];
    case 3: return strs[Math.floor(rnd() * strs.length)];
    case 4: return Math.floor(rnd() * 100000);
    case 5: return 'str';
    case 6: return Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1));
    default: {
      const keys = ['kind', 'params', 'collection', 'minutes', 'confirm', 'api', 'cloud', 'log', 'port', 'enabled', 'cron', 'durationMs', '__proto__', 'constructor', 'x'];
      const o: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) o[keys[Math.floor(rnd() * keys.length)] as string] = randomJson(rnd, depth + 1);
      return o;
    }
  }
}

function urlOf(r: RouteSpec, id = '00000000-0000-4000-8000-000000000000'): string {
  return r.url.replace(':id', r.url.startsWith('/api/v1/backups') ? 'b-1' : id);
}

/** Routes whose valid call changes the daemon's life (shutdown) or streams forever (events) get invalid input only. */
const INVALID_ONLY = new Set(['/api/v1/shutdown', '/api/v1/events']);

async function send(method: string, url: string, payload: string | undefined, headers: Record<string, string> = {}) {
  const res = await d.app.inject({
    method: method as 'GET',
    url,
    headers: { host: `127.0.0.1:${d.port}`, ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  return res;
}

function expectNo5xx(res: { statusCode: number; body: string }, what: string): void {
  expect(res.statusCode, `${what} → ${res.statusCode} ${res.body.slice(0, 200)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const code = (JSON.parse(res.body) as { error: { code: string } }).error.code;
    expect(findError(code), `${what}: ${code} is catalogued`).toBeDefined();
  }
}

beforeAll(async () => {
  d = await startDaemon({ plugins: [plugin] });
  auth = { authorization: `Bearer ${readFileSync(d.paths.tokenFile, 'utf8').trim()}` };
});

afterAll(async () => {
  await d?.stop();
});

describe('API fuzz', () => {
  it('answers malformed JSON, wrong content types and huge bodies on every endpoint with a catalogued 4xx', async () => {
    const bodies: Array<[string, string, Record<string, string>?]> = [
      ['{', 'truncated'],
      ['{"kind": }', 'syntax'],
      ['nul', 'bad literal'],
      ['{"a":1}garbage', 'trailing'],
      ['"\\ud800"', 'lone surrogate string'],
      ['{"__proto__": {"polluted": true}}', 'proto'],
      ['{"constructor": {"prototype": {"polluted": true}}}', 'constructor'],
      ['[]', 'array'],
      ['123', 'number'],
      ['"text"', 'string'],
      ['null', 'null'],
      ['true', 'bool'],
      ['', 'empty with json type'],
      ['x'.repeat(70 * 1024), 'just over the limit'],
      [`{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`, '2 MB'],
      ['['.repeat(5000) + ']'.repeat(5000), 'deep nesting'],
      ['hello', 'text/plain', { 'content-type': 'text/plain' }],
      ['a=1', 'form', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['--x\r\n', 'multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
      ['{"unknown":1}', 'json with charset junk', { 'content-type': 'application/json; charset=ebcdic' }],
    ];
    for (const r of d.routes) {
      for (const [body, what, headers] of bodies) {
        if (INVALID_ONLY.has(r.url) && (body === '{}' || body === '')) continue;
        // GET requests have no body to parse (the events stream would just open).
        if (r.method === 'GET') continue;
        const res = await send(r.method, urlOf(r), body, headers);
        expectNo5xx(res, `${r.method} ${r.url} with ${what}`);
        if (r.body) expect(res.statusCode, `${r.method} ${r.url} with ${what}`).toBeGreaterThanOrEqual(400);
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('answers random JSON values (wrong types, odd strings, extremes) on every body with 2xx or a catalogued 4xx', async () => {
    const rnd = prng(20261125);
    let fourXX = 0;
    for (const r of d.routes.filter((x) => x.body)) {
      for (let i = 0; i < 150; i++) {
        const value = randomJson(rnd);
        if (INVALID_ONLY.has(r.url) && (value === null || (typeof value === 'object' && Object.keys(value as object).length === 0))) continue;
        const payload = JSON.stringify(value);
        if (payload === undefined) continue;
        const res = await send(r.method, urlOf(r), payload);
        expectNo5xx(res, `${r.method} ${r.url} with ${payload.slice(0, 80)}`);
        if (res.statusCode >= 400) fourXX++;
        if (INVALID_ONLY.has(r.url)) expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }
    }
    expect(fourXX).toBeGreaterThan(100);
  });

  it('answers odd paths, ids and query strings with a catalogued 4xx', async () => {
    const ids = ['x', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '%00', '%E0%A4%A', '..%2F..%2Fetc', 'a'.repeat(300), '🙂', '00000000-0000-4000-8000-000000000000%20'];
    for (const id of ids) {
      for (const path of [`/api/v1/jobs/${id}`, `/api/v1/jobs/${id}/cancel`, `/api/v1/backups/${id}/restore`]) {
        const res = await send(path.endsWith('s/' + id) ? 'GET' : 'POST', path, undefined);
        expectNo5xx(res, path);
        expect(res.statusCode, path).toBeGreaterThanOrEqual(400);
      }
    }
    const queries = ['limit=0', 'limit=-1', 'limit=abc', 'limit=1e9', 'limit=1&limit=2', 'before=x', 'unknown=1', 'collection=../../x', 'limit=' + '9'.repeat(400), '%%%', 'a[b]=c'];
    for (const q of queries) {
      for (const base of ['/api/v1/history', '/api/v1/backups']) {
        const res = await send('GET', `${base}?${q}`, undefined);
        expectNo5xx(res, `${base}?${q}`);
        expect(res.statusCode, `${base}?${q}`).toBeGreaterThanOrEqual(400);
      }
    }
    for (const v of ['abc', '-5', '1.5', '9'.repeat(30), '']) {
      const res = await send('GET', '/api/v1/events', undefined, { 'last-event-id': v });
      expectNo5xx(res, `Last-Event-ID ${v}`);
      expect(res.statusCode).toBe(400);
    }
    for (const [method, path] of [['DELETE', '/api/v1/status'], ['PUT', '/api/v1/config'], ['GET', '/api/v1/../../etc/passwd'], ['GET', '/%']]) {
      const res = await send(method as string, path as string, undefined);
      expectNo5xx(res, `${method} ${path}`);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
    }
  });

  it('stays up: health and status answer afterwards, over a real socket too, and malformed HTTP gets a catalogued 400', async () => {
    expect((await send('GET', '/api/v1/status', undefined)).statusCode).toBe(200);
    const res = await fetch(`${d.url}/health`);
    expect(res.status).toBe(200);
    const { connect } = await import('node:net');
    const rawAnswer = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: d.port }, () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n'));
      let out = '';
      s.on('data', (c) => (out += c.toString()));
      s.on('close', () => resolve(out));
    });
    expect(rawAnswer).toMatch(/^HTTP\/1.1 400/);
    expect(rawAnswer).toContain('ANKIBRIDGE_ERR_API_BAD_REQUEST');
    expect((await fetch(`${d.url}/health`)).status).toBe(200);
  });
});
