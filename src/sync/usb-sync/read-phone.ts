/**
 * Reading the phone's state (issue 6): the live collection in AnkiDroid's folder when the phone
 * shows it — collection.anki2 and its -wal copied together, the copy checked, and the copy
 * retried when the files changed while being read (AnkiDroid was writing) — else the newest
 * exported collection package. Packages ankibridge itself pushed are never taken for the phone's
 * state: they say what the desktop sent, not what the phone holds.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { openPackage } from '../../apkg/package/index.js';
import type { OpenedPackage, PackageFormat } from '../../apkg/package/index.js';
import { findAnkiDroid, type FinderResult } from '../../usb/ankidroid-finder.js';
import type { DeviceTransport } from '../../usb/transport.js';
import { makeError } from '../../errors/define.js';
import { UsbSyncErrors } from '../../errors/codes/usbsync.js';
import { isAnkibridgeError } from '../../errors/index.js';
import { readSide, type SideRead } from './side.js';

/** Our own pushed packages carry this prefix (push.ts). */
export const PUSH_PREFIX = 'ankibridge-';

export interface PhoneRead extends SideRead {
  source: 'live' | 'package';
  /** Where on the phone: "AnkiDroid" (folder) or "Download/collection-2026….colpkg". */
  phonePath: string;
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

async function copyFromPhone(t: DeviceTransport, from: string, to: string): Promise<number> {
  const out = createWriteStream(to);
  try {
    const n = await t.read(from, async (c) => {
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

export async function readPhone(t: DeviceTransport, work: string, opts: { attempts?: number } = {}): Promise<PhoneRead> {
  const finder = await findAnkiDroid(t);
  const attempts = opts.attempts ?? 3;
  const live = finder.collections[0];
  if (live) {
    for (let i = 1; i <= attempts; i++) {
      const dir = path.join(work, `live-${i}`);
      await mkdir(dir, { recursive: true });
      const colOnPhone = `${live.path}/collection.anki2`;
      const before = await Promise.all([t.stat(colOnPhone), t.stat(`${colOnPhone}-wal`)]);
      const local = path.join(dir, 'collection.anki2');
      try {
        await copyFromPhone(t, colOnPhone, local);
        if (before[1]) await copyFromPhone(t, `${colOnPhone}-wal`, `${local}-wal`);
        const after = await Promise.all([t.stat(colOnPhone), t.stat(`${colOnPhone}-wal`)]);
        if (before[0]?.size !== after[0]?.size || before[1]?.size !== after[1]?.size || (before[1] === null) !== (after[1] === null)) continue;
        // openPackage folds the -wal into a private copy and validates the collection.
        const pkg = await openPackage(local, { tmpDir: dir });
        try {
          const side = readSide(pkg.collectionPath);
          return {
            ...side, source: 'live', phonePath: live.path, asOf: live.deviceTime, describe: `live collection in ${live.path}`,
            phoneFormat: formatFor(side.summary.schema, null), pkg: null, finder,
            dispose: () => pkg.dispose(),
          };
        } catch (e) {
          await pkg.dispose();
          throw e;
        }
      } catch (e) {
        // A torn copy (AnkiDroid wrote between the two files) fails the check: try again.
        if (i === attempts || !isAnkibridgeError(e) || !/COLLECTION|PACKAGE/.test(e.code)) {
          if (i === attempts) throw makeError(UsbSyncErrors.PHONE_READ_INCONSISTENT, { device: t.label, attempts }, e);
          throw e;
        }
      }
    }
    throw makeError(UsbSyncErrors.PHONE_READ_INCONSISTENT, { device: t.label, attempts });
  }
  const p = finder.packages.find((x) => !x.incomplete && x.kind === 'colpkg' && !x.name.startsWith(PUSH_PREFIX));
  if (!p) throw makeError(UsbSyncErrors.PHONE_COLLECTION_NOT_FOUND, { device: t.label });
  const dir = path.join(work, 'package');
  await mkdir(dir, { recursive: true });
  const local = path.join(dir, p.name);
  await copyFromPhone(t, p.path, local);
  const pkg = await openPackage(local, { tmpDir: dir });
  try {
    const side = readSide(pkg.collectionPath);
    const asOf = p.nameTime ?? p.deviceTime;
    return {
      ...side, source: 'package', phonePath: p.path, asOf, describe: `exported package ${p.path} ${when(asOf)}`,
      phoneFormat: formatFor(side.summary.schema, pkg.format), pkg, finder,
      dispose: () => pkg.dispose(),
    };
  } catch (e) {
    await pkg.dispose();
    throw e;
  }
}
