/** How long each stage of a plug-in takes (logs, the lab's timing report): an optional listener. */
export type Trace = (stage: string, ms: number) => void;

/** Runs `f` (sync or async), telling `trace` how long it took. */
export function timed<T>(trace: Trace | undefined, stage: string, f: () => T): T {
  if (!trace) return f();
  const t0 = performance.now();
  const r = f();
  if (r instanceof Promise) return r.finally(() => trace(stage, performance.now() - t0)) as T;
  trace(stage, performance.now() - t0);
  return r;
}
