// Round trips against real Anki (the peer): every package Anki writes reads back through our
// reader to the same collection and media; every package our writer makes imports into Anki
// (replace) with nothing for Anki's check to find and the same content, history and media bytes.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, type CanonicalDump } from '../../peer/peer.js';
import { openPackage, writeColpkg } from '../../../src/apkg/index.js';
import { DUMMY_NOTE_TEXT, writeDummyCollection } from '../../../src/apkg/package/dummy-collection.js';
import { ZipWriter } from '../../../src/apkg/package/zip-writer.js';

let peer: AnkiPeer;
let dir: string;
let src: string;
let srcMedia: string;
let base: CanonicalDump;
const UNREFERENCED_MEDIA = 'ünïcode name.png';

beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'pkg-peer-'));
  src = path.join(dir, 'src', 'collection.anki2');
  srcMedia = path.join(dir, 'src', 'collection.media');
  await peer.createCollection({ path: src, notes: 24, seed: 5, reviewsPerCard: 3, decks: 3, media: { count: 5, bytesEach: 3000 }, days: 30 });
  await peer.modify(src, [
    { op: 'addNotes', count: 3, deck: 'Fresh', noteType: 'cloze', tags: ['new'] },
    { op: 'review', count: 2, ease: 3 },
    { op: 'addMedia', name: UNREFERENCED_MEDIA, base64: Buffer.from('not really a png').toString('base64') },
  ]);
  expect(await peer.check(src)).toEqual({ ok: true, problems: [] });
  base = await peer.dump(src, { ignoreSync: true });
  expect(base.media.length).toBe(6);
  expect(base.revlog.length).toBeGreaterThan(100);
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Our reader → a folder Anki can open: collection.anki2 + collection.media. */
async function readWithUs(pkgFile: string, name: string, expectFormat: string): Promise<string> {
  const target = path.join(dir, name, 'collection.anki2');
  mkdirSync(path.dirname(target), { recursive: true });
  const pkg = await openPackage(pkgFile);
  try {
    expect(pkg.format).toBe(expectFormat);
    copyFileSync(pkg.collectionPath, target);
    await pkg.extractMedia(path.join(path.dirname(target), 'collection.media'));
  } finally {
    await pkg.dispose();
  }
  return target;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('Anki writes → we read', () => {
  for (const legacy of [false, true]) {
    it(`colpkg ${legacy ? 'legacy' : 'latest'}: our extraction dumps equal to the source`, async () => {
      const out = path.join(dir, `anki-${legacy}.colpkg`);
      await peer.exportPackage({ path: src, out, kind: 'colpkg', legacy, withMedia: true });
      const ours = await readWithUs(out, `read-colpkg-${legacy}`, legacy ? 'legacy2' : 'latest');
      expect(await peer.dump(ours, { ignoreSync: true })).toEqual(base);
    });
  }

  for (const legacy of [false, true]) {
    it(`apkg ${legacy ? 'legacy' : 'latest'} with scheduling and media: notes, cards, history and media as in the source`, async () => {
      const out = path.join(dir, `anki-sched-${legacy}.apkg`);
      await peer.exportPackage({ path: src, out, kind: 'apkg', legacy, withScheduling: true, withMedia: true });
      const ours = await readWithUs(out, `read-apkg-sched-${legacy}`, legacy ? 'legacy2' : 'latest');
      const d = await peer.dump(ours, { ignoreSync: true });
      expect(d.notes).toEqual(base.notes);
      expect(d.cards).toEqual(base.cards);
      expect(d.revlog).toEqual(base.revlog);
      // Anki puts only media that notes refer to into an apkg; the added file is referred to by none.
      expect(d.media).toEqual(base.media.filter((m) => m.name !== UNREFERENCED_MEDIA));
      // …and only the note types its notes use.
      const used = new Set(base.notes.map((n) => n.mid));
      expect(d.noteTypes).toEqual(base.noteTypes.filter((t) => used.has(t.id)));
    });
  }

  it('apkg without scheduling or media: the notes, fresh cards, no history, no media', async () => {
    const out = path.join(dir, 'anki-bare.apkg');
    await peer.exportPackage({ path: src, out, kind: 'apkg', withScheduling: false, withMedia: false });
    const ours = await readWithUs(out, 'read-apkg-bare', 'latest');
    const d = await peer.dump(ours, { ignoreSync: true });
    expect(d.notes.map((n) => [n.id, n.guid, n.fields])).toEqual(base.notes.map((n) => [n.id, n.guid, n.fields]));
    expect(d.cards.map((c) => c.id)).toEqual(base.cards.map((c) => c.id));
    expect(d.cards.every((c) => c.type === 0 && c.reps === 0)).toBe(true);
    expect(d.revlog).toEqual([]);
    expect(d.media).toEqual([]);
  });

  it('a bare collection with a -wal beside it (as while Anki holds it) reads with the changes in the -wal', async () => {
    const live = path.join(dir, 'live', 'collection.anki2');
    mkdirSync(path.dirname(live), { recursive: true });
    copyFileSync(src, live);
    await peer.hold(live);
    try {
      await peer.modify(live, [{ op: 'addNotes', count: 2, deck: 'Held' }]);
      expect(existsSync(`${live}-wal`)).toBe(true);
      const pkg = await openPackage(live);
      try {
        expect(pkg.format).toBe('collection-file');
        const copy = path.join(dir, 'live-read', 'collection.anki2');
        mkdirSync(path.dirname(copy), { recursive: true });
        copyFileSync(pkg.collectionPath, copy);
        const d = await peer.dump(copy, { ignoreSync: true, mediaDir: path.join(dir, 'none') });
        expect(d.notes.length).toBe(base.notes.length + 2);
      } finally {
        await pkg.dispose();
      }
    } finally {
      await peer.release(live);
    }
  });
});

describe('we write → Anki imports (replace)', () => {
  for (const format of ['latest', 'legacy2'] as const) {
    it(`${format} colpkg: Anki's check finds nothing; content, history and media bytes equal`, async () => {
      const before = sha256(src);
      const besideBefore = readdirSync(path.dirname(src)).sort();
      const out = path.join(dir, `ours-${format}.colpkg`);
      const phases = new Set<string>();
      const r = await writeColpkg({ collectionPath: src, mediaDir: srcMedia, out, format, onProgress: (p) => phases.add(p.phase) });
      expect(r.sha256).toBe(sha256(out));
      expect(r.media).toBe(6);
      expect([...phases]).toEqual(expect.arrayContaining(['collection', 'media', 'done']));
      // The source is only read: unchanged, and no -wal/-shm left beside it.
      expect(sha256(src)).toBe(before);
      expect(readdirSync(path.dirname(src)).sort()).toEqual(besideBefore);
      expect(besideBefore.some((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

      const dst = path.join(dir, `import-${format}`, 'collection.anki2');
      await peer.importPackage({ path: dst, pkg: out, kind: 'colpkg' });
      expect(await peer.check(dst)).toEqual({ ok: true, problems: [] });
      expect(await peer.dump(dst, { ignoreSync: true })).toEqual(base);
      // Media bytes, not just names: the dump carries sha1 and size of every file.
      for (const m of base.media) {
        expect(createHash('sha1').update(readFileSync(path.join(path.dirname(dst), 'collection.media', m.name))).digest('hex')).toBe(m.sha1);
      }
    });
  }

  it('a schema-11 collection (from a legacy package) written as latest: upgraded, imports equal', async () => {
    const legacyPkg = path.join(dir, 'anki-legacy-for-upgrade.colpkg');
    await peer.exportPackage({ path: src, out: legacyPkg, kind: 'colpkg', legacy: true, withMedia: true });
    const pkg = await openPackage(legacyPkg);
    const out = path.join(dir, 'upgraded.colpkg');
    try {
      const media = path.join(dir, 'upgrade-media');
      await pkg.extractMedia(media);
      await writeColpkg({ collectionPath: pkg.collectionPath, mediaDir: media, out });
    } finally {
      await pkg.dispose();
    }
    const check = await openPackage(out);
    expect(check.format).toBe('latest');
    await check.dispose();
    const dst = path.join(dir, 'import-upgraded', 'collection.anki2');
    await peer.importPackage({ path: dst, pkg: out, kind: 'colpkg' });
    expect(await peer.check(dst)).toEqual({ ok: true, problems: [] });
    expect(await peer.dump(dst, { ignoreSync: true })).toEqual(base);
  });

  it('our dummy collection.anki2 is what an old client imports: one note asking to update', async () => {
    const dummy = path.join(dir, 'dummy', 'dummy.anki2');
    mkdirSync(path.dirname(dummy), { recursive: true });
    writeDummyCollection(dummy);
    const pkgFile = path.join(dir, 'dummy', 'old-client.apkg');
    const fh = await open(pkgFile, 'w+');
    const zip = new ZipWriter(fh);
    await zip.addEntry('collection.anki2', readFileSync(dummy), { method: 8 });
    await zip.addEntry('media', Buffer.from('{}'));
    await zip.finish();
    await fh.close();
    const dst = path.join(dir, 'dummy-import', 'collection.anki2');
    await peer.createCollection({ path: dst, notes: 0, seed: 1 });
    await peer.importPackage({ path: dst, pkg: pkgFile, kind: 'apkg' });
    const d = await peer.dump(dst, { ignoreSync: true });
    expect(d.notes.map((n) => n.fields[0])).toEqual([DUMMY_NOTE_TEXT]);
    expect(await peer.check(dst)).toEqual({ ok: true, problems: [] });
  });
});
