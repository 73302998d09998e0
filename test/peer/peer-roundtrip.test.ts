// Export/import through real Anki: a colpkg (latest and legacy) replaces a collection with an
// equal one; an apkg merges notes, cards and history into another collection.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, type CanonicalDump } from './peer.js';

let peer: AnkiPeer;
let dir: string;
let src: string;
let base: CanonicalDump;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'peer-rt-'));
  src = path.join(dir, 'src', 'collection.anki2');
  await peer.createCollection({ path: src, notes: 30, seed: 11, reviewsPerCard: 3, decks: 4, media: { count: 4, bytesEach: 2048 } });
  await peer.modify(src, [{ op: 'addNotes', count: 3, deck: 'Fresh', noteType: 'cloze', tags: ['new'] }, { op: 'review', count: 2, ease: 3 }]);
  // Anki's Check Database normalises a few things (e.g. config nextPos); run it first so the
  // comparison is about the package, not about the check.
  expect(await peer.check(src)).toEqual({ ok: true, problems: [] });
  base = await peer.dump(src, { ignoreSync: true });
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('colpkg round trip', () => {
  for (const legacy of [false, true]) {
    it(`${legacy ? 'legacy' : 'latest'} colpkg: export → import (replace) → equal dump, media and history included`, async () => {
      const out = path.join(dir, `c-${legacy}.colpkg`);
      await peer.exportPackage({ path: src, out, kind: 'colpkg', legacy, withMedia: true });
      expect(statSync(out).size).toBeGreaterThan(4 * 2048);
      const dst = path.join(dir, `c-${legacy}`, 'collection.anki2');
      await peer.importPackage({ path: dst, pkg: out, kind: 'colpkg' });
      const full = await peer.dump(dst);
      expect(full.col.ver).toBe(18); // opened (and for legacy: upgraded) by Anki
      expect(await peer.dump(dst, { ignoreSync: true })).toEqual(base);
      expect(await peer.check(dst)).toEqual({ ok: true, problems: [] });
    });
  }

  it('without media: same collection, no media files', async () => {
    const out = path.join(dir, 'nomedia.colpkg');
    await peer.exportPackage({ path: src, out, kind: 'colpkg', withMedia: false });
    const dst = path.join(dir, 'nomedia', 'collection.anki2');
    await peer.importPackage({ path: dst, pkg: out, kind: 'colpkg' });
    const d = await peer.dump(dst, { ignoreSync: true });
    expect(d.media).toEqual([]);
    expect({ ...d, media: base.media }).toEqual(base);
  });
});

describe('apkg', () => {
  const cardKey = (c: { nid: number; ord: number }): string => `${c.nid}/${c.ord}`;

  it('with scheduling and media: notes, card state, review history and media arrive in a fresh collection', async () => {
    const out = path.join(dir, 'full.apkg');
    await peer.exportPackage({ path: src, out, kind: 'apkg', withScheduling: true, withMedia: true });
    const dst = path.join(dir, 'apkg-full', 'collection.anki2');
    const { log } = await peer.importPackage({ path: dst, pkg: out, kind: 'apkg' });
    expect(log?.new).toBe(33);
    const d = await peer.dump(dst, { ignoreSync: true });
    expect(d.notes).toEqual(base.notes);
    expect(d.revlog).toEqual(base.revlog);
    expect(d.media).toEqual(base.media);
    // card ids and state travel; deck ids are re-mapped by name and due days re-based on the
    // target's creation day, so compare the rest
    const strip = ({ did: _d, due: _u, ...rest }: (typeof d.cards)[number]) => rest;
    expect(d.cards.map(strip)).toEqual(base.cards.map(strip));
    const deckName = (dump: CanonicalDump) => new Map(dump.decks.map((x) => [x.id, x.name]));
    const [nd, nb] = [deckName(d), deckName(base)];
    expect(new Map(d.cards.map((c) => [cardKey(c), nd.get(c.did)]))).toEqual(
      new Map(base.cards.map((c) => [cardKey(c), nb.get(c.did)])),
    );
    expect(await peer.check(dst)).toEqual({ ok: true, problems: [] });
  });

  it('one deck: only its cards and their notes', async () => {
    const out = path.join(dir, 'deck.apkg');
    await peer.exportPackage({ path: src, out, kind: 'apkg', deck: 'Fresh' });
    const dst = path.join(dir, 'apkg-deck', 'collection.anki2');
    const { log } = await peer.importPackage({ path: dst, pkg: out, kind: 'apkg' });
    expect(log?.new).toBe(3);
    const fresh = base.decks.find((d) => d.name === 'Fresh')!.id;
    const d = await peer.dump(dst, { ignoreSync: true });
    expect(d.cards.map((c) => c.id)).toEqual(base.cards.filter((c) => c.did === fresh).map((c) => c.id));
  });

  it('without scheduling and media: notes only, cards new, no history', async () => {
    const out = path.join(dir, 'bare.apkg');
    await peer.exportPackage({ path: src, out, kind: 'apkg', withScheduling: false, withMedia: false });
    const dst = path.join(dir, 'apkg-bare', 'collection.anki2');
    await peer.importPackage({ path: dst, pkg: out, kind: 'apkg', withScheduling: false });
    const d = await peer.dump(dst, { ignoreSync: true });
    expect(d.notes.map((n) => [n.guid, n.fields])).toEqual(base.notes.map((n) => [n.guid, n.fields]));
    expect(d.revlog).toEqual([]);
    expect(d.media).toEqual([]);
    expect(d.cards.every((c) => c.type === 0 && c.reps === 0)).toBe(true);
  });
});
