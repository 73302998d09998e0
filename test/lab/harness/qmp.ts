/** A small QMP (QEMU Machine Protocol) client: commands, events, hot-plug of usb-mtp phones. */
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';

interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

export class QmpClient extends EventEmitter {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.onMessage(JSON.parse(line) as Record<string, unknown>);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('QMP connection closed (QEMU exited?)'));
      this.pending.clear();
      this.emit('close');
    });
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = createConnection(path);
    const client = new QmpClient(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`QMP: no greeting on ${path} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      client.once('greeting', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await client.execute('qmp_capabilities');
    return client;
  }

  private onMessage(msg: Record<string, unknown>): void {
    if ('QMP' in msg) return void this.emit('greeting');
    if (typeof msg.event === 'string') return void this.emit('event', msg as unknown as QmpEvent);
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    const err = msg.error as { class: string; desc: string } | undefined;
    if (err) p.reject(new Error(`QMP ${err.class}: ${err.desc}`));
    else p.resolve(msg.return);
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${command}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id }) + '\n');
    });
  }

  waitEvent(name: string, match: (data: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', on);
        reject(new Error(`QMP: no ${name} event in ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (ev: QmpEvent): void => {
        if (ev.event !== name || !match(ev.data ?? {})) return;
        clearTimeout(timer);
        this.off('event', on);
        resolve(ev);
      };
      this.on('event', on);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
