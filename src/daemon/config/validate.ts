import { strictAjv } from '../ajv.js';
import { Cron } from 'croner';
import { CONFIG_SCHEMA, type DaemonConfig } from './schema.js';

const validateSchema = strictAjv.compile(CONFIG_SCHEMA);

export type ValidationResult = { ok: true; config: DaemonConfig } | { ok: false; reason: string };

/** Validates (a copy of) raw config data and fills in defaults. Never throws. */
export function validateConfig(raw: unknown): ValidationResult {
  const copy: unknown = raw === undefined ? {} : structuredClone(raw);
  if (!validateSchema(copy)) {
    const reason = (validateSchema.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
      .join('; ');
    return { ok: false, reason };
  }
  const config = copy as DaemonConfig & { $schema?: string };
  delete config.$schema;
  if (config.cloud.cron !== null) {
    try {
      new Cron(config.cloud.cron, { paused: true }).stop();
    } catch (e) {
      return { ok: false, reason: `/cloud/cron is not a cron expression (${(e as Error).message})` };
    }
  }
  if (config.backoff.maxSeconds < config.backoff.initialSeconds) {
    return { ok: false, reason: '/backoff/maxSeconds must not be smaller than /backoff/initialSeconds' };
  }
  return { ok: true, config };
}

export function defaultConfig(): DaemonConfig {
  const r = validateConfig({});
  if (!r.ok) throw new Error(`default config is invalid: ${r.reason}`);
  return r.config;
}

/** RFC 7396 JSON merge patch: objects merge, null deletes (so the default comes back), the rest replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
