// A misbehaving sync server for tests: a loopback HTTP proxy in front of the real
// anki.syncserver that spoils the answer to one chosen protocol step.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compress } from 'zstd-napi';

export type Fault = 'malformed' | 'truncated' | 'slow' | 'status503' | 'status404' | 'wrongSize' | 'cut' | 'redirect';

export interface FaultRule {
  /** e.g. "sync/chunk" or "msync/downloadFiles" */
  step: string;
  fault: Fault;
}

export class FaultProxy {
  rule: FaultRule | undefined;
  /** steps seen since the last reset, in order (to prove the faulty step was reached) */
  seen: string[] = [];
  hits = 0;
  private readonly server: http.Server;
  private readonly held = new Set<http.ServerResponse>();
  endpoint = '';

  private constructor(private readonly upstream: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(upstream: string): Promise<FaultProxy> {
    const p = new FaultProxy(upstream);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.endpoint = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}/`;
    return p;
  }

  set(rule: FaultRule | undefined): void {
    this.rule = rule;
    this.seen = [];
    this.hits = 0;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const step = (req.url ?? '').replace(/^\//, '');
    this.seen.push(step);
    const up = await forward(this.upstream, req, body);
    const rule = this.rule;
    if (!rule || rule.step !== step || this.hits > 0) {
      res.writeHead(up.status, up.headers);
      res.end(up.body);
      return;
    }
    this.hits++;
    const size = up.headers['anki-original-size'];
    switch (rule.fault) {
      case 'malformed': {
        const junk = Buffer.from('{"this is": not json at all');
        res.writeHead(200, { 'anki-original-size': String(junk.length) });
        res.end(compress(junk));
        return;
      }
      case 'truncated': {
        res.writeHead(200, { 'anki-original-size': String(size ?? 100) });
        res.end(up.body.subarray(0, Math.max(1, Math.floor(up.body.length / 2))));
        return;
      }
      case 'wrongSize':
        res.writeHead(200, { 'anki-original-size': String(Number(size ?? 0) + 17) });
        res.end(up.body);
        return;
      case 'cut':
        res.writeHead(200, { 'anki-original-size': String(size ?? 100), 'content-length': String(up.body.length + 1000) });
        res.write(up.body.subarray(0, Math.floor(up.body.length / 2)));
        setTimeout(() => res.destroy(), 20);
        return;
      case 'slow':
        // never answers: the client's stall timer must fire
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      case 'status503':
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('503');
        return;
      case 'status404':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here');
        return;
      case 'redirect':
        res.writeHead(308, { location: 'http://127.0.0.1:9/elsewhere/' });
        res.end();
        return;
    }
  }
}

function forward(upstream: string, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers.host;
    const r = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: http.OutgoingHttpHeaders = {};
        for (const k of ['anki-original-size', 'content-type', 'location']) if (res.headers[k]) h[k] = res.headers[k];
        resolve({ status: res.statusCode ?? 500, headers: h, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}
