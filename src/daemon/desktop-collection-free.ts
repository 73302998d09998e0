import { probeCollection } from '../apkg/desktop/probe.js';
import { resolveDesktopCollection } from '../apkg/desktop/profiles.js';
import type { CollectionFreeProvider } from './providers.js';

/**
 * The default CollectionFreeProvider: the 'desktop' collection is Anki Desktop's current profile,
 * and it is free when no program holds SQLite's lock on it (src/apkg/desktop/probe.ts).
 * Anything we cannot check counts as not free: Anki Desktop first.
 */
export const desktopCollectionFree: CollectionFreeProvider = {
  async isCollectionFree(collection) {
    if (collection !== 'desktop') return { free: false, reason: `the collection "${collection}" is not a desktop collection this daemon knows` };
    let path: string;
    try {
      path = resolveDesktopCollection().profile.collectionPath;
    } catch (e) {
      return { free: false, reason: `Anki Desktop's collection was not found (${(e as Error).message})` };
    }
    const probe = probeCollection(path);
    if (probe.state === 'free') return { free: true };
    return { free: false, reason: probe.state === 'open' ? 'Anki Desktop has the collection open' : `the collection is ${probe.state}: ${probe.reason}` };
  },
};
