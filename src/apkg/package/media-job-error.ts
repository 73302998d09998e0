/**
 * Errors of media jobs crossing a thread boundary. postMessage keeps only an Error's message, so
 * a catalogued error travels as its code and details and is made again on the other side, and
 * a file-system error keeps its errno code, syscall and path (callers map ENOSPC etc.).
 */
import { AnkibridgeError, type ErrorDetails } from '../../errors/ankibridge-error.js';
import { findError } from '../../errors/catalogue.js';
import { makeError } from '../../errors/define.js';

export type SerializedJobError =
  | { catalogued: true; code: string; details: ErrorDetails }
  | { catalogued: false; message: string; code?: string; syscall?: string; path?: string };

export function serializeJobError(e: unknown): SerializedJobError {
  if (e instanceof AnkibridgeError) return { catalogued: true, code: e.code, details: e.details };
  const err = e as NodeJS.ErrnoException;
  return { catalogued: false, message: err?.message ?? String(e), code: err?.code, syscall: err?.syscall, path: err?.path };
}

export function deserializeJobError(s: SerializedJobError): Error {
  if (s.catalogued) {
    const spec = findError(s.code);
    if (spec) return makeError(spec, s.details);
    return new Error(`${s.code} (from a media worker)`);
  }
  const e = new Error(s.message) as NodeJS.ErrnoException;
  if (s.code !== undefined) e.code = s.code;
  if (s.syscall !== undefined) e.syscall = s.syscall;
  if (s.path !== undefined) e.path = s.path;
  return e;
}
