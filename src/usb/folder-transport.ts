/**
 * A phone reached as a folder: a gvfs MTP mount (/run/user/UID/gvfs/mtp:host=...) or any folder
 * the user names (a copy of the phone's storage, an SD card reader). rename() is the file
 * system's rename.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { joinPhonePath, parentAndName, splitPhonePath, type DeviceTransport, type Entry, type Sink, type Source } from './transport.js';

export function openFolderTransport(root: string, label = root): DeviceTransport {
  const abs = (p: string): string => join(root, ...splitPhonePath(p));
  const notFound = (path: string, e: unknown): Error =>
    (e as NodeJS.ErrnoException).code === 'ENOENT' ? makeError(UsbErrors.NOT_FOUND, { path, device: label }, e) : (e as Error);
  return {
    kind: 'folder',
    label,
    canRename: true,
    async list(dir) {
      let names: string[];
      try {
        names = await readdir(abs(dir));
      } catch (e) {
        throw notFound(dir, e);
      }
      const out: Entry[] = [];
      for (const name of names) {
        try {
          const s = await stat(join(abs(dir), name));
          out.push({ name, path: joinPhonePath(dir, name), isFolder: s.isDirectory(), size: s.isDirectory() ? 0 : s.size, modified: s.mtimeMs });
        } catch {
          /* vanished between readdir and stat */
        }
      }
      return out;
    },
    async stat(path) {
      try {
        const s = await stat(abs(path));
        const { name } = parentAndName(path);
        return { name, path, isFolder: s.isDirectory(), size: s.isDirectory() ? 0 : s.size, modified: s.mtimeMs };
      } catch {
        return null;
      }
    },
    async read(path, sink: Sink) {
      let n = 0;
      try {
        for await (const chunk of createReadStream(abs(path), { highWaterMark: 1 << 20 })) {
          n += (chunk as Buffer).length;
          await sink(chunk as Buffer);
        }
      } catch (e) {
        throw notFound(path, e);
      }
      return n;
    },
    async write(path, source: Source) {
      await pipeline(Readable.from(source.open()), createWriteStream(abs(path), { flags: 'wx' }));
    },
    async remove(path) {
      try {
        await rm(abs(path));
      } catch (e) {
        throw notFound(path, e);
      }
    },
    async rename(path, newName) {
      const { dir } = parentAndName(path);
      try {
        await rename(abs(path), abs(joinPhonePath(dir, newName)));
      } catch (e) {
        throw notFound(path, e);
      }
    },
    async mkdir(path) {
      await mkdir(abs(path), { recursive: true });
    },
    async close() {
      /* nothing held */
    },
  };
}
