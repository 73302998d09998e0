/**
 * The file-system steps every room repeats when it must not lose data: fsync of a file and of
 * the folder that holds a rename, and a digest of a file's bytes read in bounded pieces (media
 * and collections can be gigabytes; a whole-file read is never needed to hash one).
 */
import { createHash } from 'node:crypto';
import { createReadStream, closeSync, fsyncSync, openSync, readSync } from 'node:fs';

/**
 * fsync a file's content (the file must exist). Opened for writing where allowed: Windows only
 * flushes a handle that may write; a read-only file is flushed through a read handle.
 */
export function fsyncFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EISDIR: a folder is flushed through a read handle too (fsyncDir is the usual way).
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EISDIR') throw e;
    fd = openSync(file, 'r');
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder so renames in it survive a power cut (best effort where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync a folder; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export type FileDigest = 'sha1' | 'sha256';

/** Hex digest of a file, read synchronously 1 MiB at a time. */
export function hashFileSync(file: string, algorithm: FileDigest): string {
  const hash = createHash(algorithm);
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Hex digest of a file, streamed (does not block the event loop on a large file). */
export async function hashFile(file: string, algorithm: FileDigest): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
