/**
 * Guest side: answers the host's requests, which arrive as files in `rpcDir` (the lab driver's
 * protocol, harness/driver.ts): `<id>.req.json` {op, args} is claimed by renaming it, the op
 * runs, and `<id>.res.json` {ok, value | error, ms} appears atomically. An `exit` request stops
 * the polling, then `onExit` runs and the process ends.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type GuestOps = Record<string, (args: Record<string, unknown>) => Promise<unknown>>;

export function serveRequests(rpcDir: string, ops: GuestOps, o: { everyMs: number; onExit(): Promise<void> | void }): void {
  const answer = async (id: string, req: { op: string; args?: Record<string, unknown> }): Promise<void> => {
    const t0 = performance.now();
    let res: unknown;
    try {
      const fn = ops[req.op];
      if (!fn) throw new Error(`unknown op ${req.op}`);
      res = { ok: true, value: await fn(req.args ?? {}), ms: performance.now() - t0 };
    } catch (e) {
      const err = e as Error & { code?: string; details?: unknown; hint?: string };
      res = { ok: false, error: { name: err.name, code: err.code ?? null, message: err.message, hint: err.hint ?? null, details: err.details ?? null }, ms: performance.now() - t0 };
    }
    writeFileSync(join(rpcDir, `${id}.res.tmp`), JSON.stringify(res));
    renameSync(join(rpcDir, `${id}.res.tmp`), join(rpcDir, `${id}.res.json`));
    if (req.op === 'exit') {
      clearInterval(timer);
      await o.onExit();
      setTimeout(() => process.exit(0), 50);
    }
  };
  const timer = setInterval(() => {
    let names: string[];
    try {
      names = readdirSync(rpcDir).filter((n) => n.endsWith('.req.json'));
    } catch {
      return;
    }
    for (const name of names) {
      const id = name.slice(0, -'.req.json'.length);
      const claimed = join(rpcDir, `${id}.taken`);
      try {
        renameSync(join(rpcDir, name), claimed);
      } catch {
        continue;
      }
      void answer(id, JSON.parse(readFileSync(claimed, 'utf8')) as { op: string; args?: Record<string, unknown> });
    }
  }, o.everyMs);
}
