// Issue 7, must-show 3: load on loopback. 100 SSE clients stay connected for 60 s (LOAD_SECONDS)
// while bursts of 1,000 concurrent GET /api/v1/status requests arrive and jobs produce events.
// Reports errors, latency percentiles, RSS before/after, and whether every SSE client got every
// event in order. There is no Anki counterpart to a local control API, so no side-by-side column.
import { Agent, request } from 'node:http';
import { mb, rssOf, startBenchDaemon } from './support/daemon-process.js';

const seconds = Number(process.env['LOAD_SECONDS'] ?? 60);
const CONCURRENT = 1000;
const SSE_CLIENTS = 100;

const d = await startBenchDaemon({ api: { port: 0 } });
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
await new Promise((r) => setTimeout(r, 3000));
const rssBefore = rssOf(d.pid);

function get(path: string, token: string): Promise<{ status: number; ms: number }> {
  const t = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: d.port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
    });
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
    req.end();
  });
}

// SSE clients: each records the ids it receives.
interface SseClient { ids: number[]; errors: number; close(): void }
function sse(): Promise<SseClient> {
  return new Promise((resolve) => {
    const c: SseClient = { ids: [], errors: 0, close: () => undefined };
    const req = request({ host: '127.0.0.1', port: d.port, path: '/api/v1/events', headers: { authorization: `Bearer ${d.readToken}` } }, (res) => {
      if (res.statusCode !== 200) c.errors++;
      let buf = '';
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          if (id) c.ids.push(Number(id));
        }
      });
      res.on('error', () => c.errors++);
      c.close = () => req.destroy();
      resolve(c);
    });
    req.on('error', () => {
      c.errors++;
      resolve(c);
    });
    req.end();
  });
}

const clients = await Promise.all(Array.from({ length: SSE_CLIENTS }, () => sse()));
const firstEventId = await (async () => {
  const r = await fetch(`${d.url}/api/v1/status`, { headers: { authorization: `Bearer ${d.token}` } });
  return ((await r.json()) as { lastEventId: number }).lastEventId;
})();

const latencies: number[] = [];
let errors = 0;
let bursts = 0;
let jobs = 0;
const t0 = Date.now();
while (Date.now() - t0 < seconds * 1000) {
  // A job per burst: its queued/started/progress/finished events go to every SSE client.
  const job = await fetch(`${d.url}/api/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'selftest', params: { durationMs: 200, steps: 4 } }),
  });
  if (job.status === 202) jobs++;
  else errors++;
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => get('/api/v1/status', d.readToken)));
  bursts++;
  for (const r of results) {
    latencies.push(r.ms);
    if (r.status !== 200) errors++;
  }
  await new Promise((r) => setTimeout(r, 1000));
}
await new Promise((r) => setTimeout(r, 1500)); // last events arrive
const lastEventId = ((await (await fetch(`${d.url}/api/v1/status`, { headers: { authorization: `Bearer ${d.token}` } })).json()) as { lastEventId: number }).lastEventId;
const rssAfter = rssOf(d.pid);
const expected = lastEventId - firstEventId;
let complete = 0;
let sseErrors = 0;
for (const c of clients) {
  sseErrors += c.errors;
  const got = c.ids.filter((id) => id > firstEventId && id <= lastEventId);
  const inOrder = got.every((id, i) => i === 0 || id === (got[i - 1] as number) + 1);
  if (got.length === expected && inOrder) complete++;
  c.close();
}
agent.destroy();
await d.stop();

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(1);
console.log(`load on loopback for ${((Date.now() - t0) / 1000).toFixed(0)} s: ${bursts} bursts of ${CONCURRENT} concurrent GET /api/v1/status (${latencies.length} requests), ${jobs} jobs, ${SSE_CLIENTS} SSE clients`);
console.log(`  errors: ${errors} HTTP, ${sseErrors} SSE`);
console.log(`  latency ms: p50 ${pct(50)}, p90 ${pct(90)}, p99 ${pct(99)}, max ${latencies.at(-1)?.toFixed(1)} (whole burst of ${CONCURRENT} at once)`);
console.log(`  SSE: ${complete}/${SSE_CLIENTS} clients got all ${expected} events, in order`);
console.log(`  daemon RSS before ${mb(rssBefore)}, after ${mb(rssAfter)}`);
const ok = errors === 0 && sseErrors === 0 && complete === SSE_CLIENTS;
console.log(ok ? 'PASS' : 'FAIL');
process.exitCode = ok ? 0 : 1;
