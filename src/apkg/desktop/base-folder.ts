/**
 * Where Anki Desktop keeps its base folder ("Anki2"), found the way Anki finds it
 * (docs/anki-package-formats.md §6.1): a folder given explicitly (our --base or config, like
 * Anki's `-b`), else ANKI_BASE, else the platform default; on Linux also the Flatpak location.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { makeError } from '../../errors/define.js';
import { DesktopErrors } from '../../errors/codes/desktop.js';

export interface BaseFolderInputs {
  /** --base on the command line or `desktop.baseFolder` in the config. Wins over everything. */
  configured?: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

export type BaseFolderSource = 'configured' | 'ANKI_BASE' | 'default' | 'flatpak';

export interface BaseFolderCandidate {
  path: string;
  source: BaseFolderSource;
}

/** Every place Anki's base folder may be, in the order Anki itself would use them. */
export function baseFolderCandidates(inputs: BaseFolderInputs = {}): BaseFolderCandidate[] {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const home = inputs.home ?? homedir();
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (inputs.configured) return [{ path: p.resolve(inputs.configured), source: 'configured' }];
  if (env.ANKI_BASE) return [{ path: p.resolve(env.ANKI_BASE), source: 'ANKI_BASE' }];
  if (platform === 'win32') {
    const appData = env.APPDATA ?? p.join(home, 'AppData', 'Roaming');
    return [{ path: p.join(appData, 'Anki2'), source: 'default' }];
  }
  if (platform === 'darwin') {
    return [{ path: p.join(home, 'Library', 'Application Support', 'Anki2'), source: 'default' }];
  }
  const xdgData = env.XDG_DATA_HOME && p.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : p.join(home, '.local', 'share');
  return [
    { path: p.join(xdgData, 'Anki2'), source: 'default' },
    { path: p.join(home, '.var', 'app', 'net.ankiweb.Anki', 'data', 'Anki2'), source: 'flatpak' },
  ];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The base folder in use: the first candidate that exists and holds prefs21.db (or, for an
 * explicit folder, that exists at all). A named error lists where it looked.
 */
export function findBaseFolder(inputs: BaseFolderInputs = {}): BaseFolderCandidate {
  const candidates = baseFolderCandidates(inputs);
  const explicit = candidates.length === 1 && candidates[0]?.source !== 'default';
  for (const c of candidates) {
    if (!isDir(c.path)) continue;
    if (explicit || existsSync(path.join(c.path, 'prefs21.db'))) return c;
  }
  throw makeError(DesktopErrors.BASE_NOT_FOUND, { searched: candidates.map((c) => c.path).join(', ') });
}
