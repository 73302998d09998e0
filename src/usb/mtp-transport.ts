/**
 * DeviceTransport over an MTP session. MTP knows objects by handle, not by path, and handles are
 * renumbered in every session, so paths are resolved by listing folder by folder. Nothing is
 * cached between calls: MTP listings go stale (the phone's apps write files too), and the
 * safe-write protocol re-lists after every change anyway.
 */
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { ROOT_PARENT } from './mtp/codes.js';
import { parseMtpDate, type ObjectInfo } from './mtp/datasets.js';
import type { MtpSession } from './mtp/session.js';
import { joinPhonePath, parentAndName, splitPhonePath, type DeviceTransport, type Entry } from './transport.js';

export interface MtpTransportOptions {
  /** Which storage (the first one by default: internal shared storage on Android). */
  readonly storageId?: number;
}

export async function openMtpTransport(session: MtpSession, opts: MtpTransportOptions = {}): Promise<DeviceTransport & { readonly storageId: number; readonly session: MtpSession }> {
  const label = session.label;
  const ids = await session.storageIds();
  // Android answers with no storage (or AccessDenied) while the phone is locked
  if (ids.length === 0) throw makeError(UsbErrors.LOCKED, { device: label, reason: 'the phone shows no storage' });
  const storageId = opts.storageId ?? (ids[0] as number);
  if (!ids.includes(storageId)) throw makeError(UsbErrors.NOT_FOUND, { path: `storage ${storageId}`, device: label });

  const children = async (parent: number): Promise<ObjectInfo[]> => {
    const handles = await session.objectHandles(storageId, parent);
    const out: ObjectInfo[] = [];
    for (const h of handles) out.push(await session.objectInfo(h));
    return out;
  };
  const toEntry = (dir: string, o: ObjectInfo): Entry => ({
    name: o.name, path: joinPhonePath(dir, o.name), isFolder: o.isFolder, size: o.size, modified: parseMtpDate(o.modified),
  });
  /** Handle of the folder at `dir` (ROOT_PARENT for ""). */
  const folderHandle = async (dir: string): Promise<number> => {
    let handle = ROOT_PARENT;
    let walked = '';
    for (const part of splitPhonePath(dir)) {
      walked = joinPhonePath(walked, part);
      const found = (await children(handle)).find((o) => o.name === part && o.isFolder);
      if (!found) throw makeError(UsbErrors.NOT_FOUND, { path: walked, device: label });
      handle = found.handle;
    }
    return handle;
  };
  const lookup = async (path: string): Promise<ObjectInfo | null> => {
    const { dir, name } = parentAndName(path);
    let parent: number;
    try {
      parent = await folderHandle(dir);
    } catch (e) {
      if ((e as { code?: string }).code === UsbErrors.NOT_FOUND.code) return null;
      throw e;
    }
    return (await children(parent)).find((o) => o.name === name) ?? null;
  };
  const mustFind = async (path: string): Promise<ObjectInfo> => {
    const o = await lookup(path);
    if (!o) throw makeError(UsbErrors.NOT_FOUND, { path, device: label });
    return o;
  };

  return {
    kind: 'mtp',
    label,
    storageId,
    session,
    canRename: session.canRename(),
    async list(dir) {
      return (await children(await folderHandle(dir))).map((o) => toEntry(dir, o));
    },
    async stat(path) {
      const o = await lookup(path);
      return o ? toEntry(parentAndName(path).dir, o) : null;
    },
    async read(path, sink) {
      const o = await mustFind(path);
      return session.getObject(o.handle, sink);
    },
    async write(path, source) {
      const { dir, name } = parentAndName(path);
      const parent = await folderHandle(dir);
      if ((await children(parent)).some((o) => o.name === name)) {
        throw makeError(UsbErrors.PROTOCOL, { device: label, operation: `writing ${path}`, response: 'a file of that name exists already' });
      }
      await session.sendObject(storageId, parent === ROOT_PARENT ? 0xffffffff : parent, name, { size: source.size, chunks: source.open() });
    },
    async remove(path) {
      await session.deleteObject((await mustFind(path)).handle);
    },
    async rename(path, newName) {
      await session.renameObject((await mustFind(path)).handle, newName);
    },
    async mkdir(path) {
      let parent = ROOT_PARENT;
      let walked = '';
      for (const part of splitPhonePath(path)) {
        walked = joinPhonePath(walked, part);
        const found = (await children(parent)).find((o) => o.name === part);
        if (found && !found.isFolder) throw makeError(UsbErrors.BAD_PATH, { path: walked, reason: 'a file of that name is in the way' });
        parent = found ? found.handle : await session.createFolder(storageId, parent, part);
      }
    },
    async close() {
      await session.close();
    },
  };
}
