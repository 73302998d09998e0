/**
 * Opening a bare collection file as AnkiDroid's folder (or a desktop profile) holds it. Its
 * newest changes may sit in `<file>-wal`, so file and -wal are copied together into the private
 * folder and the copy is checkpointed; the originals are only read. Media are the files of the
 * sibling media folder (`collection.media` for `collection.anki2`), when there is one.
 */
import { readdir, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extractMediaFiles } from './extract-media.js';
import type { MediaEntryInfo } from './media-map.js';
import { isNormalizedMediaName } from './media-name.js';
import type { PrivateDir } from './private-dir.js';
import type { OpenedPackage } from './types.js';
import { validateExtractedCollection } from './validate.js';
import { snapshotCollection } from './snapshot.js';
import { verifiedMedia } from './entry-stream.js';

export async function openBareCollection(file: string, dir: PrivateDir): Promise<OpenedPackage> {
  const collectionPath = path.join(dir.path, 'collection.anki2');
  await snapshotCollection(file, collectionPath);
  validateExtractedCollection(collectionPath, file);

  const mediaDir = file.replace(/\.anki2$/i, '') + '.media';
  const media = await listMediaFolder(mediaDir);
  const openData = (e: MediaEntryInfo): AsyncGenerator<Buffer> =>
    verifiedMedia(createReadStream(path.join(mediaDir, e.name)) as AsyncIterable<Buffer>, file, e.name, e.size);
  const dispose = (): Promise<void> => dir.remove();
  return {
    format: 'collection-file',
    fileKind: 'anki2',
    version: 0,
    collectionPath,
    media,
    openMedia: async (e) => Readable.from(openData(e)),
    extractMedia: (toDir, opts) => extractMediaFiles(media, openData, toDir, opts),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

async function listMediaFolder(dir: string): Promise<MediaEntryInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: MediaEntryInfo[] = [];
  for (const name of names.sort()) {
    if (!isNormalizedMediaName(name)) continue;
    const st = await stat(path.join(dir, name)).catch(() => undefined);
    if (st?.isFile()) out.push({ index: name, name, size: st.size });
  }
  return out;
}
