import { chmodSync, copyFileSync, mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const here = path.dirname(new URL(import.meta.url).pathname);
/** A collection fixture from test/fixtures/real (see PROVENANCE.md there). */
export function fixture(name: string): string {
  return path.resolve(here, '../../fixtures/real', name);
}

/** A temp folder for this test file, removed after it. */
export function tempDir(prefix = 'ankibridge-coltest-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function copyTo(dir: string, src: string, name = path.basename(src)): string {
  const out = path.join(dir, name);
  copyFileSync(src, out);
  chmodSync(out, 0o644); // the shared fixtures are read-only; copies are for changing
  return out;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}
