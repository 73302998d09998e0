import { makeError } from '../../errors/index.js';
import { GeneralErrors } from '../../errors/codes/general.js';
import type { JobHandler } from './types.js';

/** `noop`: finishes at once. Shows the job machinery works end to end. */
export const noopHandler: JobHandler<{ collection?: string }, { ok: true }> = {
  kind: 'noop',
  description: 'Does nothing and succeeds; for checking that jobs run.',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { collection: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' } },
  },
  async run() {
    return { ok: true };
  },
};

interface SelftestParams {
  collection?: string;
  durationMs: number;
  steps: number;
  fail: boolean;
}

/** `selftest`: takes `durationMs` in `steps`, reporting progress and honouring cancellation; can fail on purpose. */
export const selftestHandler: JobHandler<SelftestParams, { steps: number }> = {
  kind: 'selftest',
  description: 'Waits for durationMs in steps with progress; cancellable; fails on purpose when fail is true.',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      collection: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' },
      durationMs: { type: 'integer', minimum: 0, maximum: 600000, default: 100 },
      steps: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
      fail: { type: 'boolean', default: false },
    },
  },
  async run(ctx) {
    const { durationMs, steps, fail } = ctx.params;
    for (let i = 1; i <= steps; i++) {
      await sleep(durationMs / steps, ctx.signal);
      ctx.progress({ fraction: i / steps, step: `step ${i}`, message: `Self-test step ${i} of ${steps}.` });
    }
    if (fail) throw makeError(GeneralErrors.INTERNAL, { reason: 'the self-test was asked to fail' });
    return { steps };
  },
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? makeError(GeneralErrors.CANCELLED));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason ?? makeError(GeneralErrors.CANCELLED));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
