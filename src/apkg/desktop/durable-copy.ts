/**
 * Copying a file so that the copy is on disk when the call returns (fsync of the file and its
 * folder), with its sha256. Errors keep their Node code (ENOSPC, EIO…) so callers can name them;
 * a partial copy is removed.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from '../fs-durable.js';

/**
 * SQLite's lock-byte page: on Windows the byte-range locks at 1 GiB make plain reads of that
 * range fail while the file is locked (by Anki or by us). SQLite never stores data there, so,
 * like Anki's own backup (rslib/io read_locked_db_file), those bytes are copied as zeros.
 */
const LOCKED_START = 1024 ** 3;
const LOCKED_LEN = 512;

function readAround(fd: number, buf: Buffer, len: number, pos: number): number {
  if (process.platform !== 'win32' || pos + len <= LOCKED_START || pos >= LOCKED_START + LOCKED_LEN) return readSync(fd, buf, 0, len, pos);
  if (pos < LOCKED_START) return readSync(fd, buf, 0, LOCKED_START - pos, pos);
  const n = Math.min(len, LOCKED_START + LOCKED_LEN - pos);
  buf.fill(0, 0, n);
  return n;
}

export function copyFileDurable(src: string, dst: string, opts: { fsync?: boolean } = {}): { bytes: number; sha256: string } {
  const fsync = opts.fsync ?? true;
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const input = openSync(src, 'r');
  let output: number | undefined;
  let bytes = 0;
  try {
    output = openSync(dst, 'wx', 0o600);
    let n: number;
    while ((n = readAround(input, buf, buf.length, bytes)) > 0) {
      const chunk = buf.subarray(0, n);
      let off = 0;
      while (off < n) {
        const w = writeSync(output, chunk, off, n - off);
        // A short write is retried; a write that makes no progress means the disk is full.
        if (w <= 0) throw Object.assign(new Error(`no space left writing ${dst}`), { code: 'ENOSPC' });
        off += w;
      }
      hash.update(chunk);
      bytes += n;
    }
    if (fsync) fsyncSync(output);
  } catch (e) {
    if (output !== undefined) {
      closeSync(output);
      output = undefined;
      rmSync(dst, { force: true });
    }
    throw e;
  } finally {
    closeSync(input);
    if (output !== undefined) closeSync(output);
  }
  if (fsync) fsyncDir(path.dirname(dst));
  return { bytes, sha256: hash.digest('hex') };
}


/** True when the error says the disk (or quota) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
