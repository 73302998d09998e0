/**
 * Zip entry names. We never use an entry name as a path (entries are looked up by the fixed
 * names of the format), but a name that could escape a folder marks a hostile file, and such a
 * file is refused outright rather than half-read (the classic "zip slip").
 */

/** Why an entry name is unsafe, or null. */
export function unsafeEntryNameReason(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (hasControlCharacter(name)) return 'control character in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[a-zA-Z]:/.test(name)) return 'drive letter';
  if (name.split('/').some((part) => part === '..')) return 'parent directory (..)';
  if (name.includes('\ufffd')) return 'undecodable characters in name';
  return null;
}

export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
