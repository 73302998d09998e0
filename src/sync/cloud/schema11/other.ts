/** The `other` blob (field 255): JSON keys Anki does not model, kept so nothing is lost. */
import { parseJsonLossless, stringifyJsonLossless } from '../../../apkg/collection/json.js';

export function readOther(bytes: Buffer, reserved: ReadonlySet<string>): Record<string, unknown> {
  if (!bytes.length) return {};
  try {
    const o = parseJsonLossless(bytes.toString('utf8'));
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return {};
    return Object.fromEntries(Object.entries(o).filter(([k]) => !reserved.has(k)));
  } catch {
    return {};
  }
}

export function writeOther(json: Record<string, unknown>, known: ReadonlySet<string>): Buffer {
  const rest = Object.fromEntries(Object.entries(json).filter(([k]) => !known.has(k)));
  return Object.keys(rest).length ? Buffer.from(stringifyJsonLossless(rest), 'utf8') : Buffer.alloc(0);
}

export function num(v: unknown, dflt = 0): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return dflt;
}

/** i64 that may exceed a double (bigint from the lossless parser). */
export function int64(v: unknown): number | bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const b = BigInt(v);
    return Number.isSafeInteger(Number(b)) ? Number(b) : b;
  }
  return Math.trunc(num(v));
}

export function bool(v: unknown, dflt = false): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v === 'true' || v === '1';
  return dflt;
}

export function str(v: unknown, dflt = ''): string {
  return typeof v === 'string' ? v : dflt;
}

export function floats(v: unknown, dflt: number[] = []): number[] {
  return Array.isArray(v) ? v.map((x) => num(x)) : dflt;
}
