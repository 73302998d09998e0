/**
 * The unplug-during-transfer runs shared by both lab phones: QEMU's usb-mtp (no rename: the
 * copy-verify fallback) and the gadget phone (umtprd: the rename path). The phone is pulled at
 * seeded random points of the operation, measured in bytes moved (or at one of its steps: a
 * rename, a delete), which the guest reports as it goes (guest/progress-transport.ts), so where
 * the cut lands does not depend on how fast the emulated machine runs today.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { CallResult, Driver } from './harness/driver.js';
import { seeded } from './support.js';
import type { CutPoint } from './guest/progress-transport.js';

export interface LabPhone {
  readonly name: string;
  /** Whether safe writes take the rename path here. */
  readonly renames: boolean;
  /** Makes run `run`'s phone storage: `folder` holding `file` with `content` (the old file). */
  prepare(run: string, folder: string, file: string, content: Buffer): Promise<void>;
  /** Plugs the phone of run `run` in, waits for the watcher, opens MTP. */
  plug(run: string, attempt: string): Promise<void>;
  /** Pulls it out and waits until the watcher says it left. */
  unplug(run: string, attempt: string): Promise<void>;
  /** How the guest cuts at the chosen point (guest/progress-transport.ts): itself, or by asking the host. */
  cutHow(tag: string): CutPoint['how'];
  /**
   * After the operation reached its cut point (`cutSeen`) or ended first: make sure the phone is
   * out (pull it if the guest did not, and let a paused guest go on) and wait until the watcher
   * reports it left (events from `mark` on).
   */
  afterCut(run: string, attempt: string, o: { cutSeen: boolean; mark: number; how: CutPoint['how'] }): Promise<void>;
  /** SHA-256 of a file in run `run`'s phone storage, null when absent. */
  sha(run: string, path: string): Promise<string | null>;
  names(run: string, folder: string): Promise<string[]>;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

type Target = { kind: 'bytes'; bytes: number } | { kind: 'step'; step: string };

/** Runs `op` with the phone pulled exactly at `target` (bytes moved, or before a step). */
async function interruptAt<T>(driver: Driver, phone: LabPhone, run: string, attempt: string, op: string, args: Record<string, unknown>, target: Target): Promise<{ r: CallResult<T>; finishedFirst: boolean }> {
  const tag = `${run}-${attempt}`;
  const from = driver.proc.lineCount();
  const mark = driver.mark();
  const how = phone.cutHow(tag);
  const cut: CutPoint = { ...(target.kind === 'bytes' ? { bytes: target.bytes } : { step: target.step }), how };
  let done = false;
  const call = driver.call<T>(op, { ...args, progress: tag, every: 128 * 1024, cut }, 600_000).finally(() => (done = true));
  let cutSeen = false;
  for (;;) {
    if (driver.proc.output().split('\n').slice(from).includes(`CUT ${tag}`)) {
      cutSeen = true;
      break;
    }
    if (done) break;
    await sleep(5);
  }
  await phone.afterCut(run, attempt, { cutSeen, mark, how });
  return { r: await call, finishedFirst: !cutSeen };
}

/** Targets for `runs` cuts: mostly byte offsets in the whole operation, some at its steps. */
function targets(seed: number, runs: number, totalBytes: number, steps: readonly string[]): Target[] {
  const rng = seeded(seed);
  return Array.from({ length: runs }, (): Target => {
    if (steps.length > 0 && rng() < 0.3) return { kind: 'step', step: steps[Math.floor(rng() * steps.length)] as string };
    return { kind: 'bytes', bytes: Math.floor(rng() * totalBytes) };
  });
}

function stepsOf(driver: Driver, from: number, tag: string): string[] {
  const prefix = `STEP ${tag} `;
  return driver.proc.output().split('\n').slice(from).filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

/**
 * Send: `runs` safe writes of `localNew` (sha `newSha`, `size` bytes) over an old FOLDER/FILE,
 * each cut at a seeded point. Checks: a typed error; right after the cut NAME is the old file,
 * the new one, absent, or (only in the no-rename fallback's window) partial with its verified
 * marker beside it; after the next plug-in and recovery NAME is complete and no temporary is left.
 */
export async function sendRuns(driver: Driver, phone: LabPhone, o: { seed: number; runs: number; folder: string; file: string; localNew: string; newSha: string; size: number; randomOld: () => Buffer }): Promise<string[]> {
  const final = `${o.folder}/${o.file}`;
  const markerPrefix = `ankibridge-${o.newSha.slice(0, 16)}-${o.size}-`;
  // calibration: an uninterrupted write, to learn its bytes and steps
  await phone.prepare('cal', o.folder, o.file, o.randomOld());
  await phone.plug('cal', 'a');
  const from = driver.proc.lineCount();
  const full = await driver.value<{ ms: number; moved: number; method: string; exposedMs: number }>('fs.safeWrite', { path: final, from: o.localNew, progress: 'cal-a' }, 600_000);
  const steps = stepsOf(driver, from, 'cal-a').filter((s) => !s.startsWith('read'));
  expect(full.method).toBe(phone.renames ? 'rename' : 'copy-verify');
  await phone.unplug('cal', 'a');
  const plan = targets(o.seed, o.runs, full.moved, steps);
  const outcomes: string[] = [];
  let cut = 0;
  for (let i = 0; i < o.runs; i++) {
    const run = `s${i}`;
    const old = o.randomOld();
    await phone.prepare(run, o.folder, o.file, old);
    await phone.plug(run, 'a');
    const target = plan[i] as Target;
    const { r } = await interruptAt(driver, phone, run, 'a', 'fs.safeWrite', { path: final, from: o.localNew }, target);
    const where = target.kind === 'step' ? `at ${target.step}` : `at ${target.bytes}/${full.moved} B`;
    if (!r.ok) {
      cut++;
      expect(r.error.code, `${phone.name} run ${i} (${where}): ${r.error.message}`).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
    }
    // right after the cut, on the phone's storage
    const now = await phone.sha(run, final);
    const names = await phone.names(run, o.folder);
    const marker = names.find((n) => n.startsWith(markerPrefix));
    const markerComplete = marker ? (await phone.sha(run, `${o.folder}/${marker}`)) === o.newSha : false;
    const aside = names.some((n) => n.startsWith('ankibridge-old-'));
    const state = now === sha256(old) ? 'old' : now === o.newSha ? 'new' : now === null ? 'absent' : 'partial';
    console.log(`${phone.name} send run ${i} (${where}): ${r.ok ? 'finished' : r.error.code}; NAME ${state}, marker ${marker ? (markerComplete ? 'complete' : 'partial') : 'none'}${aside ? ', old set aside' : ''}`);
    if (phone.renames) {
      expect(state, `${phone.name} run ${i} (${where}): the rename path never leaves a partial NAME`).not.toBe('partial');
      if (state === 'absent') expect(markerComplete || aside, `${phone.name} run ${i}: NAME absent needs its verified marker or the old file set aside`).toBe(true);
    } else if (state === 'partial' || state === 'absent') {
      expect(markerComplete, `${phone.name} run ${i} (${where}): an unfinished NAME needs its verified marker`).toBe(true);
    }
    // the next plug-in is seen; recovery leaves a complete NAME and no temporaries
    await phone.plug(run, 'b');
    const actions = await driver.value<Array<{ action: string }>>('fs.recover', { dir: o.folder });
    const after = await phone.sha(run, final);
    expect([sha256(old), o.newSha], `${phone.name} run ${i} (${where}): after recovery`).toContain(after);
    if (markerComplete) expect(after, `${phone.name} run ${i}: a verified marker means the write was committed`).toBe(o.newSha);
    expect((await phone.names(run, o.folder)).filter((n) => n.endsWith('.part')), `${phone.name} run ${i}`).toEqual([]);
    await driver.value('mtp.close');
    await phone.unplug(run, 'b');
    outcomes.push(`${where}:${r.ok ? 'done' : 'cut'}:${state}->${after === o.newSha ? 'new' : 'old'}${actions.length ? `(${actions.map((a) => a.action).join(',')})` : ''}`);
  }
  outcomes.unshift(`uninterrupted ${full.ms.toFixed(0)} ms, ${full.moved} B, NAME exposed ${full.exposedMs.toFixed(0)} ms; ${cut}/${o.runs} cut`);
  // the points are in bytes, so nearly every run cuts whatever the speed of the machine
  expect(cut, outcomes.join('\n')).toBeGreaterThanOrEqual(Math.ceil(o.runs * 0.7));
  return outcomes;
}

/** Get: `runs` downloads of FOLDER/FILE (`size` bytes), each cut at a seeded byte offset: a typed error and no local file. */
export async function getRuns(driver: Driver, phone: LabPhone, o: { seed: number; runs: number; folder: string; file: string; content: Buffer; localDir: string }): Promise<string> {
  const path = `${o.folder}/${o.file}`;
  const rng = seeded(o.seed);
  let cut = 0;
  await phone.prepare('get', o.folder, o.file, o.content);
  for (let i = 0; i < o.runs; i++) {
    const dir = `${o.localDir}/get${i}`;
    await driver.value('local.mkdir', { dir });
    await phone.plug('get', `g${i}`);
    const { r } = await interruptAt(driver, phone, 'get', `g${i}`, 'fs.download', { path, to: `${dir}/${o.file}` }, { kind: 'bytes', bytes: Math.floor(rng() * o.content.length) });
    const local = await driver.value<string[]>('local.ls', { dir });
    if (r.ok) {
      expect(local).toEqual([o.file]);
      expect(r.value).toMatchObject({ sha256: sha256(o.content) });
    } else {
      cut++;
      expect(r.error.code, `${phone.name} get run ${i}: ${r.error.message}`).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
      expect(local, `${phone.name} get run ${i}: nothing left behind locally`).toEqual([]);
    }
  }
  // and the phone is seen once more after all that, its file untouched
  await phone.plug('get', 'end');
  expect(await phone.sha('get', path)).toBe(sha256(o.content));
  await driver.value('mtp.close');
  await phone.unplug('get', 'end');
  expect(cut).toBeGreaterThanOrEqual(Math.ceil(o.runs * 0.7));
  return `${cut}/${o.runs} cut`;
}
