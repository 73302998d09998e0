/**
 * Finds AnkiDroid's collection folders and collection packages on a phone (any transport).
 *
 * Where AnkiDroid keeps its folder depends on Android version, store flavour and history
 * (docs: ankidroid-facts §1): /sdcard/AnkiDroid (legacy / full-access builds),
 * Android/data/com.ichi2.anki/files/AnkiDroid (scoped, Play builds on Android 11+),
 * .../files/AnkiDroid1, AnkiDroid2... (users of the 2023-24 migration), other folders under files/
 * (profiles), and the same for the debug and parallel builds. The real path is in a private
 * preference no computer can read, so we probe them all.
 *
 * Packages: exports land in Android/data/<pkg>/cache/export/ and are then saved by the user,
 * usually to Download/ or Documents/; automatic backups are in <collection folder>/backup/.
 *
 * Order: collection packages before deck packages, each newest first: by the time written into the file name (AnkiDroid names exports
 * "<name>-YYYYMMDDHHmmss.colpkg" and backups "backup-YYYY-MM-DD-HH.MM.SS.colpkg"), which travels
 * with the file; the MTP modification time only breaks ties and orders files without such a
 * name, because MTP times are often the time of the copy, or wrong by a time zone. Neither is
 * proof of content: the caller compares collections by content (apkg fingerprints).
 */
import { makeError } from '../errors/define.js';
import { UsbErrors } from '../errors/codes/usb.js';
import { isIncomplete, parseMarker } from './safe-write.js';
import { joinPhonePath, type DeviceTransport, type Entry } from './transport.js';

export const ANKIDROID_PACKAGES = ['com.ichi2.anki', 'com.ichi2.anki.debug', 'com.ichi2.anki.a', 'com.ichi2.anki.b', 'com.ichi2.anki.c', 'com.ichi2.anki.d', 'com.ichi2.anki.e'];
const EXPORT_DIRS = ['Download', 'Documents', 'AnkiDroid'];

export type Layout = 'legacy' | 'scoped' | 'scoped-migrated' | 'profile';

export interface CollectionFolder {
  readonly path: string;
  readonly layout: Layout;
  readonly appPackage: string | null;
  readonly collectionSize: number;
  /** collection.anki2-wal present: AnkiDroid has (or had, uncleanly) the collection open. */
  readonly walPresent: boolean;
  /** Size and device time of collection.anki2-wal (null when absent): a reader compares them before and after. */
  readonly wal: { readonly size: number; readonly modified: number | null } | null;
  readonly deviceTime: number | null;
}

export interface FinderOptions {
  /**
   * 'always' (default): every package folder is listed. 'if-no-collection': package folders
   * (backups, exports, Download, Documents) only when no live collection folder was found —
   * each listed file costs the MTP transport a round trip.
   */
  readonly packages?: 'always' | 'if-no-collection';
}

export interface PackageFile {
  readonly path: string;
  readonly name: string;
  readonly size: number;
  /** colpkg (or "collection.apkg") replaces a whole collection; apkg is a deck package. */
  readonly kind: 'colpkg' | 'apkg';
  readonly origin: 'backup' | 'export' | 'saved';
  readonly nameTime: number | null;
  readonly deviceTime: number | null;
  /** An interrupted ankibridge write (see safe-write.ts): do not read it. */
  readonly incomplete: boolean;
}

export interface FinderResult {
  readonly collections: CollectionFolder[];
  readonly packages: PackageFile[];
}

/** The time in an AnkiDroid file name, as a naive UTC timestamp (the phone's local clock). */
export function timeFromName(name: string): number | null {
  let m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(colpkg|apkg)$/.exec(name);
  if (!m) m = /^backup-(\d{4})-(\d{2})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})\.colpkg$/.exec(name);
  if (!m) {
    const old = /^collection-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.colpkg$/.exec(name);
    if (old) m = [...old.slice(0, 6), '00'] as unknown as RegExpExecArray;
  }
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isFinite(t) ? t : null;
}

function packageKind(name: string): 'colpkg' | 'apkg' | null {
  if (parseMarker(name) || name.endsWith('.part')) return null;
  if (/\.colpkg$/i.test(name) || name === 'collection.apkg') return 'colpkg';
  if (/\.apkg$/i.test(name)) return 'apkg';
  return null;
}

export function newestFirst(a: PackageFile, b: PackageFile): number {
  if (a.incomplete !== b.incomplete) return a.incomplete ? 1 : -1;
  // whole-collection packages first: they are what a sync looks for; deck packages after
  if (a.kind !== b.kind) return a.kind === 'colpkg' ? -1 : 1;
  const ta = a.nameTime ?? a.deviceTime ?? 0;
  const tb = b.nameTime ?? b.deviceTime ?? 0;
  if (ta !== tb) return tb - ta;
  return (b.deviceTime ?? 0) - (a.deviceTime ?? 0);
}

async function listOrEmpty(t: DeviceTransport, dir: string): Promise<Entry[]> {
  try {
    return await t.list(dir);
  } catch (e) {
    if ((e as { code?: string }).code === UsbErrors.NOT_FOUND.code) return [];
    throw e;
  }
}

export async function findAnkiDroid(t: DeviceTransport, opts: FinderOptions = {}): Promise<FinderResult> {
  const collections: CollectionFolder[] = [];
  const packages: PackageFile[] = [];
  const later: Array<() => Promise<void>> = [];

  const addPackages = async (dir: string, origin: PackageFile['origin'], entries?: Entry[]): Promise<void> => {
    const list = entries ?? (await listOrEmpty(t, dir));
    for (const e of list) {
      const kind = e.isFolder ? null : packageKind(e.name);
      if (!kind) continue;
      packages.push({
        path: e.path, name: e.name, size: e.size, kind, origin, nameTime: timeFromName(e.name), deviceTime: e.modified,
        incomplete: isIncomplete(list, e.name),
      });
    }
  };
  /** Lists `dir`, records a collection there, and returns the listing (to look for packages in it too). */
  const probeCollection = async (dir: string, layout: Layout, appPackage: string | null): Promise<Entry[]> => {
    const entries = await listOrEmpty(t, dir);
    const col = entries.find((e) => e.name === 'collection.anki2' && !e.isFolder);
    if (!col) return entries;
    const wal = entries.find((e) => e.name === 'collection.anki2-wal' && !e.isFolder);
    collections.push({
      path: dir, layout, appPackage, collectionSize: col.size,
      walPresent: wal !== undefined, wal: wal ? { size: wal.size, modified: wal.modified } : null, deviceTime: col.modified,
    });
    if (entries.some((e) => e.name === 'backup' && e.isFolder)) later.push(() => addPackages(joinPhonePath(dir, 'backup'), 'backup'));
    return entries;
  };
  const folders = (entries: Entry[]): Set<string> => new Set(entries.filter((e) => e.isFolder).map((e) => e.name));

  // The storage root once; then only the folders that are there (a folder that is not there
  // would cost the MTP transport another listing of its parent).
  const root = folders(await listOrEmpty(t, ''));
  let legacy: Entry[] | null = null;
  if (root.has('AnkiDroid')) legacy = await probeCollection('AnkiDroid', 'legacy', null);
  if (root.has('Android') && folders(await listOrEmpty(t, 'Android')).has('data')) {
    const dataDirs = folders(await listOrEmpty(t, 'Android/data'));
    for (const pkg of ANKIDROID_PACKAGES) {
      if (!dataDirs.has(pkg)) continue;
      const app = folders(await listOrEmpty(t, `Android/data/${pkg}`));
      if (app.has('files')) {
        for (const e of await listOrEmpty(t, `Android/data/${pkg}/files`)) {
          if (!e.isFolder) continue;
          const layout: Layout = e.name === 'AnkiDroid' ? 'scoped' : /^AnkiDroid\d+$/.test(e.name) ? 'scoped-migrated' : 'profile';
          await probeCollection(e.path, layout, pkg);
        }
      }
      if (app.has('cache')) later.push(() => addPackages(`Android/data/${pkg}/cache/export`, 'export'));
    }
  }
  for (const dir of EXPORT_DIRS) {
    if (dir === 'AnkiDroid' && legacy) later.push(() => addPackages(dir, 'saved', legacy ?? undefined));
    else if (root.has(dir)) later.push(() => addPackages(dir, 'saved'));
  }
  if ((opts.packages ?? 'always') === 'always' || collections.length === 0) for (const f of later) await f();
  packages.sort(newestFirst);
  // the legacy folder first only when it is the one in use; otherwise newest collection first
  collections.sort((a, b) => (b.deviceTime ?? 0) - (a.deviceTime ?? 0));
  return { collections, packages };
}

/** The newest complete collection package, or a NOT_FOUND error for the user. */
export function newestPackage(r: FinderResult, device: string): PackageFile {
  const p = r.packages.find((x) => !x.incomplete && x.kind === 'colpkg');
  if (!p) throw makeError(UsbErrors.NOT_FOUND, { path: 'an AnkiDroid collection package (.colpkg)', device });
  return p;
}
