import { existsSync } from 'node:fs';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import { DaemonClient } from '../../daemon/client/daemon-client.js';
import { readConfigFile } from '../../daemon/config/store.js';
import { mergePatch, validateConfig } from '../../daemon/config/validate.js';
import { writeFileAtomic } from '../../daemon/fs-atomic.js';
import { daemonPaths } from '../../daemon/paths.js';
import { runVerb, withExitCodes } from '../daemon-verb.js';
import type { RegisterCommand } from './index.js';

/** 'cloud.intervalMinutes' + '30' → { cloud: { intervalMinutes: 30 } }; the value is JSON if it parses, else text. */
export function patchFor(key: string, value: string | null): Record<string, unknown> {
  if (!/^[A-Za-z]+(\.[A-Za-z]+)*$/.test(key)) throw makeError(GeneralErrors.USAGE, { reason: `"${key}" is not a config key (like cloud.intervalMinutes)` });
  let parsed: unknown = value;
  if (value !== null) {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = value;
    }
  }
  return key.split('.').reduceRight<unknown>((acc, k) => ({ [k]: acc }), parsed) as Record<string, unknown>;
}

function pick(config: unknown, key: string | undefined): unknown {
  if (!key) return config;
  let v: unknown = config;
  for (const k of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (v === undefined) throw makeError(GeneralErrors.USAGE, { reason: `there is no config key "${key}"` });
  return v;
}

/** Uses the running daemon when there is one (it validates and reloads); edits the file otherwise. */
function connectOrNull(): DaemonClient | null {
  try {
    return DaemonClient.connect();
  } catch (e) {
    if ((e as { code?: string }).code === DaemonErrors.NOT_RUNNING.code) return null;
    throw e;
  }
}

export const registerConfig: RegisterCommand = (program, ctx) => {
  const config = program.command('config').description('Shows or changes the daemon config (validated; the running daemon picks changes up at once).');
  withExitCodes(config.command('get').description('Prints the config in force, or one key of it.').argument('[key]', 'a dotted key, e.g. cloud.intervalMinutes').option('--json', 'print as JSON')).action(
    async (key: string | undefined, opts: { json?: boolean }) =>
      runVerb(ctx, opts.json === true, async () => {
        const client = connectOrNull();
        const cfg = client ? (await client.request<{ config: unknown }>('GET', '/api/v1/config')).config : readConfigFile(daemonPaths().configFile).config;
        const value = pick(cfg, key);
        return { data: { key: key ?? null, value, source: client ? 'daemon' : 'file' }, human: [typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value)] };
      }),
  );
  withExitCodes(
    config
      .command('set')
      .description('Sets a key (value parsed as JSON when it can be: 30, true, null, "text").')
      .argument('<key>', 'a dotted key, e.g. cloud.enabled')
      .argument('<value>', 'the new value; null restores the default')
      .option('--json', 'print as JSON'),
  ).action(async (key: string, value: string, opts: { json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const patch = patchFor(key, value === 'null' ? null : value);
      const client = connectOrNull();
      let next: unknown;
      if (client) next = (await client.request<{ config: unknown }>('PATCH', '/api/v1/config', patch)).config;
      else {
        const path = daemonPaths().configFile;
        const raw = existsSync(path) ? readConfigFile(path).raw : {};
        const merged = mergePatch(raw, patch);
        const r = validateConfig(merged);
        if (!r.ok) throw makeError(DaemonErrors.CONFIG_INVALID, { path, reason: r.reason });
        writeFileAtomic(path, `${JSON.stringify(merged, null, 2)}\n`);
        next = r.config;
      }
      return { data: { key, value: pick(next, key), source: client ? 'daemon' : 'file' }, human: [`${key} = ${JSON.stringify(pick(next, key))}`] };
    }),
  );
  withExitCodes(config.command('path').description('Prints where the config file is.').option('--json', 'print as JSON')).action(async (opts: { json?: boolean }) =>
    runVerb(ctx, opts.json === true, async () => {
      const path = daemonPaths().configFile;
      return { data: { path, exists: existsSync(path) }, human: [path] };
    }),
  );
};
