// Reading the phone: the live collection with its -wal (as AnkiDroid leaves it while open) copied
// together and retried when it changes mid-read; the newest AnkiDroid export when no live folder
// is visible (never our own pushed package); and the push format following what the phone reads.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { comparable } from '../merge/harness.js';
import { downgradeToSchema11 } from '../../src/apkg/collection/convert.js';
import { openFolderTransport } from '../../src/usb/folder-transport.js';
import type { DeviceTransport } from '../../src/usb/transport.js';
import { readPhone } from '../../src/sync/usb-sync/read-phone.js';
import { inspect } from '../../src/sync/usb-sync/service.js';
import { push, pushedName } from '../../src/sync/usb-sync/transactions.js';
import { copyCollection, openScene } from './support/scene.js';

let peer: AnkiPeer;
let root: string;
let seed: string;

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-read-'));
  seed = path.join(root, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 15, seed: 11, reviewsPerCard: 1 });
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A transport whose reads of the -wal make the phone's -wal grow (AnkiDroid writing) `times` times. */
function writingPhone(t: DeviceTransport, walOnDisk: string, times: number): DeviceTransport & { reads: number } {
  const w = Object.create(t) as DeviceTransport & { reads: number };
  w.reads = 0;
  w.read = async (p, sink) => {
    const n = await t.read(p, sink);
    if (p.endsWith('-wal') && w.reads++ < times) appendFileSync(walOnDisk, Buffer.alloc(4096));
    return n;
  };
  return w;
}

describe('reading the phone', () => {
  it('copies the live collection with its -wal (changes still in the -wal are seen), retrying a read that changed underneath', async () => {
    const phoneRoot = path.join(root, 'p1');
    const col = path.join(phoneRoot, 'AnkiDroid', 'collection.anki2');
    copyCollection(seed, col);
    await peer.hold(col);
    try {
      await peer.modify(col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 5 }]);
      const expected = ((await peer.query(col, 'select count(*) as n from revlog')) as Array<Record<string, number> | number[]>)[0]!;
      const n = Array.isArray(expected) ? expected[0] : Object.values(expected)[0];
      const t = writingPhone(openFolderTransport(phoneRoot), `${col}-wal`, 1);
      const r = await readPhone(t, path.join(root, 'w1'));
      expect(r.source).toBe('live');
      expect(r.fingerprint.counts.revlog).toBe(n);
      expect(t.reads).toBe(2); // the first copy was torn and thrown away
      await r.dispose();
      const always = writingPhone(openFolderTransport(phoneRoot), `${col}-wal`, 99);
      await expect(readPhone(always, path.join(root, 'w2'))).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_USBSYNC_PHONE_READ_INCONSISTENT' });
    } finally {
      await peer.release(col);
    }
  });

  it('without a live folder reads the newest AnkiDroid export, never a package ankibridge pushed, and says how old it is', async () => {
    const phoneRoot = path.join(root, 'p2');
    mkdirSync(path.join(phoneRoot, 'Download'), { recursive: true });
    const older = path.join(root, 'older.anki2');
    copyCollection(seed, older);
    await peer.modify(older, [{ op: 'addNotes', count: 1 }]);
    await peer.exportPackage({ path: older, out: path.join(phoneRoot, 'Download', 'collection-20261101101010.colpkg'), kind: 'colpkg', legacy: true });
    await peer.exportPackage({ path: seed, out: path.join(phoneRoot, 'Download', 'collection-20261120101010.colpkg'), kind: 'colpkg' });
    await peer.exportPackage({ path: older, out: path.join(phoneRoot, 'Download', pushedName('User 1')), kind: 'colpkg' });
    const r = await readPhone(openFolderTransport(phoneRoot), path.join(root, 'w3'));
    expect(r.source).toBe('package');
    expect(r.phonePath).toBe('Download/collection-20261120101010.colpkg');
    expect(r.describe).toContain('20 Nov');
    expect(r.asOf).toBe(Date.UTC(2026, 10, 20, 10, 10, 10));
    expect(r.fingerprint.counts.notes).toBe(15);
    await r.dispose();
  });

  it('a phone with a schema-11 collection (AnkiDroid ≤ 2.16) gets a legacy package that real Anki imports to the desktop', async () => {
    const s = await openScene(path.join(root, 'legacy'));
    copyCollection(seed, s.desktop);
    downgradeToSchema11(seed, s.phone);
    expect((await inspect(s.deps, s.conn, 'dev')).state).toBe('in-step');
    await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
    const r = await push(s.deps, s.conn);
    expect(r['format']).toBe('legacy2');
    const pkg = path.join(s.phoneRoot, 'Download', pushedName('User 1'));
    const probe = path.join(root, 'legacy-probe', 'collection.anki2');
    await peer.importPackage({ path: probe, pkg, kind: 'colpkg' });
    expect(comparable(await peer.dump(probe, { ignoreSync: true }))).toEqual(comparable(await peer.dump(s.desktop, { ignoreSync: true })));
    await s.close();
  });
});
