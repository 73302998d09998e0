/**
 * JSON with 64-bit integers intact. Note type field and template ids are random i64 values
 * (e.g. 3717210970873211597) that JSON.parse would round; they must reach the database exactly.
 * Integers too large for a double are read as bigint and written back as plain digits.
 */
const MARK = '\u0000ankibridge-int:';

export function parseJsonLossless(text: string): unknown {
  let out = '';
  let i = 0;
  let last = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n && /[0-9eE.+-]/.test(text[i] as string)) i++;
      const num = text.slice(start, i);
      if (/^-?\d{16,}$/.test(num) && !Number.isSafeInteger(Number(num))) {
        out += text.slice(last, start) + JSON.stringify(MARK + num);
        last = i;
      }
    } else i++;
  }
  out += text.slice(last);
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v));
}

export function stringifyJsonLossless(value: unknown): string {
  const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? MARK + v.toString() : v));
  return s.replace(/"\\u0000ankibridge-int:(-?\d+)"/g, '$1');
}
