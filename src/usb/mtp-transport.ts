/**
 * DeviceTransport over an MTP session. MTP knows objects by handle, not by path, and handles are
 * renumbered in every session, so paths are resolved by listing folder by folder. Each
 * transaction costs a round trip, so folder contents are remembered within the session to
 * resolve paths, but list() always asks the device again (the phone's apps write files too, MTP
 * listings go stale), a name not found is looked up afresh before it is reported missing, and
 * a folder we change is forgotten at once.
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

  // AccessCapability: 0 read-write, 1 read-only, 2 read-only but deletable. Asked at the first
  // write, not at open: a reader (a plug-in's first look) does not pay the round trip.
  let access: Promise<number> | null = null;
  const mustWrite = async (path: string, deleting = false): Promise<void> => {
    access ??= session.storageInfo(storageId).then((st) => st.accessCapability, () => 0);
    const a = await access;
    if (a === 1 || (a === 2 && !deleting)) throw makeError(UsbErrors.READ_ONLY, { device: label, path });
  };
  const known = new Map<number, ObjectInfo[]>();
  const fresh = async (parent: number): Promise<ObjectInfo[]> => {
    const handles = await session.objectHandles(storageId, parent);
    const out: ObjectInfo[] = [];
    for (const h of handles) out.push(await session.objectInfo(h));
    known.set(parent, out);
    return out;
  };
  /** The child named `name` of `parent`; remembered contents first, the device when not there. */
  const child = async (parent: number, name: string): Promise<ObjectInfo | undefined> => {
    const cached = known.get(parent)?.find((o) => o.name === name);
    if (cached) return cached;
    return (await fresh(parent)).find((o) => o.name === name);
  };
  const changed = (parent: number): void => void known.delete(parent);
  const toEntry = (dir: string, o: ObjectInfo): Entry => ({
    name: o.name, path: joinPhonePath(dir, o.name), isFolder: o.isFolder, size: o.size, modified: parseMtpDate(o.modified),
  });
  /** Handle of the folder at `dir` (ROOT_PARENT for ""). */
  const folderHandle = async (dir: string): Promise<number> => {
    let handle = ROOT_PARENT;
    let walked = '';
    for (const part of splitPhonePath(dir)) {
      walked = joinPhonePath(walked, part);
      const found = await child(handle, part);
      if (!found || !found.isFolder) throw makeError(UsbErrors.NOT_FOUND, { path: walked, device: label });
      handle = found.handle;
    }
    return handle;
  };
  const lookup = async (path: string): Promise<(ObjectInfo & { parentHandle: number }) | null> => {
    const { dir, name } = parentAndName(path);
    let parent: number;
    try {
      parent = await folderHandle(dir);
    } catch (e) {
      if ((e as { code?: string }).code === UsbErrors.NOT_FOUND.code) return null;
      throw e;
    }
    const o = await child(parent, name);
    return o ? { ...o, parentHandle: parent } : null;
  };
  const mustFind = async (path: string): Promise<ObjectInfo & { parentHandle: number }> => {
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
      return (await fresh(await folderHandle(dir))).map((o) => toEntry(dir, o));
    },
    async stat(path, opts = {}) {
      const o = await lookup(path);
      if (!o) return null;
      if (!opts.fresh) return toEntry(parentAndName(path).dir, o);
      let now: ObjectInfo;
      try {
        now = await session.objectInfo(o.handle);
      } catch (e) {
        // gone (or replaced by another object) since the folder was listed
        if ((e as { code?: string }).code === UsbErrors.NOT_FOUND.code) {
          changed(o.parentHandle);
          return null;
        }
        throw e;
      }
      if (now.name !== o.name) {
        changed(o.parentHandle);
        return null;
      }
      return toEntry(parentAndName(path).dir, now);
    },
    async read(path, sink, opts) {
      const o = await mustFind(path);
      return session.getObject(o.handle, sink, { transient: opts?.transient ?? false });
    },
    async write(path, source) {
      await mustWrite(path);
      const { dir, name } = parentAndName(path);
      const parent = await folderHandle(dir);
      if ((await fresh(parent)).some((o) => o.name === name)) {
        throw makeError(UsbErrors.PROTOCOL, { device: label, operation: `writing ${path}`, response: 'a file of that name exists already' });
      }
      changed(parent);
      const openReader = source.openReader?.bind(source);
      await session.sendObject(storageId, parent, name, {
        size: source.size,
        // opened only if used: the session prefers random access when the source has it
        chunks: { [Symbol.asyncIterator]: () => source.open()[Symbol.asyncIterator]() },
        ...(openReader ? { openReader } : {}),
      });
    },
    async remove(path) {
      await mustWrite(path, true);
      const o = await mustFind(path);
      changed(o.parentHandle);
      await session.deleteObject(o.handle);
    },
    async rename(path, newName) {
      await mustWrite(path);
      const o = await mustFind(path);
      changed(o.parentHandle);
      await session.renameObject(o.handle, newName);
    },
    async mkdir(path) {
      await mustWrite(path);
      let parent = ROOT_PARENT;
      let walked = '';
      for (const part of splitPhonePath(path)) {
        walked = joinPhonePath(walked, part);
        const found = await child(parent, part);
        if (found && !found.isFolder) throw makeError(UsbErrors.BAD_PATH, { path: walked, reason: 'a file of that name is in the way' });
        if (!found) changed(parent);
        parent = found ? found.handle : await session.createFolder(storageId, parent, part);
      }
    },
    async close() {
      await session.close();
    },
  };
}
