/**
 * A small size-limited tmpfs for disk-full tests (needs root, as in CI and the dev container).
 * If it cannot be mounted the test fails with this message: it is never skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export function mountTmpfs(dir: string, bytes: number): { unmount(): void } {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `Could not mount a ${bytes}-byte tmpfs at ${dir} for the disk-full test (it needs root or CAP_SYS_ADMIN): ${(e as Error).message}`,
    );
  }
  let mounted = true;
  return {
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', [dir], { stdio: 'pipe' });
    },
  };
}
