// Drives bench/support/cloud-client-child.mjs: our compiled cloud client in its own process,
// started with the daemon's V8 flags, answering one JSON line per command.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_FLAGS, compileForBench } from './daemon-process.js';

const CHILD = fileURLToPath(new URL('./cloud-client-child.mjs', import.meta.url));

export class CloudClientProcess {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) {
        // V8's own output (--trace-gc) goes to stdout too
        if (process.env.CLOUD_CLIENT_STDERR) process.stderr.write(`${line}\n`);
        return;
      }
      const msg = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: { code?: string; message: string } };
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(Object.assign(new Error(`our client: ${msg.error?.message}`), { code: msg.error?.code }));
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
      if (process.env.CLOUD_CLIENT_STDERR) process.stderr.write(d);
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`our client process exited (${code}):\n${this.stderr}`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<CloudClientProcess> {
    const build = compileForBench('src/sync');
    // CLOUD_CLIENT_NODE_FLAGS: extra flags for experiments (e.g. --trace-gc, --cpu-prof)
    const extra = process.env.CLOUD_CLIENT_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...extra, CHILD, build], { stdio: ['pipe', 'pipe', 'pipe'] });
    const c = new CloudClientProcess(child);
    await c.call('cpu');
    return c;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  call<T>(cmd: string, args: object = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await once(this.child, 'exit');
    clearTimeout(timer);
  }
}
