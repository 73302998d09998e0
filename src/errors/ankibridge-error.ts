/**
 * One error type for everything the program can show a user. Each error has a stable code from
 * the catalogue (src/errors/codes/*), a message that says what happened, and a hint that says
 * what to do. Messages are templates: `{name}` is filled from `details`.
 */
export interface ErrorSpec {
  /** What happened, for a person. May contain `{placeholders}` filled from details. */
  readonly message: string;
  /** What to do about it. */
  readonly hint: string;
  /** HTTP status when the error reaches the API. */
  readonly http: number;
  /** Process exit code when the error ends a CLI command. */
  readonly exit: number;
}

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | undefined>>;

export const ERROR_CODE_PREFIX = 'ANKIBRIDGE_ERR_';

export class AnkibridgeError extends Error {
  override readonly name = 'AnkibridgeError';
  readonly code: string;
  readonly hint: string;
  readonly httpStatus: number;
  readonly exitCode: number;
  readonly details: ErrorDetails;

  constructor(code: string, spec: ErrorSpec, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(fillTemplate(spec.message, details), options);
    this.code = code;
    this.hint = fillTemplate(spec.hint, details);
    this.httpStatus = spec.http;
    this.exitCode = spec.exit;
    this.details = details;
  }

  toJSON(): { code: string; message: string; hint: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function fillTemplate(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = details[key];
    return value === undefined || value === null ? whole : String(value);
  });
}

/** Names in a template, so the catalogue test can check every placeholder is documented. */
export function templateNames(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}

export function isAnkibridgeError(value: unknown): value is AnkibridgeError {
  return value instanceof AnkibridgeError;
}
