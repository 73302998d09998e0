/**
 * Talking to a spawned daemon from a test: its token from the isolated config folder, JSON
 * requests, and waiting for a job to finish.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Api {
  request<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<{ status: number; body: T }>;
  runJob(kind: string, params?: Record<string, unknown>): Promise<JobView>;
  waitJob(id: string, timeoutMs?: number): Promise<JobView>;
}

export interface JobView {
  id: string;
  kind: string;
  state: string;
  origin: string;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export function daemonApi(url: string, configHome: string): Api {
  const token = readFileSync(join(configHome, 'ankibridge', 'api-token'), 'utf8').trim();
  const request = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const waitJob = async (id: string, timeoutMs = 90_000): Promise<JobView> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await request<{ job: JobView }>('GET', `/api/v1/jobs/${id}`);
      if (!['queued', 'running'].includes(body.job.state)) return body.job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${body.job.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    request,
    waitJob,
    runJob: async (kind, params = {}) => {
      const r = await request<{ job: JobView }>('POST', '/api/v1/jobs', { kind, params });
      if (r.status !== 202 && r.status !== 200 && r.status !== 201) throw new Error(`POST /api/v1/jobs ${kind}: ${r.status} ${JSON.stringify(r.body)}`);
      return waitJob(r.body.job.id);
    },
  };
}

export interface EventTap {
  /** Stops listening and returns what arrived, in order. */
  stop(): Promise<Array<{ type: string; data: Record<string, unknown> }>>;
}

/** Listens to the daemon's live events (SSE) from now on. */
export async function tapEvents(url: string, configHome: string): Promise<EventTap> {
  const token = readFileSync(join(configHome, 'ankibridge', 'api-token-read'), 'utf8').trim();
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /api/v1/events answered ${res.status}`);
  let text = '';
  const reader = res.body.getReader();
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    }
  })();
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300)); // the last event's bytes
      ac.abort();
      await reading;
      return text
        .split('\n\n')
        .map((block) => ({ type: /^event: (.*)$/m.exec(block)?.[1], data: /^data: (.*)$/m.exec(block)?.[1] }))
        .filter((e): e is { type: string; data: string } => e.type !== undefined && e.data !== undefined)
        .map((e) => ({ type: e.type, data: JSON.parse(e.data) as Record<string, unknown> }));
    },
  };
}
