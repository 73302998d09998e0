import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** ankibridge's own version, read from the package.json above this file (src/ or dist/src/). */
export function ankibridgeVersion(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ankibridge' && pkg.version) return (cached = pkg.version);
    }
    dir = path.dirname(dir);
  }
  return (cached = '0.0.0');
}

/**
 * The client-version string sent in the `anki-sync` header (`c`), in meta (`cv`) and in media
 * begin (`v`). Anki sends "anki,<version> (<build>),<platform>"; we say honestly who we are,
 * in the same comma-separated shape: "ankibridge,<version>,<platform>". The self-hosted server
 * only logs it (verified: it appears as client="…" in its request log).
 */
export function clientVersionString(): string {
  return `ankibridge,${ankibridgeVersion()},${process.platform}`;
}
