/**
 * Writing a package's media files into a folder. Each file is written under a temporary name
 * and renamed only after its size and checksum were verified, so a damaged or lying package
 * never leaves a partial or wrong file. Existing files are never deleted.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { syncFiles, writeFileAtomic } from './write-file.js';
import type { MediaEntryInfo } from './media-map.js';
import type { ExtractMediaOptions } from './types.js';
import { isNormalizedMediaName } from './media-name.js';

export async function extractMediaFiles(
  entries: readonly MediaEntryInfo[],
  open: (e: MediaEntryInfo) => AsyncIterable<Buffer>,
  toDir: string,
  opts: ExtractMediaOptions = {},
): Promise<{ written: string[]; skipped: string[] }> {
  await mkdir(toDir, { recursive: true });
  const written: string[] = [];
  const skipped: string[] = [];
  const total = entries.length;
  opts.onProgress?.({ phase: 'media', done: 0, total });
  for (const entry of entries) {
    // Names were checked when the map was read; checked again because this is where they hit the disk.
    if (!isNormalizedMediaName(entry.name)) throw new Error(`unsafe media name ${entry.name}`);
    const target = path.join(toDir, entry.name);
    if (opts.skipExistingSameContent && (await sameContent(target, entry))) {
      skipped.push(entry.name);
    } else {
      // Each file is renamed into place only when whole and verified; durability for the
      // batch comes from one sync pass at the end (a sync per file would cost a journal commit each).
      await writeFileAtomic(target, open(entry), { mode: 0o644, durable: false });
      written.push(entry.name);
    }
    opts.onProgress?.({ phase: 'media', done: written.length + skipped.length, total });
  }
  if (opts.durable ?? true) await syncFiles(written.map((n) => path.join(toDir, n)), toDir);
  return { written, skipped };
}

/** Same test as Anki's colpkg import: sha1 when the map has one, else the size. */
async function sameContent(file: string, entry: MediaEntryInfo): Promise<boolean> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  if (size !== entry.size) return false;
  if (!entry.sha1) return true;
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex') === entry.sha1;
}
