/**
 * Builds an Anki base folder the way Anki Desktop lays it out (prefs21.db written by real Python
 * pickle through the peer's venv, collections made by the real Anki peer) for the desktop tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerPython, type AnkiPeer } from '../../peer/peer.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function writePrefs(base: string, profiles: string[], last: string | null, protocol = 4): void {
  execFileSync(peerPython(), [path.join(here, 'write_prefs.py'), base, JSON.stringify({ profiles, last, protocol })], { stdio: 'pipe' });
}

export interface MadeProfile {
  name: string;
  collectionPath: string;
  mediaDir: string;
}

/** A base folder with the given profiles, each with a collection made by real Anki. */
export async function makeAnkiBase(
  peer: AnkiPeer,
  base: string,
  profiles: Array<{ name: string; notes: number; seed: number; media?: number; reviewsPerCard?: number }>,
  last: string | null,
): Promise<MadeProfile[]> {
  mkdirSync(base, { recursive: true });
  writePrefs(base, profiles.map((p) => p.name), last);
  const out: MadeProfile[] = [];
  for (const p of profiles) {
    const collectionPath = path.join(base, p.name, 'collection.anki2');
    await peer.createCollection({
      path: collectionPath,
      notes: p.notes,
      seed: p.seed,
      reviewsPerCard: p.reviewsPerCard ?? 2,
      ...(p.media ? { media: { count: p.media, bytesEach: 512 } } : {}),
    });
    out.push({ name: p.name, collectionPath, mediaDir: path.join(base, p.name, 'collection.media') });
  }
  return out;
}
