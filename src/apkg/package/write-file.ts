/**
 * Writing a stream to a file so that a reader sees the old file or the new one, never a part:
 * write `<name>.tmp-<random>` beside it, fsync, rename over, fsync the folder. On any failure the
 * temporary file is removed.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface WriteFileOptions {
  mode?: number;
  /**
   * fsync the file and its folder before/after the rename (default true). Files in our private
   * temp folder skip it (they are worthless after a crash); batches may sync once at the end.
   */
  durable?: boolean;
  /** With durable: also fsync the folder after the rename (default true; false when the caller syncs it once for a batch). */
  syncDir?: boolean;
}

/** Writes chunks to `file` atomically; returns the byte count. */
export async function writeFileAtomic(file: string, chunks: AsyncIterable<Buffer>, opts: WriteFileOptions = {}): Promise<number> {
  const mode = opts.mode ?? 0o600;
  const durable = opts.durable ?? true;
  const tmp = temporaryNameFor(file);
  const fh = await open(tmp, 'wx', mode);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      await writeFully(fh, chunk);
      bytes += chunk.length;
    }
    if (durable) await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (durable && (opts.syncDir ?? true)) await syncDir(path.dirname(file));
  return bytes;
}

/** A write may be short (a nearly full disk): keep writing until the whole chunk is down. */
export async function writeFully(fh: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset);
    if (bytesWritten <= 0) throw Object.assign(new Error(`short write (${offset} of ${chunk.length} bytes)`), { code: 'ENOSPC' });
    offset += bytesWritten;
  }
}

export function temporaryNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(6).toString('hex')}`);
}

/** fsync a folder so a rename in it survives a power cut (best effort where not supported). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a folder; the rename itself is still atomic.
  }
}

/** fsync a batch of files already written, then their folder (one journal commit covers most). */
export async function syncFiles(files: readonly string[], dir: string): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const fh = await open(files[next++] as string, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  };
  // Several in flight: concurrent fsyncs share journal commits.
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
  await syncDir(dir);
}
