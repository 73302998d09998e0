/**
 * File-system failures (disk full, no permission, a folder that vanished) at the edge of the
 * package code become catalogued errors; errors that already have a code pass through.
 */
import { AnkibridgeError } from '../../errors/ankibridge-error.js';
import { makeError } from '../../errors/define.js';
import { GeneralErrors } from '../../errors/codes/general.js';

export function asIoError(e: unknown, path: string, operation: string): AnkibridgeError {
  if (e instanceof AnkibridgeError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOSPC' || err?.code === 'EDQUOT') return makeError(GeneralErrors.DISK_FULL, { path }, e);
  if (err?.code === 'ENOENT') return makeError(GeneralErrors.FILE_NOT_FOUND, { path: err.path ?? path }, e);
  return makeError(GeneralErrors.IO, { operation, path: err?.path ?? path, reason: err?.message ?? String(e) }, e);
}
