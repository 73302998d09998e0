import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../fs-atomic.js';

export type Scope = 'read' | 'write';

/**
 * The API tokens: 256 random bits each, base64url, prefixed by scope (so a leaked one is easy to
 * recognise and its scope is visible). Stored in user-only (0600) files; never logged, never in a URL.
 */
export interface ApiTokens {
  write: string;
  read: string;
}

const PREFIX: Record<Scope, string> = { write: 'abw_', read: 'abr_' };

export function newToken(scope: Scope): string {
  return PREFIX[scope] + randomBytes(32).toString('base64url');
}

function loadOrCreate(file: string, scope: Scope): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    // Tighten a file someone loosened; a token readable by others is a token for others.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (token.startsWith(PREFIX[scope]) && token.length >= 40) return token;
  }
  const token = newToken(scope);
  writeFileAtomic(file, `${token}\n`, 0o600);
  return token;
}

export function ensureTokens(writeFile: string, readFile: string): ApiTokens {
  return { write: loadOrCreate(writeFile, 'write'), read: loadOrCreate(readFile, 'read') };
}

/** Constant-time check of a presented token; returns its scope or undefined. */
export function scopeOfToken(tokens: ApiTokens, presented: string): Scope | undefined {
  const p = digest(presented);
  if (timingSafeEqual(p, digest(tokens.write))) return 'write';
  if (timingSafeEqual(p, digest(tokens.read))) return 'read';
  return undefined;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
