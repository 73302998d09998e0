import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh set of XDG folders, so a test's daemon never meets the user's (or another test's). */
export interface IsolatedHome {
  root: string;
  env: { XDG_CONFIG_HOME: string; XDG_DATA_HOME: string; XDG_STATE_HOME: string; XDG_CACHE_HOME: string; ANKI_BASE: string };
  configFile: string;
  /** Points this process at the folders (in-process daemons; vitest runs each file in its own process). */
  apply(): void;
}

export function isolatedHome(config: Record<string, unknown> = { api: { port: 0 } }): IsolatedHome {
  const root = mkdtempSync(join(tmpdir(), 'ankibridge-daemon-test-'));
  const env = {
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CACHE_HOME: join(root, 'cache'),
    // Anki Desktop's folder is looked up under XDG_DATA_HOME too: keep the real one out of reach.
    ANKI_BASE: join(root, 'no-anki'),
  };
  const configFile = join(env.XDG_CONFIG_HOME, 'ankibridge', 'config.json');
  mkdirSync(join(env.XDG_CONFIG_HOME, 'ankibridge'), { recursive: true });
  writeFileSync(configFile, JSON.stringify(config));
  return { root, env, configFile, apply: () => Object.assign(process.env, env) };
}
