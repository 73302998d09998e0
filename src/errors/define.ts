import { AnkibridgeError, ERROR_CODE_PREFIX, type ErrorDetails, type ErrorSpec } from './ankibridge-error.js';

export type ErrorGroup<K extends string> = { readonly [P in K]: ErrorSpec & { readonly code: string } };

/**
 * Declares a room's errors. `defineErrors('PACKAGE', { ZIP_SLIP: {...} })` gives the code
 * `ANKIBRIDGE_ERR_PACKAGE_ZIP_SLIP`. Codes are part of the public contract: never rename one.
 */
export function defineErrors<K extends string>(room: string, specs: { readonly [P in K]: ErrorSpec }): ErrorGroup<K> {
  const out = {} as Record<string, ErrorSpec & { code: string }>;
  for (const [name, spec] of Object.entries(specs) as [string, ErrorSpec][]) {
    out[name] = { ...spec, code: `${ERROR_CODE_PREFIX}${room}_${name}` };
  }
  return out as ErrorGroup<K>;
}

/** Makes the error for one catalogue entry. */
export function makeError(
  entry: ErrorSpec & { readonly code: string },
  details: ErrorDetails = {},
  cause?: unknown,
): AnkibridgeError {
  return new AnkibridgeError(entry.code, entry, details, cause === undefined ? undefined : { cause });
}
