/** Host side of the guest driver (test/lab/guest/driver.ts): events and requests. */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackgroundCommand, Lab } from './lab.js';

export interface GuestEvent {
  readonly type: 'arrived' | 'left';
  readonly key: string;
  readonly at: number;
  readonly usbEventAt: number;
  readonly mode: string;
  readonly label: string;
  readonly serial: string | null;
  readonly vid: number;
  readonly pid: number;
  readonly guidance: string | null;
  readonly initial: boolean;
  readonly hasMtp: boolean;
  readonly hasPtp: boolean;
  readonly hasAdb: boolean;
  readonly interfaces: ReadonlyArray<{ class: number; subclass: number; protocol: number; name: string | null; endpoints: number }>;
}

export interface GuestError {
  readonly name: string;
  readonly code: string | null;
  readonly message: string;
  readonly hint: string | null;
  readonly details: Record<string, unknown> | null;
}

export type CallResult<T> = { ok: true; value: T; ms: number } | { ok: false; error: GuestError; ms: number };

export interface Driver {
  readonly proc: BackgroundCommand;
  /** Index to pass as `from` to only see later events. */
  mark(): number;
  waitEvent(match: (e: GuestEvent) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<{ event: GuestEvent; hostAt: number; index: number }>;
  events(from?: number): GuestEvent[];
  call<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<CallResult<T>>;
  /** call() that throws on a guest-side error. */
  value<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** `script`: another guest program speaking the same protocol (READY line, EVENT lines, rpc files). */
export async function startDriver(lab: Lab, env: Record<string, string> = {}, script = 'test/lab/guest/driver.ts'): Promise<Driver> {
  const rpcDir = join(lab.xchg, 'rpc');
  mkdirSync(rpcDir, { recursive: true });
  const proc = lab.background(lab.nodeCmd(script, [], { env, nodeFlags: ['--expose-gc'] }), { timeoutMs: 1_800_000 });
  // node + tsx start in a guest whose CPUs are starved by a loaded host: minutes, not seconds
  await proc.waitLine(/^READY /, { timeoutMs: 300_000 });
  let seq = 0;
  // Only lines that parse: the guest may be half-way through writing the last one.
  const eventLines = (): string[] =>
    proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('EVENT ') && parsesAsJson(l.slice(6)));
  const call = async <T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<CallResult<T>> => {
    const id = `${Date.now()}-${seq++}`;
    writeFileSync(join(rpcDir, `${id}.tmp`), JSON.stringify({ op, args }));
    renameSync(join(rpcDir, `${id}.tmp`), join(rpcDir, `${id}.req.json`));
    const resPath = join(rpcDir, `${id}.res.json`);
    const t0 = performance.now();
    for (;;) {
      if (existsSync(resPath)) {
        const r = JSON.parse(readFileSync(resPath, 'utf8')) as CallResult<T>;
        rmSync(resPath, { force: true });
        rmSync(join(rpcDir, `${id}.taken`), { force: true });
        return r;
      }
      const crash = lab.crashReason();
      if (crash) {
        // re-use the harness's classification: the lab crashed, not the code under test
        await lab.exec('true');
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`guest driver: ${op} did not answer in ${timeoutMs} ms\n${proc.output().slice(-2000)}`);
      await sleep(10);
    }
  };
  return {
    proc,
    mark: () => eventLines().length,
    events: (from = 0) => eventLines().slice(from).map((l) => JSON.parse(l.slice(6)) as GuestEvent),
    async waitEvent(match, opts = {}) {
      const t0 = performance.now();
      const limit = opts.timeoutMs ?? 60_000;
      for (;;) {
        const lines = eventLines();
        for (let i = opts.from ?? 0; i < lines.length; i++) {
          const ev = JSON.parse((lines[i] as string).slice(6)) as GuestEvent;
          if (match(ev)) return { event: ev, hostAt: performance.now(), index: i };
        }
        if (lab.crashReason()) await lab.exec('true');
        if (performance.now() - t0 > limit) throw new Error(`guest driver: no matching event in ${limit} ms; events: ${lines.slice(-10).join('\n')}`);
        await sleep(5);
      }
    },
    call,
    async value<T>(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
      const r = await call<T>(op, args, timeoutMs);
      if (!r.ok) throw new Error(`guest ${op} failed: ${r.error.code ?? r.error.name}: ${r.error.message}`);
      return r.value;
    },
    async stop() {
      await call('exit', {}, 10_000).catch(() => undefined);
      await proc.done.catch(() => undefined);
    },
  };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
