import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allErrors, AnkibridgeError, ERROR_GROUPS, makeError, templateNames } from '../../../src/errors/index.js';
import { renderErrorDocs } from '../../../src/errors/render-docs.js';

describe('error catalogue', () => {
  const errors = allErrors();

  it('has at least one error per room it lists', () => {
    for (const g of ERROR_GROUPS) expect(Object.keys(g.errors).length, g.room).toBeGreaterThan(0);
  });

  it('has unique, well-formed codes', () => {
    const codes = errors.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^ANKIBRIDGE_ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/);
  });

  it('gives every error a message and a hint written as sentences, an HTTP status and an exit code', () => {
    for (const e of errors) {
      expect(e.message.length, e.code).toBeGreaterThan(10);
      expect(e.hint.length, e.code).toBeGreaterThan(10);
      // A template may end in a placeholder that the code fills with a whole sentence.
      expect(e.message, e.code).toMatch(/([.?!)]|\{\w+\})$/);
      expect(e.hint, e.code).toMatch(/([.?!)]|\{\w+\})$/);
      expect(e.http, e.code).toBeGreaterThanOrEqual(400);
      expect(e.http, e.code).toBeLessThan(600);
      expect(e.exit, e.code).toBeGreaterThan(0);
      expect(e.exit, e.code).toBeLessThan(126);
    }
  });

  it('fills message placeholders from details', () => {
    for (const e of errors) {
      const details = Object.fromEntries(templateNames(e.message + e.hint).map((n) => [n, `<${n}>`]));
      const err = makeError(e, details);
      expect(err).toBeInstanceOf(AnkibridgeError);
      expect(err.code).toBe(e.code);
      expect(err.message, e.code).not.toMatch(/\{\w+\}/);
      expect(err.hint, e.code).not.toMatch(/\{\w+\}/);
      expect(JSON.parse(JSON.stringify(err))).toMatchObject({ code: e.code, message: err.message });
    }
  });

  it('is documented: docs/errors.md is generated from the catalogue and current', () => {
    const onDisk = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderErrorDocs());
    for (const e of errors) expect(onDisk).toContain(e.code);
  });
});
