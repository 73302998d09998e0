/**
 * Opens a URL or a file with the desktop's default program. ANKIBRIDGE_OPENER names another
 * program (tests record what would have been opened; a user can pick a browser).
 */
import { spawn } from 'node:child_process';

export function openerCommand(target: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): { cmd: string; args: string[] } {
  const custom = env['ANKIBRIDGE_OPENER'];
  if (custom) return { cmd: custom, args: [target] };
  if (platform === 'darwin') return { cmd: 'open', args: [target] };
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""', target] };
  return { cmd: 'xdg-open', args: [target] };
}

/** Resolves when the opener has been started (it is detached; we do not wait for the browser). */
export function openTarget(target: string): Promise<void> {
  const { cmd, args } = openerCommand(target);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
