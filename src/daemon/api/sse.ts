import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { makeError } from '../../errors/index.js';
import { ApiErrors } from '../../errors/codes/api.js';
import type { DaemonEvent, EventBus } from '../events/bus.js';
import { API_HEADERS } from './security.js';

/** A comment line this often keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 25_000;
/** A client this far behind is cut off (it reconnects with Last-Event-ID and catches up). */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * Server-sent events. Each event has the bus id; a client reconnecting with Last-Event-ID (header,
 * or `lastEventId` query for the first connection) gets the events it missed, or a `resync` event
 * when they are gone and it must re-read the state. One heartbeat timer for all clients, and none
 * while nobody listens.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly bus: EventBus) {}

  get size(): number {
    return this.clients.size;
  }

  handle(req: FastifyRequest, reply: FastifyReply, snapshot: () => Record<string, unknown>): void {
    const q = req.query as { lastEventId?: string } | undefined;
    const lastRaw = req.headers['last-event-id'] ?? q?.lastEventId;
    let replay: DaemonEvent[] | undefined = [];
    let resync = false;
    if (lastRaw !== undefined) {
      const text = String(lastRaw);
      if (!/^\d{1,16}$/.test(text)) throw makeError(ApiErrors.EVENT_ID_INVALID, { value: text.slice(0, 40) });
      replay = this.bus.since(Number(text));
      if (replay === undefined) resync = true;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...API_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    if (lastRaw === undefined || resync) {
      // No id on this one: it must not move the client's Last-Event-ID.
      res.write(format({ type: resync ? 'resync' : 'hello', data: { lastId: this.bus.lastId, state: snapshot() } }));
    } else {
      for (const e of replay ?? []) res.write(format(e));
    }
    this.clients.add(res);
    this.ensureRunning();
    const drop = () => {
      this.clients.delete(res);
      this.stopIfIdle();
    };
    res.on('close', drop);
    res.on('error', drop);
  }

  /** Ends every stream (shutdown): otherwise the server would wait for them forever. */
  closeAll(): void {
    for (const res of this.clients) {
      res.write(format({ type: 'shutdown', data: {} }));
      res.end();
    }
    this.clients.clear();
    this.stopIfIdle();
  }

  private ensureRunning(): void {
    this.unsubscribe ??= this.bus.subscribe((e) => this.broadcast(format(e)));
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  private stopIfIdle(): void {
    if (this.clients.size > 0) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }
}

function format(e: { id?: number; type: string; data: unknown; at?: string }): string {
  const data = JSON.stringify(e.at === undefined ? e.data : { at: e.at, ...(e.data as object) });
  return `${e.id === undefined ? '' : `id: ${e.id}\n`}event: ${e.type}\ndata: ${data}\n\n`;
}
