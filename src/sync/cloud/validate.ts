/**
 * Small shape checks for server answers: anything a server sends is untrusted (DESIGN
 * invariant 5), so each field is checked before use and a wrong one is a named BAD_RESPONSE.
 */
import { makeError } from '../../errors/define.js';
import { CloudErrors } from '../../errors/codes/cloud.js';

export class Shape {
  constructor(readonly step: string) {}

  fail(reason: string): never {
    throw makeError(CloudErrors.BAD_RESPONSE, { step: this.step, reason });
  }

  object(v: unknown, what: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} is not an object`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, what: string): unknown[] {
    if (!Array.isArray(v)) this.fail(`${what} is not a list`);
    return v;
  }

  int(v: unknown, what: string): number {
    // Anki accepts floats for integer columns on input (doc §4.6); keep whole numbers only.
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${what} is not a number`);
    return Math.trunc(v);
  }

  str(v: unknown, what: string): string {
    if (typeof v !== 'string') this.fail(`${what} is not text`);
    return v;
  }

  bool(v: unknown, what: string): boolean {
    if (typeof v !== 'boolean') this.fail(`${what} is not true/false`);
    return v;
  }

  ints(v: unknown, what: string): number[] {
    return this.array(v, what).map((x, i) => this.int(x, `${what}[${i}]`));
  }

  optionalArray(o: Record<string, unknown>, key: string): unknown[] {
    return o[key] === undefined || o[key] === null ? [] : this.array(o[key], key);
  }
}
