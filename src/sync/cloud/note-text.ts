/**
 * The two values Anki derives from a note's fields and stores beside them (notes.sfld and
 * notes.csum). The sync sends them empty (doc §4.6) and the receiver recomputes them: sfld is
 * the sort field without HTML (media file names kept), csum the first 4 bytes of the sha1 of
 * the first field treated the same way, as an unsigned integer.
 */
import { createHash } from 'node:crypto';

const MEDIA_TAG = /<\b(?:img|audio|video|object)\b(?:[^>"']|"[^"]*"|'[^']*')*?\b(?:src|data)\b=(?:"([^"]+?)"|'([^']+?)'|([^\s>]+))[^>]*>/gis;
const HTML = /<!--.*?-->|<.*?>/gs;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[e.toLowerCase()] ?? whole;
  });
}

export function stripHtmlPreservingMediaFilenames(html: string): string {
  const withNames = html.replace(MEDIA_TAG, (_m, a?: string, b?: string, c?: string) => ` ${a ?? ''}${b ?? ''}${c ?? ''} `);
  return decodeEntities(withNames.replace(HTML, ''));
}

export function fieldChecksum(firstField: string): number {
  return createHash('sha1').update(stripHtmlPreservingMediaFilenames(firstField), 'utf8').digest().readUInt32BE(0);
}

export function sortFieldOf(flds: string, sortIdx: number): string {
  const fields = flds.split('\x1f');
  return stripHtmlPreservingMediaFilenames(fields[sortIdx] ?? fields[0] ?? '');
}
