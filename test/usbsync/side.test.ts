// The cheap half of a side (facts) agrees with the full fingerprint; the digest is computed only
// when asked; the side cache keeps a desktop read while the file is unchanged and a phone read
// while the phone's bytes are, and lets go of superseded copies once no reader holds them.
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { openCollectionDb } from '../../src/apkg/sqlite.js';
import { fingerprintCollection, fingerprintFacts } from '../../src/apkg/collection/fingerprint.js';
import { downgradeToSchema11 } from '../../src/apkg/collection/convert.js';
import { readSide, sameSide } from '../../src/sync/usb-sync/side.js';
import { SideCache } from '../../src/sync/usb-sync/side-cache.js';
import { copyCollection } from './support/scene.js';

let peer: AnkiPeer;
let root: string;
let seed: string;

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-side-'));
  seed = path.join(root, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 30, seed: 4, reviewsPerCard: 2 });
  const ids = (await peer.query(seed, 'select id from notes order by id limit 2')) as Array<{ id: number } | number[]>;
  const nid = (r: { id: number } | number[]): number => (Array.isArray(r) ? (r[0] as number) : r.id);
  await peer.modify(seed, [{ op: 'deleteNotes', noteIds: ids.map(nid) }]);
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('side facts and lazy digest', () => {
  it('facts equal the fingerprint without its digest (schema 18 and 11, graves included)', async () => {
    const legacy = path.join(root, 'legacy.anki2');
    downgradeToSchema11(seed, legacy);
    for (const f of [seed, legacy]) {
      const db = openCollectionDb(f, { readonly: true, untrusted: true });
      try {
        const { digest: _d, ...rest } = fingerprintCollection(db);
        expect(fingerprintFacts(db)).toEqual(rest);
        expect(rest.counts.graves).toBeGreaterThan(0);
      } finally {
        db.close();
      }
    }
  });

  it('the digest waits until something needs it; a review is told by the facts alone', async () => {
    const a = path.join(root, 'a', 'collection.anki2');
    const b = path.join(root, 'b', 'collection.anki2');
    copyCollection(seed, a);
    copyCollection(seed, b);
    await peer.modify(b, [{ op: 'advanceClock', seconds: 3600 }, { op: 'review', count: 1 }]);
    const sa = readSide(a);
    const sb = readSide(b);
    expect(sameSide(sa, sb)).toBe(false);
    expect(sa.digested || sb.digested).toBe(false);
    const sa2 = readSide(a);
    expect(sameSide(sa, sa2)).toBe(true);
    expect(sa.digested && sa2.digested).toBe(true);
  });
});

describe('side cache', () => {
  it('keeps the desktop read while the file is unchanged, reads again when it changes, and removes superseded copies after their last reader', async () => {
    const cache = new SideCache(path.join(root, 'cache'));
    const desk = path.join(root, 'desk', 'collection.anki2');
    copyCollection(seed, desk);
    const target = { profile: 'User 1', collectionPath: desk, mediaDir: path.join(path.dirname(desk), 'collection.media') };
    await cache.warmDesktop(target);
    const h1 = await cache.desktop(target);
    expect(h1.side.digested).toBe(true);
    const h2 = await cache.desktop(target);
    expect(h2.side).toBe(h1.side);
    h2.release();
    // a change (Anki Desktop studied): a new read; the old copy stays while h1 holds it
    await peer.modify(desk, [{ op: 'advanceClock', seconds: 60 }, { op: 'review', count: 1 }]);
    const h3 = await cache.desktop(target);
    expect(h3.side).not.toBe(h1.side);
    expect(h3.side.facts.counts.revlog).toBe(h1.side.facts.counts.revlog + 1);
    expect(existsSync(h1.side.collectionPath)).toBe(true);
    h1.release();
    expect(existsSync(h1.side.collectionPath)).toBe(false);
    // only the modification time moved: read again (the cache trusts nothing it cannot see)
    const t = new Date(Date.now() + 5000);
    utimesSync(desk, t, t);
    const h4 = await cache.desktop(target);
    expect(h4.side).not.toBe(h3.side);
    h3.release();
    h4.release();
    cache.dispose();
  });

  it('keeps a phone read by the hash of its bytes; a full check is added once when a transaction needs it', async () => {
    const cache = new SideCache(path.join(root, 'cache2'));
    const f = path.join(root, 'p1', 'collection.anki2');
    copyCollection(seed, f);
    const h = cache.putPhone('phone-1', 'abc:-', 'quick', f, readSide);
    expect(cache.phone('phone-1', 'other:-', 'quick')).toBeNull();
    expect(cache.phone('phone-2', 'abc:-', 'quick')).toBeNull();
    const again = cache.phone('phone-1', 'abc:-', 'full');
    expect(again?.side).toBe(h.side);
    again?.release();
    h.release();
    cache.dispose();
  });
});
