import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The templates in service/ and the launcher in bin/, found from this file in src/ or dist/. */
const ROOT = new URL('../../../', import.meta.url);
export const TEMPLATES = {
  systemd: fileURLToPath(new URL('service/linux/ankibridge.service', ROOT)),
  launchd: fileURLToPath(new URL('service/macos/org.ankibridge.daemon.plist', ROOT)),
  windowsTask: fileURLToPath(new URL('service/windows/ankibridge-task.xml', ROOT)),
  udevRule: fileURLToPath(new URL('service/linux/51-ankibridge-android.rules', ROOT)),
} as const;
export const BIN_PATH = fileURLToPath(new URL('bin/ankibridge.js', ROOT));

export interface ServiceVars {
  NODE: string;
  BIN: string;
  HOME: string;
  LOG_DIR: string;
  USER: string;
}

export function defaultVars(logDir: string): ServiceVars {
  const u = userInfo();
  const domain = process.env['USERDOMAIN'];
  return {
    NODE: process.execPath,
    BIN: BIN_PATH,
    HOME: homedir(),
    LOG_DIR: logDir,
    USER: process.platform === 'win32' && domain ? `${domain}\\${u.username}` : u.username,
  };
}

export type Escape = 'systemd' | 'xml';

/** Fills {{NAME}} placeholders, escaping each value for the file's syntax. */
export function render(template: string, vars: ServiceVars, escape: Escape): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const v = (vars as unknown as Record<string, string | undefined>)[name];
    if (v === undefined) throw new Error(`service template placeholder ${whole} has no value`);
    return escape === 'xml' ? escapeXml(v) : escapeSystemd(v);
  });
}

export function renderFile(path: string, vars: ServiceVars, escape: Escape): string {
  return render(readFileSync(path, 'utf8'), vars, escape);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** systemd splits ExecStart on spaces and expands % and $; quote paths that need it. */
function escapeSystemd(s: string): string {
  const t = s.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\]/.test(t) ? `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : t;
}
