import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** sha256 of a file, or null if it does not exist. */
export function sha(file: string): string | null {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null;
}

/** The collection file and its companions, byte for byte. */
export function collectionBytes(collectionPath: string): Record<string, string | null> {
  return Object.fromEntries(['', '-wal', '-shm', '-journal'].map((s) => [s || 'main', sha(`${collectionPath}${s}`)]));
}

/** Puts a saved profile folder back (collection + media), removing what a run left. */
export function resetProfile(pristine: string, profileDir: string): void {
  rmSync(profileDir, { recursive: true, force: true });
  cpSync(pristine, profileDir, { recursive: true });
}

export function saveProfile(profileDir: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(profileDir, to, { recursive: true, filter: (src) => !/-wal$|-shm$/.test(src) || path.dirname(src) !== profileDir });
}
