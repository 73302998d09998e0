/**
 * Whether a file is a collection package (replaces on import) or a deck package (merges), decided
 * by name exactly as Anki's GUI does: `*.colpkg`, the name `collection.apkg`, or `backup-*.apkg`
 * are collection packages (docs/anki-package-formats.md §1).
 */
import path from 'node:path';

export function packageKindFromName(file: string): 'colpkg' | 'apkg' {
  const base = path.basename(file).toLowerCase();
  if (base.endsWith('.colpkg') || base === 'collection.apkg' || (base.startsWith('backup-') && base.endsWith('.apkg'))) return 'colpkg';
  return 'apkg';
}
