/**
 * Writing a file to a phone so that a reader never takes a partial file for the real one.
 *
 * With rename (real Android phones, folders):
 *   1. upload under a temporary name  ankibridge-<sha16>-<size>-NAME.part
 *   2. read it back, compare size and SHA-256
 *   3. rename the old NAME aside, rename the temporary to NAME, delete the old one
 *   4. re-list the folder and check NAME has the size sent.
 *   NAME is never partial: it is the old file, the verified new file, or (between the two
 *   renames, milliseconds) absent.
 *
 * Without rename (QEMU's usb-mtp has no SetObjectPropValue):
 *   1-2 as above; the verified temporary stays on the phone as the *marker*;
 *   3. delete the old NAME, upload NAME again from the local source, read it back and verify;
 *   4. only then delete the marker; re-list and check.
 *   The window: during step 3 NAME is absent or being written. A reader detects it: while a
 *   marker ankibridge-<sha16>-<size>-NAME.part exists beside NAME, NAME is complete only if its
 *   size (and, when read, digest) equals the marker's. isIncomplete() and the finder apply this
 *   rule, and recoverPending() finishes or rolls back such a write on the next plug-in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readSync, writeSync } from 'node:fs';
import { mkdtemp, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { joinPhonePath, parentAndName, type DeviceTransport, type Entry, type Source } from './transport.js';

// The final name goes last: QEMU's usb-mtp loses track of a new file whose name is a prefix
// of an existing one's (seen in the lab), so NAME must not be a prefix of its marker's name.
const MARKER = /^ankibridge-([0-9a-f]{16})-(\d+)-(.+)\.part$/;

export function markerName(finalName: string, sha256: string, size: number): string {
  return `ankibridge-${sha256.slice(0, 16)}-${size}-${finalName}.part`;
}

export function parseMarker(name: string): { finalName: string; sha16: string; size: number } | null {
  const m = MARKER.exec(name);
  return m ? { finalName: m[3] as string, sha16: m[1] as string, size: Number(m[2]) } : null;
}

/** The old NAME while the rename path swaps files: ankibridge-old-<random8>-NAME.part. */
const ASIDE = /^ankibridge-old-[0-9a-f]{8}-(.+)\.part$/;

export function parseAside(name: string): { finalName: string } | null {
  const m = ASIDE.exec(name);
  return m ? { finalName: m[1] as string } : null;
}

/** A file (by entry list of its folder) whose write is unfinished: a marker says another size. */
export function isIncomplete(entries: readonly Entry[], name: string): boolean {
  const markers = entries.map((e) => parseMarker(e.name)).filter((m) => m && m.finalName === name);
  if (markers.length === 0) return false;
  const file = entries.find((e) => e.name === name);
  return !file || markers.some((m) => m && m.size !== file.size);
}

export async function digestOnDevice(t: DeviceTransport, path: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  const size = await t.read(path, (c) => void h.update(c), { transient: true });
  return { size, sha256: h.digest('hex') };
}

export interface SafeWriteResult {
  readonly method: 'rename' | 'copy-verify';
  /**
   * How long NAME was not the old or the new complete file: absent between the two renames, or
   * (copy-verify) absent and then growing while it was uploaded again.
   */
  readonly exposedMs: number;
  readonly size: number;
  readonly sha256: string;
  readonly tempName: string;
}

/** Source over a local file (re-openable, with random access so a sender reads straight into its buffers). */
export async function fileSource(path: string): Promise<Source> {
  const { size } = await stat(path);
  return {
    size,
    open: () => createReadStream(path, { highWaterMark: 1 << 20 }),
    async openReader() {
      const fh = await open(path, 'r');
      return {
        // A synchronous read: an asynchronous one goes through the thread pool, a thread hop per
        // transfer buffer, which under emulation or load costs more than the read itself (the
        // lab measured 70 % of a send's time waiting for such reads). Blocking is one
        // transfer's worth (512 KiB) from the page cache at a time.
        readAt: async (position, into, offset, length) => readSync(fh.fd, into, offset, length, position),
        close: () => fh.close(),
      };
    },
  };
}

async function verify(t: DeviceTransport, path: string, size: number, sha256: string): Promise<void> {
  const got = await digestOnDevice(t, path);
  if (got.size !== size || got.sha256 !== sha256) {
    throw makeError(UsbErrors.VERIFY_FAILED, {
      path, device: t.label,
      reason: got.size !== size ? `${got.size} bytes instead of ${size}` : 'the SHA-256 digest differs',
    });
  }
}

async function removeQuietly(t: DeviceTransport, path: string): Promise<void> {
  await t.remove(path).catch(() => undefined);
}

export async function safeWrite(t: DeviceTransport, path: string, source: Source, opts: { forceCopyFallback?: boolean } = {}): Promise<SafeWriteResult> {
  const { dir, name } = parentAndName(path);
  // the digest is needed for the marker's name before the upload, so hash the source first
  const pre = createHash('sha256');
  let counted = 0;
  for await (const c of source.open()) {
    pre.update(c);
    counted += c.byteLength;
  }
  if (counted !== source.size) throw makeError(UsbErrors.VERIFY_FAILED, { path, device: 'this computer', reason: `the source gave ${counted} of ${source.size} bytes` });
  const sha256 = pre.digest('hex');
  const tempName = markerName(name, sha256, source.size);
  const tempPath = joinPhonePath(dir, tempName);
  const method = t.canRename && !opts.forceCopyFallback ? 'rename' : 'copy-verify';

  if (await t.stat(tempPath)) await t.remove(tempPath); // left by an earlier failed attempt
  try {
    // the read-back is compared with the digest taken before the upload: a source that changed
    // in between, or bytes lost on the way, both fail here
    await t.write(tempPath, source);
    await verify(t, tempPath, source.size, sha256);
  } catch (e) {
    await removeQuietly(t, tempPath);
    throw e;
  }

  let exposedFrom = 0;
  let exposedMs = 0;
  if (method === 'rename') {
    const old = await t.stat(path);
    const asideName = `ankibridge-old-${randomBytes(4).toString('hex')}-${name}.part`;
    exposedFrom = performance.now();
    if (old) await t.rename(path, asideName);
    try {
      await t.rename(tempPath, name);
    } catch (e) {
      if (old) await t.rename(joinPhonePath(dir, asideName), name).catch(() => undefined);
      throw e;
    }
    exposedMs = performance.now() - exposedFrom;
    if (old) await removeQuietly(t, joinPhonePath(dir, asideName));
  } else {
    const old = await t.stat(path);
    exposedFrom = performance.now();
    if (old) await t.remove(path);
    try {
      await t.write(path, source);
      exposedMs = performance.now() - exposedFrom;
      await verify(t, path, source.size, sha256);
    } catch (e) {
      // a partial NAME is removed when the phone is still there; the verified marker stays so
      // that recoverPending() can finish the job
      await removeQuietly(t, path);
      throw e;
    }
    await t.remove(tempPath);
  }
  // MTP listings go stale: look again
  const entry = (await t.list(dir)).find((e) => e.name === name);
  if (!entry || entry.size !== source.size) {
    throw makeError(UsbErrors.VERIFY_FAILED, { path, device: t.label, reason: 'the folder listing does not show the new file with its size' });
  }
  return { method, size: source.size, sha256, tempName, exposedMs };
}

export interface RecoveryAction {
  readonly path: string;
  readonly action: 'kept-final' | 'restored-from-marker' | 'removed-unverifiable-marker' | 'removed-old' | 'restored-old';
}

/**
 * Finishes or rolls back writes that were interrupted (unplug, crash) in `dir`: for each marker,
 * if NAME is complete (size and digest equal the marker's) the marker is deleted; otherwise NAME
 * is replaced from the marker after checking the marker itself is intact (a verified marker
 * means the write was committed: it is finished, not rolled back). Then the old files the
 * rename path set aside: deleted when NAME is there, renamed back when it is not.
 */
export async function recoverPending(t: DeviceTransport, dir: string): Promise<RecoveryAction[]> {
  const actions: RecoveryAction[] = [];
  for (const e of await t.list(dir)) {
    const m = parseMarker(e.name);
    if (!m) continue;
    const finalPath = joinPhonePath(dir, m.finalName);
    const final = await t.stat(finalPath);
    if (final && final.size === m.size && (await digestOnDevice(t, finalPath)).sha256.startsWith(m.sha16)) {
      await t.remove(e.path);
      actions.push({ path: finalPath, action: 'kept-final' });
      continue;
    }
    const marker = await digestOnDevice(t, e.path);
    if (marker.size !== m.size || !marker.sha256.startsWith(m.sha16)) {
      await t.remove(e.path); // the marker itself is partial: the write never got that far
      actions.push({ path: finalPath, action: 'removed-unverifiable-marker' });
      continue;
    }
    if (final) await t.remove(finalPath);
    if (t.canRename) {
      await t.rename(e.path, m.finalName);
    } else {
      const scratch = await mkdtemp(join(tmpdir(), 'ankibridge-recover-'));
      try {
        const local = join(scratch, 'copy');
        await readToFile(t, e.path, local);
        await t.write(finalPath, await fileSource(local));
        await verify(t, finalPath, m.size, marker.sha256);
        await t.remove(e.path);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    actions.push({ path: finalPath, action: 'restored-from-marker' });
  }
  for (const e of await t.list(dir)) {
    const aside = parseAside(e.name);
    if (!aside) continue;
    const finalPath = joinPhonePath(dir, aside.finalName);
    if (await t.stat(finalPath)) {
      await t.remove(e.path);
      actions.push({ path: finalPath, action: 'removed-old' });
    } else if (t.canRename) {
      await t.rename(e.path, aside.finalName);
      actions.push({ path: finalPath, action: 'restored-old' });
    } // else: the only copy, on a device that cannot rename it back: left as it is
  }
  return actions;
}

/**
 * Writes a received chunk synchronously (one chunk, at most a few MiB, into the page cache): an
 * asynchronous write costs a thread hop per chunk, slower than the write under emulation, and
 * the chunk's buffer is free for the next transfer as soon as this returns.
 */
function writeAll(fh: FileHandle, c: Buffer): void {
  for (let o = 0; o < c.length; ) o += writeSync(fh.fd, c, o, c.length - o);
}

/**
 * Copies a device file to `local` atomically: into a temporary file beside it, checked against
 * the size the device lists, flushed to disk, then renamed. An unplug leaves no `local` and no
 * temporary. Returns size and SHA-256.
 */
export async function downloadFile(t: DeviceTransport, path: string, local: string): Promise<{ size: number; sha256: string }> {
  const listed = await t.stat(path);
  if (!listed) throw makeError(UsbErrors.NOT_FOUND, { path, device: t.label });
  const temp = `${local}.ankibridge-${randomBytes(4).toString('hex')}.part`;
  const h = createHash('sha256');
  const out = await open(temp, 'wx');
  try {
    let size = 0;
    await t.read(path, (c) => {
      h.update(c);
      size += c.length;
      writeAll(out, c);
    }, { transient: true });
    if (listed.size !== 0xffffffff && size !== listed.size) {
      throw makeError(UsbErrors.VERIFY_FAILED, { path, device: t.label, reason: `${size} bytes arrived, the phone lists ${listed.size}` });
    }
    await out.sync();
    await out.close();
    await rename(temp, local);
    return { size, sha256: h.digest('hex') };
  } catch (e) {
    await out.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  }
}

/** Copies a device file into a new local file (each chunk written before the next is taken). */
export async function readToFile(t: DeviceTransport, path: string, local: string): Promise<number> {
  const out = await open(local, 'wx');
  try {
    return await t.read(path, (c) => writeAll(out, c), { transient: true });
  } finally {
    await out.close();
  }
}
