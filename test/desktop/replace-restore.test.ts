// Must show 2 and 3: a collection held open the way Anki Desktop holds it (the real Anki peer
// keeping it open) is detected; import refuses with a named error and leaves the files
// byte-identical; after release the import succeeds (backup first); restore then gives back
// the original exactly (canonical dumps through real Anki, media included).
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, type CanonicalDump } from '../peer/peer.js';
import { main } from '../../src/cli/main.js';
import { probeCollection } from '../../src/apkg/desktop/probe.js';
import { watchCollection } from '../../src/apkg/desktop/watch.js';
import type { ProbeResult } from '../../src/apkg/desktop/probe.js';
import { collectionBytes, resetProfile } from './support/files.js';
import { makeDesktopScene, type DesktopScene } from './support/fixture.js';

let peer: AnkiPeer;
let root: string;
let scene: DesktopScene;
const savedXdg = process.env.XDG_DATA_HOME;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string; json: Record<string, unknown> | null }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(out) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { code, out, err, json };
}

function withoutMedia(d: CanonicalDump): Omit<CanonicalDump, 'media'> {
  const { media: _media, ...rest } = d;
  return rest;
}

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-replace-'));
  process.env.XDG_DATA_HOME = path.join(root, 'xdg-data');
  scene = await makeDesktopScene(peer, root);
});
afterAll(async () => {
  await peer?.close();
  if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = savedXdg;
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('replacing the desktop collection', () => {
  it('sees the peer holding the collection, refuses, changes nothing; succeeds once released; restore gives the original back', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    const before = await peer.dump(scene.collectionPath);
    expect(probeCollection(scene.collectionPath).state).toBe('free');

    // a watcher sees the peer take and give back the collection
    const states: ProbeResult[] = [];
    await using watch = watchCollection(scene.collectionPath, { onState: (s) => states.push(s), intervalMs: 60_000, debounceMs: 50 });
    await watch.ready;
    expect(watch.current().state).toBe('free');

    await peer.hold(scene.collectionPath);
    let held: Record<string, string | null>;
    try {
      await expect.poll(() => watch.current().state, { timeout: 5000 }).toBe('open');
      const probe = probeCollection(scene.collectionPath);
      expect(probe).toMatchObject({ state: 'open', walPresent: true });
      held = collectionBytes(scene.collectionPath);

      const refused = await cli('import', scene.packagePath, '--base', scene.base, '--force', '--json');
      expect(refused.code).toBe(69);
      expect(refused.json).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_DESKTOP_ANKI_OPEN' } });
      const exportRefused = await cli('export', path.join(root, 'while-open.colpkg'), '--base', scene.base, '--json');
      expect(exportRefused.json).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_DESKTOP_ANKI_OPEN' } });
      expect(existsSync(path.join(root, 'while-open.colpkg'))).toBe(false);
      // byte-identical, -wal included, and no backup was listed for a refused import
      expect(collectionBytes(scene.collectionPath)).toEqual(held);
      expect((await cli('backups', '--json')).json).toMatchObject({ backups: [] });
    } finally {
      await peer.release(scene.collectionPath);
    }
    await expect.poll(() => watch.current().state, { timeout: 5000 }).toBe('free');
    expect(states.map((s) => s.state)).toEqual(expect.arrayContaining(['free', 'open']));

    // the package lacks the desktop's newest reviews: refused without --force, saying what
    const guarded = await cli('import', scene.packagePath, '--base', scene.base);
    expect(guarded.code).toBe(73);
    expect(guarded.err).toMatch(/ANKIBRIDGE_ERR_DESKTOP_WOULD_LOSE_WORK/);
    expect(guarded.err).toMatch(/7 reviews made on this computer since \d{1,2} [A-Z][a-z]{2} are not in this package/);
    expect((await peer.dump(scene.collectionPath))).toEqual(before);

    const done = await cli('import', scene.packagePath, '--base', scene.base, '--force', '--json');
    expect(done.code, done.out + done.err).toBe(0);
    const backupId = done.json!.backup as string;
    expect(done.json).toMatchObject({ ok: true, profile: 'User 1', forced: true, loss: { reviewsMissing: 7 } });

    // the desktop now holds the phone's collection (scm/mod set by the import, as Anki does)
    const after = await peer.dump(scene.collectionPath, { ignoreSync: true });
    const phone = await peer.dump(scene.phoneCollection, { ignoreSync: true });
    expect(withoutMedia(after)).toEqual(withoutMedia(phone));
    expect((await peer.check(scene.collectionPath)).ok).toBe(true);
    // media: the package's files added or updated, none of the desktop's deleted
    const afterMedia = new Map(after.media.map((m) => [m.name, m.sha1]));
    for (const m of phone.media) expect(afterMedia.get(m.name), m.name).toBe(m.sha1);
    for (const m of before.media) expect(afterMedia.has(m.name), m.name).toBe(true);

    // the backup is listed, protected, with its summary
    const list = (await cli('backups', '--json')).json!.backups as Array<Record<string, unknown>>;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: backupId, reason: 'pre-overwrite', protected: true, label: 'User 1', summary: { notes: 40 } });

    const restored = await cli('restore', backupId, '--json');
    expect(restored.code, restored.out + restored.err).toBe(0);
    // exactly the original: every row, scm/mod included, and the media folder
    expect(await peer.dump(scene.collectionPath)).toEqual(before);
    expect(readdirSync(scene.mediaDir).sort()).toEqual(scene.desktopMedia);
    // the state restore replaced was backed up first
    const list2 = (await cli('backups', '--json')).json!.backups as Array<Record<string, unknown>>;
    expect(list2.map((b) => b.reason)).toEqual(['pre-restore', 'pre-overwrite']);
  });

  it('imports without --force a package that has everything the desktop has', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    // the phone took a copy of the desktop as it is now and reviewed more
    const phone2 = path.join(root, 'phone2', 'collection.anki2');
    cpSync(scene.profileDir, path.dirname(phone2), { recursive: true });
    await peer.modify(phone2, [{ op: 'review', count: 3, ease: 3 }], { seed: 9 });
    const pkg = path.join(root, 'phone2.colpkg');
    await peer.exportPackage({ path: phone2, out: pkg, kind: 'colpkg' });
    const r = await cli('import', pkg, '--base', scene.base, '--json');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.json).toMatchObject({ ok: true, forced: false, loss: { reviewsMissing: 0, notesNewer: 0, sentence: null } });
    expect(withoutMedia(await peer.dump(scene.collectionPath, { ignoreSync: true }))).toEqual(withoutMedia(await peer.dump(phone2, { ignoreSync: true })));
  });

  it('refuses a damaged package and a deck package with named errors, changing nothing', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    const bytes = collectionBytes(scene.collectionPath);
    const bad = path.join(root, 'bad.colpkg');
    writeFileSync(bad, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(3000, 0x41)]));
    const r1 = await cli('import', bad, '--base', scene.base, '--force', '--json');
    expect(r1.code).toBe(65);
    expect((r1.json!.error as { code: string }).code).toMatch(/^ANKIBRIDGE_ERR_PACKAGE_/);
    const deck = path.join(root, 'deck.apkg');
    await peer.exportPackage({ path: scene.phoneCollection, out: deck, kind: 'apkg' });
    const r2 = await cli('import', deck, '--base', scene.base, '--force', '--json');
    expect(r2.json).toMatchObject({ ok: false, error: { code: 'ANKIBRIDGE_ERR_DESKTOP_NOT_A_COLLECTION_PACKAGE' } });
    expect(collectionBytes(scene.collectionPath)).toEqual(bytes);
    const missing = await cli('import', path.join(root, 'nope.colpkg'), '--base', scene.base, '--json');
    expect(missing.code).toBe(66);
    expect(collectionBytes(scene.collectionPath)).toEqual(bytes);
  });

  for (const legacy of [false, true]) {
    it(`exports the desktop collection as a ${legacy ? 'legacy' : 'latest'} .colpkg that real Anki imports`, async () => {
      resetProfile(scene.pristine, scene.profileDir);
      const before = await peer.dump(scene.collectionPath, { ignoreSync: true });
      const out = path.join(root, `export-${legacy}.colpkg`);
      const r = await cli('export', out, '--base', scene.base, '--profile', 'user 1', '--json', ...(legacy ? ['--legacy'] : []));
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.json).toMatchObject({ ok: true, format: legacy ? 'legacy2' : 'latest', media: scene.desktopMedia.length });
      const target = path.join(root, `reimport-${legacy}`, 'collection.anki2');
      await peer.createCollection({ path: target, notes: 0, seed: 1 });
      await peer.importPackage({ path: target, pkg: out, kind: 'colpkg' });
      expect(await peer.dump(target, { ignoreSync: true })).toEqual(before);
    });
  }
});
