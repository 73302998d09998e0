// Unplug (folder transport with a cut-off point) during each phone-touching step of a push and a
// merge: a typed error, the journal says "rolled back" (push) or what the desktop holds (merge),
// no partial package under the final name, no review lost, and the next plug-in completes.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { makeError } from '../../src/errors/define.js';
import { UsbErrors } from '../../src/errors/codes/usb.js';
import { openCollectionDb } from '../../src/apkg/sqlite.js';
import type { DeviceTransport } from '../../src/usb/transport.js';
import { inspect } from '../../src/sync/usb-sync/service.js';
import { merge, push, pushedName } from '../../src/sync/usb-sync/transactions.js';
import { copyCollection, openScene, type Scene } from './support/scene.js';

let peer: AnkiPeer;
let root: string;
let seed: string;

function revlogIds(file: string): number[] {
  const db = openCollectionDb(file, { readonly: true });
  try {
    return db.prepare('SELECT id FROM revlog ORDER BY id').pluck().all() as number[];
  } finally {
    db.close();
  }
}

/** The phone goes away after `okBytes` bytes have been written to it. */
function unplugAfter(t: DeviceTransport, okBytes: number, atRename = false): DeviceTransport {
  const w = Object.create(t) as DeviceTransport;
  let sent = 0;
  const gone = () => makeError(UsbErrors.DISCONNECTED, { device: t.label, operation: 'sending a file' });
  w.write = async (p, source) =>
    t.write(p, {
      size: source.size,
      async *open() {
        for await (const c of source.open()) {
          if (sent + c.length > okBytes) throw gone();
          sent += c.length;
          yield c;
        }
      },
    });
  w.rename = async (p, n) => {
    if (atRename) throw gone();
    return t.rename(p, n);
  };
  return w;
}

async function scene(name: string, both: boolean): Promise<Scene> {
  const s = await openScene(path.join(root, name));
  copyCollection(seed, s.desktop);
  copyCollection(seed, s.phone);
  await inspect(s.deps, s.conn, 'dev');
  await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
  if (both) await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 2 }]);
  return s;
}

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-unplug-'));
  seed = path.join(root, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 30, seed: 21, reviewsPerCard: 1 });
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('unplug during a transfer', () => {
  const AT_RENAME = -1;
  for (const cut of [0, 5_000, 60_000, AT_RENAME]) {
    it(`push, phone gone after ${cut === AT_RENAME ? 'the upload (at the rename)' : `${cut} bytes`}`, async () => {
      const s = await scene(`push-${cut}`, false);
      const phoneBefore = revlogIds(s.phone);
      const plugged = s.conn.transport;
      const r = await push(s.deps, { ...s.conn, transport: cut === AT_RENAME ? unplugAfter(plugged, Number.MAX_SAFE_INTEGER, true) : unplugAfter(plugged, cut) }).then(
        () => 'completed',
        (e: { code?: string }) => e.code,
      );
      if (cut !== 60_000) expect(r).not.toBe('completed'); // a package of this size is larger than 5 KB
      if (r !== 'completed') {
        expect(r).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
        const txn = s.deps.journal.recent(5).find((t) => t.kind === 'usb-push');
        expect(txn?.state).toBe('rolled-back');
        expect(txn?.note).toContain("phone's collection was not changed");
        const final = path.join(s.phoneRoot, 'Download', pushedName('User 1'));
        expect(existsSync(final)).toBe(false);
      }
      expect(revlogIds(s.phone)).toEqual(phoneBefore);
      // plugged in again: the leftover is cleaned up, the push completes
      const again = await inspect(s.deps, s.conn, 'dev');
      if (r !== 'completed') {
        expect(again.state).toBe('desktop-ahead');
        await push(s.deps, s.conn);
      }
      expect((await inspect(s.deps, s.conn, 'dev')).state).toBe('waiting-for-import');
      expect(readdirSync(path.join(s.phoneRoot, 'Download'))).toEqual([pushedName('User 1')]);
      await s.close();
    });
  }

  it('merge, phone gone during the upload: the desktop keeps the merge (both sides’ reviews), the phone is untouched, re-plug offers it again', async () => {
    const s = await scene('merge', true);
    const d0 = revlogIds(s.desktop);
    const p0 = revlogIds(s.phone);
    const e = await merge(s.deps, { ...s.conn, transport: unplugAfter(s.conn.transport, 10_000) }).catch((x: { code?: string }) => x);
    expect((e as { code?: string }).code).toBe('ANKIBRIDGE_ERR_USB_DISCONNECTED');
    const txn = s.deps.journal.recent(10).find((t) => t.kind === 'usb-merge');
    expect(txn?.note).toContain('The desktop holds the merge');
    const d1 = new Set(revlogIds(s.desktop));
    for (const id of [...d0, ...p0]) expect(d1.has(id)).toBe(true);
    expect(revlogIds(s.phone)).toEqual(p0);
    const again = await inspect(s.deps, s.conn, 'dev');
    expect(again.recommended).toBe('sync-both');
    await merge(s.deps, s.conn);
    expect((await inspect(s.deps, s.conn, 'dev')).state).toBe('waiting-for-import');
    await s.close();
  });
});
