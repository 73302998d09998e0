/**
 * Adding a package's media files to the desktop media folder the way Anki's colpkg import does
 * (docs/anki-package-formats.md §4.1 step 4): a file already there with the same content (sha1
 * when the package records one, else the size) is left alone, anything else is written under a
 * temporary name and renamed; existing files are never deleted.
 *
 * Written here rather than with OpenedPackage.extractMedia because a full disk must fail loudly:
 * every write is checked for the number of bytes that really reached the file (a short write
 * is retried, and no progress is an error), and the size on disk is checked before the rename.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { OpenedPackage, MediaEntryInfo } from '../package/index.js';
import { isNormalizedMediaName } from '../package/index.js';
import { fsyncDir, hashFile } from '../fs-durable.js';

async function sameContent(file: string, entry: MediaEntryInfo): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile() || st.size !== entry.size) return false;
  if (!entry.sha1) return true;
  return (await hashFile(file, 'sha1')) === entry.sha1;
}

function noSpace(file: string): Error {
  return Object.assign(new Error(`no space left writing ${file}`), { code: 'ENOSPC' });
}

/** Where media files come from: a package, or any other source that lists files and streams them (a phone's media folder). */
export type MediaSource = Pick<OpenedPackage, 'media' | 'openMedia'>;

async function writeEntry(pkg: MediaSource, entry: MediaEntryInfo, target: string): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o644);
  let written = 0;
  try {
    const source = await pkg.openMedia(entry);
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        if (bytesWritten <= 0) throw noSpace(target);
        off += bytesWritten;
      }
      written += chunk.length;
    }
    await fh.sync();
    await fh.close();
    const onDisk = (await stat(tmp)).size;
    if (onDisk !== written || written !== entry.size) throw new Error(`${entry.name}: ${onDisk} bytes on disk, ${entry.size} expected`);
    await rename(tmp, target);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export async function addPackageMedia(pkg: MediaSource, mediaDir: string): Promise<{ written: string[]; skipped: string[] }> {
  mkdirSync(mediaDir, { recursive: true });
  const written: string[] = [];
  const skipped: string[] = [];
  for (const entry of pkg.media) {
    // Checked when the package was read; checked again here, where the name meets the disk.
    if (!isNormalizedMediaName(entry.name)) throw new Error(`unsafe media name ${JSON.stringify(entry.name)}`);
    const target = path.join(mediaDir, entry.name);
    if (await sameContent(target, entry)) {
      skipped.push(entry.name);
      continue;
    }
    await writeEntry(pkg, entry, target);
    written.push(entry.name);
  }
  fsyncDir(mediaDir);
  return { written, skipped };
}
