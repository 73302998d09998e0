/**
 * Media file names. A name from a package becomes a file name on disk, so it must be one plain
 * path component that Anki itself would have written. Anki's rule (facts:
 * docs/anki-package-formats.md §5.1): a name is acceptable iff normalizing it changes nothing.
 * This is our own implementation of those documented rules.
 */

import { hasControlCharacter } from './entry-name.js';

const MAX_NAME_BYTES = 120;
// [ ] < > : " / ? * ^ \ | and ASCII control characters (plus DEL) are removed by Anki.
const FORBIDDEN = /[[\]<>:"/?*^\\|]/u;
const UNASSIGNED = /\p{Cn}/u;
const DEVICE_NAME = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/** Why a name is not acceptable, or null when it is. */
export function mediaNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return 'not a file name';
  if (name.normalize('NFC') !== name) return 'not in Unicode NFC form';
  if (FORBIDDEN.test(name) || hasControlCharacter(name)) return 'contains a character that is not allowed in file names';
  if (UNASSIGNED.test(name)) return 'contains an unassigned Unicode code point';
  if (name.includes('\u00a0')) return 'contains a no-break space';
  if (DEVICE_NAME.test(name)) return 'is a reserved Windows device name';
  if (name.endsWith(' ') || name.endsWith('.')) return 'ends with a space or a dot';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}

export function isNormalizedMediaName(name: string): boolean {
  return mediaNameProblem(name) === null;
}
