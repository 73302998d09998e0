/**
 * Reading the phone's state (issue 6): the live collection in AnkiDroid's folder when the phone
 * shows it — collection.anki2 and its -wal downloaded together straight into a private folder
 * (hashed as they arrive), the copy checked, and downloaded again when the phone's files changed
 * while they were read (AnkiDroid was writing) — else the newest exported collection package.
 * Packages ankibridge itself pushed are never taken for the phone's state: they say what the
 * desktop sent, not what the phone holds.
 *
 * Cost at plug-in is what the lab measures (must-show 4): the finder lists only folders that
 * exist and skips package folders when the live collection is there; the read is two GetObjects;
 * the bytes are hashed while they arrive, and a phone whose bytes are those of its last read
 * reuses that read (side-cache.ts); otherwise the -wal is folded in place (no second copy), the
 * check is SQLite's quick_check for a decision (integrity_check before a transaction uses it),
 * and only the facts are read — the digest waits until something needs it (side.ts).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { openPackage } from '../../apkg/package/index.js';
import type { OpenedPackage, PackageFormat } from '../../apkg/package/index.js';
import { foldWal } from '../../apkg/package/snapshot.js';
import { renamePath } from '../../apkg/package/validate.js';
import { translateSqliteError } from '../../apkg/sqlite.js';
import { findAnkiDroid, type CollectionFolder, type FinderResult } from '../../usb/ankidroid-finder.js';
import type { DeviceTransport, Entry } from '../../usb/transport.js';
import { makeError } from '../../errors/define.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import { isAnkibridgeError } from '../../errors/index.js';
import { readSide, withSide, type SideRead } from './side.js';
import type { SideCache } from './side-cache.js';
import { timed, type Trace } from './trace.js';

/** Our own pushed packages carry this prefix (push.ts). */
export const PUSH_PREFIX = 'ankibridge-';

export interface PhoneRead extends SideRead {
  source: 'live' | 'package';
  /** Where on the phone: "AnkiDroid" (folder) or "Download/collection-2026….colpkg". */
  phonePath: string;
  /** The live collection's media folder on the phone ("AnkiDroid/collection.media"), null for a package. */
  mediaPath: string | null;
  /** The device's time for the file (a hint only) or the time in the package's name. */
  asOf: number | null;
  /** For people: "live collection in AnkiDroid" / "exported package Download/x.colpkg from 12 Nov 10:02". */
  describe: string;
  /** The package format AnkiDroid on this phone writes/reads, as far as can be told (push uses it). */
  phoneFormat: 'latest' | 'legacy2';
  /** The opened package (media for a pull), when read from one. */
  pkg: OpenedPackage | null;
  finder: FinderResult;
  dispose(): Promise<void>;
}

export interface ReadPhoneOptions {
  attempts?: number;
  trace?: Trace;
  /** 'quick' for a decision; 'full' (default) before a transaction takes the phone's collection. */
  check?: 'quick' | 'full';
  /** Reads kept between plug-ins, and the phone's key in it. */
  cache?: { sides: SideCache; phone: string };
}

/**
 * Downloads `from` into `to`, hashing the bytes as they arrive. `rollbackHeader`: the copy is
 * written with an SQLite header that says rollback journal instead of WAL (bytes 18/19 = 1, as
 * foldWal would leave a file with no -wal to fold) — the hash stays that of the phone's bytes.
 */
async function copyFromPhone(t: DeviceTransport, from: string, to: string, hash?: ReturnType<typeof createHash>, rollbackHeader = false): Promise<number> {
  const out = createWriteStream(to);
  let first = true;
  try {
    const n = await t.read(from, async (chunk) => {
      hash?.update(chunk);
      let c = chunk;
      // (a first chunk shorter than the header is left as it is: the reader then copies the file once more)
      if (rollbackHeader && first && c.length >= 20 && c.toString('latin1', 0, 16) === 'SQLite format 3\0' && c[18] === 2 && c[19] === 2) {
        c = Buffer.from(c);
        c[18] = 1;
        c[19] = 1;
      }
      first = false;
      if (!out.write(c)) await once(out, 'drain');
    });
    out.end();
    await once(out, 'finish');
    return n;
  } catch (e) {
    out.destroy();
    throw e;
  }
}

function when(ms: number | null): string {
  if (ms === null) return 'of unknown date';
  return `from ${new Date(ms).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })} UTC`;
}

function formatFor(schema: number, pkgFormat: PackageFormat | null): 'latest' | 'legacy2' {
  // AnkiDroid ≤ 2.16 kept a schema-11 collection and imports only legacy packages; 2.17–2.20
  // export Legacy 2 but read Latest; ≥ 2.21 export Latest (ankidroid-facts §4, §0.7).
  if (schema <= 11) return 'legacy2';
  if (pkgFormat === 'legacy1') return 'legacy2';
  return 'latest';
}

type FileLook = { size: number; modified: number | null } | null;

function look(e: Entry | null | undefined): FileLook {
  return e ? { size: e.size, modified: e.modified } : null;
}

function sameLook(a: FileLook, b: FileLook): boolean {
  return a === null ? b === null : b !== null && a.size === b.size && a.modified === b.modified;
}

/**
 * The collection and -wal of a live folder as a fresh look at the device shows them now. A -wal
 * that was not there before is not looked for (that would cost a listing of the folder): one
 * that appeared while the file was read holds only changes made after it, which the copy, taken
 * from the file alone, consistently lacks.
 */
async function lookNow(t: DeviceTransport, dir: string, walBefore: boolean): Promise<{ col: FileLook; wal: FileLook }> {
  const col = await t.stat(`${dir}/collection.anki2`, { fresh: true });
  const wal = walBefore ? await t.stat(`${dir}/collection.anki2-wal`, { fresh: true }) : null;
  return { col: look(col), wal: look(wal) };
}

export async function readPhone(t: DeviceTransport, work: string, opts: ReadPhoneOptions = {}): Promise<PhoneRead> {
  const tr = opts.trace;
  const finder = await timed(tr, 'phone-find', () => findAnkiDroid(t, { packages: 'if-no-collection' }));
  const live = finder.collections[0];
  if (live) return readLive(t, work, live, finder, opts);
  const p = finder.packages.find((x) => !x.incomplete && x.kind === 'colpkg' && !x.name.startsWith(PUSH_PREFIX));
  if (!p) throw makeError(UsbSyncErrors.PHONE_COLLECTION_NOT_FOUND, { device: t.label });
  const dir = path.join(work, 'package');
  await mkdir(dir, { recursive: true });
  const local = path.join(dir, p.name);
  await timed(tr, 'phone-download', () => copyFromPhone(t, p.path, local));
  const pkg = await openPackage(local, { tmpDir: dir });
  try {
    const side = timed(tr, 'phone-facts', () => readSide(pkg.collectionPath));
    const asOf = p.nameTime ?? p.deviceTime;
    return withSide(side, {
      source: 'package' as const, phonePath: p.path, mediaPath: null, asOf, describe: `exported package ${p.path} ${when(asOf)}`,
      phoneFormat: formatFor(side.summary.schema, pkg.format), pkg, finder,
      dispose: () => pkg.dispose(),
    });
  } catch (e) {
    await pkg.dispose();
    throw e;
  }
}

async function readLive(t: DeviceTransport, work: string, live: CollectionFolder, finder: FinderResult, opts: ReadPhoneOptions): Promise<PhoneRead> {
  const tr = opts.trace;
  const check = opts.check ?? 'full';
  const attempts = opts.attempts ?? 3;
  const colOnPhone = `${live.path}/collection.anki2`;
  let before: { col: FileLook; wal: FileLook } = { col: { size: live.collectionSize, modified: live.deviceTime }, wal: live.wal };
  for (let i = 1; i <= attempts; i++) {
    const dir = path.join(work, `live-${i}`);
    await mkdir(dir, { recursive: true });
    const local = path.join(dir, 'collection.anki2');
    const colHash = createHash('sha256');
    const walHash = createHash('sha256');
    await timed(tr, 'phone-download', async () => {
      // without a -wal there is nothing to fold: the copy gets its rollback-mode header on the way
      await copyFromPhone(t, colOnPhone, local, colHash, !before.wal);
      if (before.wal) await copyFromPhone(t, `${colOnPhone}-wal`, `${local}-wal`, walHash);
    });
    // AnkiDroid wrote while we read (a checkpoint moves pages from the -wal into the file): again.
    const after = await timed(tr, 'phone-recheck', () => lookNow(t, live.path, before.wal !== null));
    const torn = !sameLook(before.col, after.col) || (before.wal !== null && !sameLook(before.wal, after.wal));
    if (torn) {
      // next time, the files as they are now (a -wal that appeared meanwhile included)
      const entries = await t.list(live.path);
      before = { col: look(entries.find((e) => e.name === 'collection.anki2')), wal: look(entries.find((e) => e.name === 'collection.anki2-wal')) };
      continue;
    }
    const rawKey = `${colHash.digest('hex')}:${before.wal ? walHash.digest('hex') : '-'}`;
    const base = {
      source: 'live' as const, phonePath: live.path, mediaPath: `${live.path}/collection.media`, asOf: live.deviceTime,
      describe: `live collection in ${live.path}`, pkg: null, finder,
    };
    const cached = opts.cache?.sides.phone(opts.cache.phone, rawKey, check);
    if (cached) {
      tr?.('phone-cache-hit', 0);
      return withSide(cached.side, { ...base, phoneFormat: formatFor(cached.side.summary.schema, null), dispose: async () => cached.release() });
    }
    // the check (quick or full) and the facts in one connection
    const read = (file: string): SideRead => {
      try {
        return readSide(file, { check });
      } catch (e) {
        throw renamePath(translateSqliteError(e, file), file, colOnPhone);
      }
    };
    try {
      if (before.wal) await timed(tr, 'phone-fold', () => foldWal(local, colOnPhone));
      if (opts.cache) {
        const held = timed(tr, `phone-${check}-check+facts`, () => opts.cache!.sides.putPhone(opts.cache!.phone, rawKey, check, local, read));
        return withSide(held.side, { ...base, phoneFormat: formatFor(held.side.summary.schema, null), dispose: async () => held.release() });
      }
      const side = timed(tr, `phone-${check}-check+facts`, () => read(local));
      return withSide(side, { ...base, phoneFormat: formatFor(side.summary.schema, null), dispose: async () => undefined });
    } catch (e) {
      // A torn copy (AnkiDroid wrote between the two files) fails the check: try again.
      if (i < attempts && isAnkibridgeError(e) && /COLLECTION|PACKAGE/.test(e.code)) continue;
      if (i === attempts) throw makeError(UsbSyncErrors.PHONE_READ_INCONSISTENT, { device: t.label, attempts }, e);
      throw e;
    }
  }
  throw makeError(UsbSyncErrors.PHONE_READ_INCONSISTENT, { device: t.label, attempts });
}
