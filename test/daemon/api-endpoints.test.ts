// What each endpoint does, through the real app (inject) with the test plugin's providers:
// OpenAPI 3.1 lists every route; jobs start/progress/cancel; history; devices; backups list and
// restore (delegated to the provider and a restore job); config get/patch; pause/resume; sync.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { RotatingFile } from '../../src/daemon/logging.js';
import { isolatedHome } from './support/isolated.js';
import { plugin } from './support/test-plugin.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const home = isolatedHome();
home.apply();
let d: RunningDaemon;
let token: string;

async function call(method: string, url: string, body?: unknown) {
  const res = await d.app.inject({
    method: method as 'GET',
    url,
    headers: { host: `127.0.0.1:${d.port}`, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, json: res.json() as Record<string, unknown> & { job?: { id: string; state: string } } };
}

beforeAll(async () => {
  d = await startDaemon({ plugins: [plugin] });
  token = readFileSync(d.paths.tokenFile, 'utf8').trim();
});
afterAll(async () => {
  await d?.stop();
});

describe('API endpoints', () => {
  it('publishes an OpenAPI 3.1 document listing every route with its security', async () => {
    const { status, json } = await call('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(json['openapi']).toBe('3.1.0');
    const paths = json['paths'] as Record<string, Record<string, { security: unknown[] }>>;
    for (const r of d.routes) {
      const op = paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      expect(op?.security.length === 0, `${r.url} security`).toBe(r.scope === 'none');
    }
  });

  it('starts a job, shows its progress, cancels it, and keeps it in the history', async () => {
    const started = await call('POST', '/api/v1/jobs', { kind: 'selftest', params: { durationMs: 30_000, steps: 300 } });
    expect(started.status).toBe(202);
    const id = started.json.job?.id as string;
    await new Promise((r) => setTimeout(r, 400));
    const one = await call('GET', `/api/v1/jobs/${id}`);
    expect(one.json.job).toMatchObject({ state: 'running', progress: { step: expect.stringMatching(/^step \d+$/) } });
    expect((await call('POST', `/api/v1/jobs/${id}/cancel`)).status).toBe(202);
    await d.ctx.orchestrator.waitFor(id);
    expect((await call('GET', `/api/v1/jobs/${id}`)).json.job?.state).toBe('cancelled');
    expect((await call('POST', `/api/v1/jobs/${id}/cancel`)).status).toBe(409);
    const history = await call('GET', '/api/v1/history?limit=5');
    expect((history.json['jobs'] as Array<{ id: string; state: string }>).find((j) => j.id === id)?.state).toBe('cancelled');
    expect((await call('POST', '/api/v1/jobs', { kind: 'usb.merge' })).status).toBe(400);
  });

  it('lists devices and backups from the providers, and restores through a restore job', async () => {
    expect((await call('GET', '/api/v1/devices')).json).toEqual({ available: true, devices: [{ id: 'SERIAL1', label: 'Test phone', transport: 'mtp', state: 'ready' }] });
    const backups = await call('GET', '/api/v1/backups?limit=10');
    expect((backups.json['backups'] as Array<{ id: string }>).map((b) => b.id)).toEqual(['b-1']);
    const missing = await call('POST', '/api/v1/backups/b-404/restore', { confirm: true });
    expect(missing.status).toBe(404);
    const r = await call('POST', '/api/v1/backups/b-1/restore', { confirm: true });
    expect(r.status).toBe(202);
    const done = await d.ctx.orchestrator.waitFor(r.json.job?.id as string);
    expect(done).toMatchObject({ kind: 'restore', state: 'succeeded', result: { restored: 'b-1' }, params: { backupId: 'b-1', confirm: true } });
  });

  it('gets and patches the config (validated; null restores a default), pauses and resumes, syncs now', async () => {
    expect((await call('PATCH', '/api/v1/config', { cloud: { cron: '0 */2 * * *', enabled: true } })).status).toBe(200);
    const st = (await call('GET', '/api/v1/status')).json['scheduler'] as { mode: string; nextRunAt: string };
    expect(st.mode).toBe('cron');
    expect(new Date(st.nextRunAt).getUTCMinutes()).toBe(0);
    expect((await call('PATCH', '/api/v1/config', { cloud: { cron: 'every tuesday' } })).status).toBe(400);
    expect((await call('PATCH', '/api/v1/config', { cloud: { cron: null, enabled: null } })).status).toBe(200);
    expect(((await call('GET', '/api/v1/config')).json['config'] as { cloud: unknown }).cloud).toMatchObject({ cron: null, enabled: false });
    expect(JSON.parse(readFileSync(home.configFile, 'utf8'))).toEqual({ api: { port: 0 }, cloud: {} });
    expect((await call('POST', '/api/v1/pause', { minutes: 10 })).status).toBe(200);
    expect(((await call('GET', '/api/v1/status')).json['paused'] as { until: string }).until).toBeTruthy();
    expect((await call('POST', '/api/v1/resume')).json).toEqual({ paused: null });
    const sync = await call('POST', '/api/v1/sync', {});
    expect(sync.status).toBe(202);
    expect((await d.ctx.orchestrator.waitFor(sync.json.job?.id as string)).state).toBe('succeeded');
  });

  it('rotates its log file by size, keeping the configured number of old files', () => {
    const file = join(home.root, 'rot', 'daemon.log');
    const f = new RotatingFile(file, 1000, 2);
    for (let i = 0; i < 50; i++) f.write(`${JSON.stringify({ i, pad: 'x'.repeat(80) })}\n`);
    f.close();
    expect(readFileSync(file, 'utf8').length).toBeLessThanOrEqual(1000);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(readFileSync(file, 'utf8')).toContain('"i":49');
  });
});
