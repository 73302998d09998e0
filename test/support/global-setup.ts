import { mkdirSync } from 'node:fs';

/** Runs once before all test files: a place for test artifacts (screenshots, dumps, logs). */
export default function setup(): void {
  mkdirSync(new URL('../../test-artifacts/', import.meta.url), { recursive: true });
}
