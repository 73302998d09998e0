/**
 * One lab guest at a time on this machine: vitest runs test files in two workers and two
 * TCG guests on two shared cores would each run at half speed and time out. The lock is a file
 * created with O_EXCL holding the owner's pid; a lock whose owner is dead is taken over.
 */
import { openSync, closeSync, writeSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function acquireLabLock(path: string, timeoutMs: number): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      continue;
    }
    if (owner && owner !== process.pid && !alive(owner)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`USB lab: another lab (pid ${owner}) held ${path} for ${timeoutMs} ms`);
    await sleep(250);
  }
}
