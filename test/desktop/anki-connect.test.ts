// AnkiConnect needs a running Anki Desktop GUI with the add-on, which no test machine has: this
// checks our side of its documented protocol (POST {action, version: 6, params, key}) against a
// small local stand-in, and that nothing stays open afterwards. Detection is never the only
// guard: the SQLite lock probe (tested with the real peer) is.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ankiConnect, askAnkiToSync, detectAnkiConnect } from '../../src/sync/anki-connect.js';

let server: Server;
let url: string;
const seen: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const msg = JSON.parse(body) as Record<string, unknown>;
      seen.push(msg);
      res.setHeader('content-type', 'application/json');
      if (msg.key !== 'secret') return res.end(JSON.stringify({ result: null, error: 'valid api key must be provided' }));
      if (msg.action === 'version') return res.end(JSON.stringify({ result: 6, error: null }));
      if (msg.action === 'sync') return res.end(JSON.stringify({ result: null, error: null }));
      res.end(JSON.stringify({ result: null, error: 'unsupported action' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('AnkiConnect', () => {
  it('detects a running Anki, with and without the right key, and asks it to sync', async () => {
    expect(await detectAnkiConnect({ url, key: 'secret' })).toEqual({ running: true, version: 6, needsKey: false, reason: null });
    expect(await detectAnkiConnect({ url })).toMatchObject({ running: true, needsKey: true });
    await askAnkiToSync({ url, key: 'secret' });
    expect(seen.at(-1)).toEqual({ action: 'sync', version: 6, params: {}, key: 'secret' });
    await expect(ankiConnect('deleteDecks', {}, { url, key: 'secret' })).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_DESKTOP_ANKICONNECT_FAILED' });
  });

  it('reports "not running" when nothing listens, quickly, and leaves no socket open', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const t = Date.now();
    expect(await detectAnkiConnect({ url: `http://127.0.0.1:${port}` })).toMatchObject({ running: false });
    expect(Date.now() - t).toBeLessThan(1500);
    await expect.poll(() => process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap'), { timeout: 2000 }).toEqual([]);
  });
});
