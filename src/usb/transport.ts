/**
 * One small interface for every way of reaching a phone's files: MTP over USB (mtp-transport.ts),
 * a mounted folder (a gvfs MTP mount, or any folder the user names: folder-transport.ts), and
 * later ADB. Paths are relative to the storage root, "/"-separated, without "." or "..".
 */
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';

export interface Entry {
  readonly name: string;
  /** Path from the storage root, e.g. "AnkiDroid/collection.anki2". */
  readonly path: string;
  readonly isFolder: boolean;
  readonly size: number;
  /** Modification time as the device reports it (ms), or null. A hint only: phone clocks and MTP time zones lie. */
  readonly modified: number | null;
}

export type Sink = (chunk: Buffer) => void | Promise<void>;

export interface ReadOptions {
  /**
   * The sink is done with each chunk when it returns (or its promise resolves): it hashes,
   * awaits a write, or copies. The transport may then hand out the same memory again (fewer
   * allocations, much faster under emulation). Off by default: a sink that keeps chunks (a
   * stream's write() without waiting for it) must not set it.
   */
  readonly transient?: boolean;
}

/** Random access to a source's bytes (a local file), so a sender can read straight into its transfer buffers. */
export interface SourceReader {
  /** Reads up to `length` bytes at `position` into `into` at `offset`; returns the count. */
  readAt(position: number, into: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export interface Source {
  readonly size: number;
  /** Each call gives a fresh stream of the same bytes (the no-rename fallback sends twice). */
  open(): AsyncIterable<Uint8Array>;
  /** Optional random access (files have it); senders prefer it to open(). */
  openReader?(): Promise<SourceReader>;
}

export interface DeviceTransport {
  readonly kind: 'mtp' | 'folder' | 'adb';
  readonly label: string;
  /** Whether rename(path, newName) works on this device (QEMU's usb-mtp cannot rename). */
  readonly canRename: boolean;
  /** Entries directly in `dir` ("" = the storage root), always read fresh from the device. */
  list(dir: string): Promise<Entry[]>;
  /**
   * The entry at `path`, or null. `fresh`: asked of the device now even when the transport
   * remembers the folder (MTP: one GetObjectInfo instead of a listing), for a reader that checks
   * a file did not change while it was read.
   */
  stat(path: string, opts?: { fresh?: boolean }): Promise<Entry | null>;
  read(path: string, sink: Sink, opts?: ReadOptions): Promise<number>;
  /** Creates a new file; `path` must not exist yet. */
  write(path: string, source: Source): Promise<void>;
  remove(path: string): Promise<void>;
  /** Renames within the same folder. */
  rename(path: string, newName: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Splits and checks a phone path: no empty, "." or ".." segments, no NUL or backslash. */
export function splitPhonePath(path: string): string[] {
  if (path === '') return [];
  const parts = path.split('/');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || /[\0\\]/.test(p)) {
      throw makeError(UsbErrors.BAD_PATH, { path, reason: `the part "${p}" is not a plain name` });
    }
  }
  return parts;
}

export function parentAndName(path: string): { dir: string; name: string } {
  const parts = splitPhonePath(path);
  const name = parts.pop();
  if (name === undefined) throw makeError(UsbErrors.BAD_PATH, { path, reason: 'it names the storage root, not a file' });
  return { dir: parts.join('/'), name };
}

export function joinPhonePath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
