/**
 * The USB lab: a QEMU guest (Debian's kernel, the host's own root over 9p with a tmpfs overlay,
 * an xHCI controller, udevd) into which QEMU's emulated MTP phone (usb-mtp, a host folder as
 * its storage) is hot-plugged over QMP. Tests run ankibridge's code inside the guest, where
 * node-usb sees a real (emulated) USB bus.
 *
 *   await using lab = await startLab();
 *   await lab.plugPhone(dir);  await lab.exec('mtp-files');  await lab.unplug();
 *
 * A QEMU abort (its usb-mtp has assertion bugs on some upload sizes) surfaces as LabCrashedError:
 * "the lab crashed", never a pass and never a verdict on ankibridge.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildInitrd, findKernel } from './initrd.js';
import { QmpClient } from './qmp.js';
import { acquireLabLock } from './lab-lock.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '../../..');
const GUEST_DIR = resolve(HERE, '../guest');
const WORK_ROOT = process.env.ANKIBRIDGE_LAB_DIR ?? '/tmp/ankibridge-lab';
/** One guest at a time: a lab file may wait for all the others of a CI run (about 40 min on 2 loaded cores). */
const LAB_LOCK_WAIT_MS = 150 * 60_000;

export class LabCrashedError extends Error {
  override readonly name = 'LabCrashedError';
  constructor(reason: string, readonly consoleTail: string) {
    super(`USB LAB CRASHED (not a result about ankibridge): ${reason}\n--- guest console (tail) ---\n${consoleTail}`);
  }
}

export interface ExecResult {
  readonly rc: number;
  readonly out: string;
  readonly ms: number;
}

export interface BackgroundCommand {
  /** The command's output so far (it is written live to the shared folder). */
  output(): string;
  /** Waits for a line matching `re` (a RegExp or a test) that appears at or after line index `fromLine`. */
  waitLine(re: RegExp | ((line: string) => boolean), opts?: { fromLine?: number; timeoutMs?: number }): Promise<{ line: string; index: number; at: number }>;
  lineCount(): number;
  readonly done: Promise<ExecResult>;
}

export interface PlugOptions {
  readonly id?: string;
  readonly readonly?: boolean;
  /** USB iSerialNumber; the MTP DeviceInfo serial of usb-mtp is fixed whatever this says. */
  readonly serial?: string;
  /** Becomes the MTP storage description. */
  readonly desc?: string;
}

export interface Lab {
  readonly xchg: string;
  readonly workDir: string;
  readonly bootMs: number;
  exec(cmd: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** exec that throws with the output when the command fails. */
  run(cmd: string, opts?: { timeoutMs?: number }): Promise<string>;
  background(cmd: string, opts?: { timeoutMs?: number }): BackgroundCommand;
  /** A shell command line that runs a TypeScript file of this repo with node + tsx in the guest. */
  nodeCmd(scriptRelToRepo: string, args?: readonly string[], opts?: { env?: Record<string, string>; nodeFlags?: readonly string[] }): string;
  plugPhone(dir: string, opts?: PlugOptions): Promise<{ id: string; plugMs: number; at: number }>;
  unplug(id?: string): Promise<{ ms: number }>;
  /** Makes a fresh folder on the host for a phone's storage. */
  phoneDir(name: string): string;
  crashReason(): string | null;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface LabOptions {
  readonly memMiB?: number;
  /** Upper bound of the guest's life; the guest is killed after it whatever happens. */
  readonly maxLifeSeconds?: number;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console log)';
  }
}

function requireTool(name: string): void {
  const dirs = (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin']);
  if (!dirs.some((d) => existsSync(join(d, name)))) {
    throw new Error(`USB lab: ${name} is not installed. Install the packages in .ci/apt-packages.txt (qemu-system-x86, kmod, cpio, busybox-static, mtp-tools, udev).`);
  }
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  for (const tool of ['qemu-system-x86_64', 'modprobe', 'cpio', 'udevadm', 'mtp-files']) requireTool(tool);
  const kernel = findKernel();
  const initrd = buildInitrd(WORK_ROOT, kernel, join(GUEST_DIR, 'init.sh'));
  const releaseLock = await acquireLabLock(join(WORK_ROOT, 'lab.lock'), LAB_LOCK_WAIT_MS);
  let qemu: ChildProcess | undefined;
  let qmp: QmpClient | undefined;
  let exited: string | null = null;
  let stopping = false;
  const workDir = mkdtempSync(join(WORK_ROOT, 'run-'));
  const xchg = join(workDir, 'xchg');
  const cmdDir = join(xchg, 'cmd');
  const consolePath = join(workDir, 'console.log');
  const qmpPath = join(workDir, 'qmp.sock');
  mkdirSync(cmdDir, { recursive: true });
  const qemuPidFile = join(workDir, 'qemu.pid');
  // Kill QEMU itself (its pid file), not only the `timeout` wrapper: a SIGKILLed wrapper cannot
  // pass the signal on, and QEMU would live on as an orphan.
  const killOnExit = (): void => {
    for (const pid of [existsSync(qemuPidFile) ? Number(readFileSync(qemuPidFile, 'utf8').trim()) : 0, qemu?.pid ?? 0]) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', killOnExit);

  const crashReason = (): string | null => {
    let text = '';
    try {
      text = readFileSync(consolePath, 'utf8');
    } catch {
      /* not yet */
    }
    const assertion = text.split('\n').find((l) => /Assertion .* failed|qemu-system-x86_64: .*(abort|assert)/i.test(l));
    if (assertion) return `QEMU aborted: ${assertion.trim()}`;
    if (exited !== null && !stopping) return `QEMU exited unexpectedly (${exited})`;
    return null;
  };
  const assertAlive = (): void => {
    const r = crashReason();
    if (r) throw new LabCrashedError(r, tail(consolePath));
  };

  try {
    // KVM here is nested PVM, which cannot boot a stock Debian kernel: software emulation (TCG).
    const args = [
      '-accel', 'tcg,thread=multi', '-cpu', 'max', '-machine', 'q35', '-m', String(options.memMiB ?? 1024), '-smp', '2',
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-kernel', kernel.path, '-initrd', initrd,
      '-append', `console=ttyS0 quiet panic=-1 no_timer_check lab.job=${join(GUEST_DIR, 'agent.sh')} lab.xchg=${xchg}`,
      '-serial', 'stdio',
      '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-virtfs', `local,path=${xchg},mount_tag=labxchg,security_model=none`,
      '-device', 'qemu-xhci,id=xhci',
      '-qmp', `unix:${qmpPath},server=on,wait=off`,
      '-pidfile', qemuPidFile,
    ];
    // A boot can fail for reasons of the moment, not of the lab: under full load the kernel's
    // early timer check times out ("IO-APIC + timer doesn't work!", seen on CI) and the kernel
    // panics. no_timer_check skips that check; a guest that still does not boot is started
    // again (3 attempts), each attempt's console kept as console.log.N.
    let bootMs = 0;
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      const out = openSync(consolePath, 'w');
      exited = null;
      // `timeout` bounds the guest's life even if this process dies without cleaning up
      // LAB_CORE_DIR=<dir>: QEMU may dump core there (to read a crash of the lab with gdb)
      const core = process.env.LAB_CORE_DIR;
      const qemuCmd = core ? ['sh', '-c', 'ulimit -c unlimited; exec "$@"', 'sh', 'qemu-system-x86_64'] : ['qemu-system-x86_64'];
      const child = spawn('timeout', ['-k', '5', String(options.maxLifeSeconds ?? 1800), ...qemuCmd, ...args], {
        stdio: ['ignore', out, out],
        ...(core ? { cwd: core } : {}),
      });
      qemu = child;
      closeSync(out);
      child.on('exit', (code, signal) => {
        if (qemu === child) exited = `code ${code}, signal ${signal}`;
      });
      let failure: string | null = null;
      for (;;) {
        const text = existsSync(consolePath) ? readFileSync(consolePath, 'utf8') : '';
        if (text.includes('LAB-AGENT-READY')) break;
        if (text.includes('LAB-INIT-FATAL') || /Kernel panic/.test(text) || exited !== null) {
          failure = 'the guest did not boot';
          break;
        }
        // Software emulation on two cores shared with the rest of the suite: boots took 6-28 s
        // alone and over 120 s once under full load.
        if (performance.now() - t0 > 300_000) throw new LabCrashedError('the guest was not ready after 300 s', tail(consolePath));
        await sleep(50);
      }
      if (failure === null) {
        bootMs = performance.now() - t0;
        break;
      }
      if (attempt >= 3) throw new LabCrashedError(`${failure} (${attempt} attempts)`, tail(consolePath));
      killOnExit();
      while (exited === null) await sleep(20);
      renameSync(consolePath, `${consolePath}.${attempt}`);
      rmSync(qemuPidFile, { force: true });
      rmSync(qmpPath, { force: true });
    }
    qmp = await QmpClient.connect(qmpPath);
    const theQmp = qmp;

    let seq = 0;
    const submit = (cmd: string): { n: string; outPath: string; rcPath: string } => {
      const n = `${Date.now()}-${seq++}`;
      writeFileSync(join(cmdDir, `.${n}.tmp`), cmd + '\n');
      renameSync(join(cmdDir, `.${n}.tmp`), join(cmdDir, `${n}.sh`));
      return { n, outPath: join(cmdDir, `${n}.out`), rcPath: join(cmdDir, `${n}.rc`) };
    };
    const waitDone = async (rcPath: string, outPath: string, cmd: string, timeoutMs: number, t0: number): Promise<ExecResult> => {
      for (;;) {
        if (existsSync(rcPath)) {
          const rc = Number(readFileSync(rcPath, 'utf8').trim());
          const outText = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '';
          return { rc, out: outText, ms: performance.now() - t0 };
        }
        assertAlive();
        if (performance.now() - t0 > timeoutMs) throw new Error(`USB lab: guest command timed out after ${timeoutMs} ms: ${cmd}`);
        await sleep(20);
      }
    };
    const lines = (path: string): string[] => {
      try {
        return readFileSync(path, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };

    const lab: Lab = {
      xchg,
      workDir,
      bootMs,
      async exec(cmd, opts = {}) {
        assertAlive();
        const t0 = performance.now();
        const timeoutMs = opts.timeoutMs ?? 120_000;
        // the guest-side `timeout` makes sure a hung command ends and cannot pile up
        const { rcPath, outPath } = submit(`timeout -k 5 ${Math.ceil(timeoutMs / 1000)} sh -c ${shellQuote(cmd)}`);
        return waitDone(rcPath, outPath, cmd, timeoutMs + 10_000, t0);
      },
      async run(cmd, opts) {
        const r = await lab.exec(cmd, opts);
        if (r.rc !== 0) throw new Error(`guest command failed (rc ${r.rc}): ${cmd}\n${r.out}`);
        return r.out;
      },
      background(cmd, opts = {}) {
        assertAlive();
        const t0 = performance.now();
        const timeoutMs = opts.timeoutMs ?? 600_000;
        const { rcPath, outPath } = submit(`timeout -k 5 ${Math.ceil(timeoutMs / 1000)} sh -c ${shellQuote(cmd)}`);
        const done = waitDone(rcPath, outPath, cmd, timeoutMs + 10_000, t0);
        done.catch(() => undefined);
        return {
          done,
          output: () => lines(outPath).join('\n'),
          lineCount: () => lines(outPath).length,
          async waitLine(re, o = {}) {
            const start = performance.now();
            const limit = o.timeoutMs ?? 30_000;
            for (;;) {
              const all = lines(outPath);
              const matches = typeof re === 'function' ? re : (l: string): boolean => re.test(l);
              for (let i = o.fromLine ?? 0; i < all.length; i++) {
                if (matches(all[i] as string)) return { line: all[i] as string, index: i, at: performance.now() };
              }
              assertAlive();
              if (existsSync(rcPath)) throw new Error(`USB lab: the guest command ended before printing ${re}; output:\n${all.slice(-20).join('\n')}`);
              if (performance.now() - start > limit) {
                throw new Error(`USB lab: no line ${re} from the guest in ${limit} ms; output:\n${all.slice(-20).join('\n')}`);
              }
              await sleep(5);
            }
          },
        };
      },
      nodeCmd(script, args = [], opts = {}) {
        const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
        const flags = (opts.nodeFlags ?? []).join(' ');
        return `cd ${shellQuote(REPO_ROOT)} && exec env ${env} node ${flags} --import tsx ${shellQuote(script)} ${args.map(shellQuote).join(' ')}`;
      },
      async plugPhone(dir, opts = {}) {
        assertAlive();
        const id = opts.id ?? 'phone';
        const t0 = performance.now();
        await theQmp.execute('device_add', {
          driver: 'usb-mtp', id, bus: 'xhci.0', rootdir: dir, readonly: opts.readonly ?? false,
          desc: opts.desc ?? `Lab phone ${id}`, serial: opts.serial ?? `LAB-${id}`,
        });
        return { id, plugMs: performance.now() - t0, at: t0 };
      },
      async unplug(id = 'phone') {
        assertAlive();
        const t0 = performance.now();
        const deleted = theQmp.waitEvent('DEVICE_DELETED', (d) => d.device === id, 20_000);
        await theQmp.execute('device_del', { id });
        await deleted;
        return { ms: performance.now() - t0 };
      },
      phoneDir(name) {
        const d = mkdtempSync(join(workDir, `phone-${name}-`));
        return d;
      },
      crashReason,
      async stop() {
        if (stopping) return;
        stopping = true;
        try {
          qmp?.close();
          writeFileSync(join(cmdDir, '.quit'), '');
          const deadline = performance.now() + 10_000;
          while (exited === null && performance.now() < deadline) await sleep(50);
          if (exited === null) killOnExit();
          while (exited === null) await sleep(20);
        } finally {
          process.off('exit', killOnExit);
          rmSync(workDir, { recursive: true, force: true });
          releaseLock();
        }
      },
      [Symbol.asyncDispose]() {
        return lab.stop();
      },
    };
    return lab;
  } catch (e) {
    stopping = true;
    qmp?.close();
    killOnExit();
    process.off('exit', killOnExit);
    rmSync(workDir, { recursive: true, force: true });
    releaseLock();
    throw e;
  }
}
