/**
 * Runs INSIDE the lab guest: USB sync over ankibridge's own MTP initiator on QEMU's usb-mtp phone.
 * One step per invocation; the pair state, journal and backups stay in the guest's /tmp between
 * invocations of one boot. The desktop collection lives in the guest's /tmp (SQLite locks on a
 * local file system); the host hands a desktop file in through the shared folder and gets the
 * result back there.
 *   args: <xchg dir> <step>   step = inspect | pull | push | merge, optionally after `use-desktop`
 * Prints `RESULT {json}`.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HotplugWatcher } from '../../../src/usb/hotplug-watcher.js';
import { openPhone } from '../../../src/usb/open-phone.js';
import { openDesktopServices } from '../../../src/sync/desktop/services.js';
import { usbSyncDeps, inspect } from '../../../src/sync/usb-sync/service.js';
import { recoverUsbSync } from '../../../src/sync/usb-sync/recovery.js';
import { merge, pull, push } from '../../../src/sync/usb-sync/transactions.js';

const [xchg, ...steps] = process.argv.slice(2) as [string, ...string[]];
const home = '/tmp/usbsync';
const desktop = path.join(home, 'anki', 'User 1', 'collection.anki2');
mkdirSync(path.join(path.dirname(desktop), 'collection.media'), { recursive: true });
mkdirSync(path.join(home, 'tmp'), { recursive: true });
const out: Record<string, unknown> = {};
const watcher = new HotplugWatcher({ settleMs: 200 });
await watcher.start();
try {
  const t0 = performance.now();
  let p = watcher.phones().find((x) => x.identity.mode === 'mtp');
  while (!p && performance.now() - t0 < 20_000) {
    await new Promise((r) => setTimeout(r, 100));
    p = watcher.phones().find((x) => x.identity.mode === 'mtp');
  }
  if (!p) throw new Error('no MTP phone seen');
  const transport = await openPhone(p.device, p.identity);
  const info = transport.session.deviceInfo;
  out['canRename'] = transport.canRename;
  const db = new Database(path.join(home, 'state.db'));
  db.pragma('journal_mode = WAL');
  const desk = openDesktopServices(db, path.join(home, 'data'));
  const deps = usbSyncDeps(db, path.join(home, 'data'), desk, path.join(home, 'tmp'));
  out['recovered'] = recoverUsbSync(deps);
  const conn = {
    target: { profile: 'User 1', collectionPath: desktop, mediaDir: path.join(path.dirname(desktop), 'collection.media') },
    phone: { serial: p.info.serial ?? 'unknown', manufacturer: info.manufacturer, model: info.model, label: info.model || 'Lab phone' },
    transport,
  };
  try {
    for (const step of steps) {
      const t = performance.now();
      if (step === 'use-desktop') {
        rmSync(`${desktop}-wal`, { force: true });
        copyFileSync(path.join(xchg, 'desktop-in.anki2'), desktop);
      } else if (step === 'inspect') {
        const d = await inspect(deps, conn, 'lab');
        out['inspect'] = { state: d.state, recommended: d.recommended, headline: d.headline, phoneSource: d.phone.source, ms: performance.now() - t };
      } else {
        const run = { pull, push, merge }[step as 'pull' | 'push' | 'merge'];
        const r = await run(deps, conn, {});
        out[step] = { state: r.state, phonePath: r.phonePath ?? null, message: r.message, ms: performance.now() - t };
      }
    }
    if (existsSync(desktop)) copyFileSync(desktop, path.join(xchg, 'desktop-out.anki2'));
  } finally {
    await transport.close();
    db.close();
  }
} catch (e) {
  const err = e as Error & { code?: string };
  out['error'] = { code: err.code ?? null, message: err.message };
} finally {
  watcher.dispose();
}
console.log(`RESULT ${JSON.stringify(out)}`);
process.exit(0);
