import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Single-instance lock: a file created with O_EXCL holding our pid. A lock whose pid is no longer
 * alive is stale (the daemon crashed) and is taken over.
 */
export interface InstanceLock {
  release(): void;
}

/** Locks this process holds, so a second start in the same process is refused too. */
const heldHere = new Set<string>();

export type LockResult = { ok: true; lock: InstanceLock } | { ok: false; holderPid: number };

export function acquireInstanceLock(file: string): LockResult {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(file);
      let released = false;
      return {
        ok: true,
        lock: {
          release() {
            if (released) return;
            released = true;
            heldHere.delete(file);
            // Only remove the file if it is still ours (a successor may have taken over a stale one).
            if (readHolder(file) === process.pid) unlinkSync(file);
          },
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(file);
      // Our own pid in the file is stale (a crashed predecessor with the same pid) unless we hold it now.
      const ours = holder === process.pid;
      if (holder !== undefined && ((ours && heldHere.has(file)) || (!ours && isAlive(holder)))) return { ok: false, holderPid: holder };
      // Stale: the holder is gone. Remove and retry.
      try {
        unlinkSync(file);
      } catch {
        /* someone else removed it first */
      }
    }
  }
  const holder = readHolder(file);
  return { ok: false, holderPid: holder ?? -1 };
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process that has exited but not been reaped by its parent (a zombie) still answers kill 0.
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  return true;
}
