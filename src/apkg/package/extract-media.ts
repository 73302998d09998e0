/**
 * Writing a package's media files into a folder. Each file is written under a temporary name
 * and renamed only after its size and checksum were verified, so a damaged or lying package
 * never leaves a partial or wrong file. Existing files are never deleted. A few files are in
 * flight at once (their I/O overlaps); memory stays at a few buffers per file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { syncFiles, writeFileAtomic } from './write-file.js';
import type { MediaEntryInfo } from './media-map.js';
import type { ExtractMediaOptions } from './types.js';
import { isNormalizedMediaName } from './media-name.js';
import { asIoError } from './io-error.js';
import { makeError } from '../../errors/define.js';
import { PackageErrors } from '../../errors/codes/package.js';

const CONCURRENCY = 4;

export async function extractMediaFiles(
  entries: readonly MediaEntryInfo[],
  open: (e: MediaEntryInfo) => AsyncIterable<Buffer>,
  toDir: string,
  opts: ExtractMediaOptions = {},
): Promise<{ written: string[]; skipped: string[] }> {
  await mkdir(toDir, { recursive: true }).catch((e: unknown) => {
    throw asIoError(e, toDir, 'create the folder');
  });
  const outcome: Array<'written' | 'skipped' | undefined> = new Array(entries.length);
  const total = entries.length;
  let done = 0;
  let next = 0;
  let failure: unknown;
  opts.onProgress?.({ phase: 'media', done: 0, total });
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < entries.length) {
      const i = next++;
      const entry = entries[i] as MediaEntryInfo;
      try {
        // Names were checked when the map was read; checked again because this is where they hit the disk.
        if (!isNormalizedMediaName(entry.name)) throw makeError(PackageErrors.MEDIA_NAME_INVALID, { path: toDir, name: entry.name });
        const target = path.join(toDir, entry.name);
        if (opts.skipExistingSameContent && (await sameContent(target, entry))) {
          outcome[i] = 'skipped';
        } else {
          // Renamed into place only when whole and verified; durability for the batch comes
          // from one sync pass at the end (a sync per file would cost a journal commit each).
          await writeFileAtomic(target, open(entry), { mode: 0o644, durable: false });
          outcome[i] = 'written';
        }
      } catch (e) {
        failure ??= e;
        return;
      }
      opts.onProgress?.({ phase: 'media', done: ++done, total });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  const written = entries.filter((_, i) => outcome[i] === 'written').map((e) => e.name);
  const skipped = entries.filter((_, i) => outcome[i] === 'skipped').map((e) => e.name);
  if (failure !== undefined) throw asIoError(failure, toDir, 'write media into');
  if (opts.durable ?? true) {
    await syncFiles(written.map((n) => path.join(toDir, n)), toDir).catch((e: unknown) => {
      throw asIoError(e, toDir, 'save media in');
    });
  }
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
