import { AnkibridgeError, isAnkibridgeError } from '../errors/index.js';
import { GeneralErrors } from '../errors/codes/general.js';
import { makeError } from '../errors/define.js';

/** Where a command writes; injectable so tests can capture output without a child process. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/** Turns anything thrown into a catalogued error, so the CLI always shows a code. */
export function asAnkibridgeError(e: unknown): AnkibridgeError {
  if (isAnkibridgeError(e)) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return makeError(GeneralErrors.INTERNAL, { reason }, e);
}

/** Prints an error as a person or a script wants it, and returns the exit code. */
export function reportError(io: CliIO, e: unknown, json: boolean): number {
  const err = asAnkibridgeError(e);
  if (json) io.out(JSON.stringify({ ok: false, error: err.toJSON() }, null, 2));
  else io.err(`error ${err.code}: ${err.message}\n  ${err.hint}`);
  return err.exitCode;
}
