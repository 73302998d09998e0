// Anki Desktop crashed (killed while holding the collection): its newest changes are only in
// collection.anki2-wal. The probe sees the file free with a -wal beside it; export and import
// fold the -wal in first, so nothing Anki wrote is lost.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { main } from '../../src/cli/main.js';
import { probeCollection } from '../../src/apkg/desktop/probe.js';
import { resetProfile } from './support/files.js';
import { makeDesktopScene, type DesktopScene } from './support/fixture.js';

let peer: AnkiPeer;
let root: string;
let scene: DesktopScene;
const savedXdg = process.env.XDG_DATA_HOME;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-crashed-'));
  scene = await makeDesktopScene(peer, root);
  process.env.XDG_DATA_HOME = path.join(root, 'xdg');
});
afterAll(async () => {
  await peer?.close();
  if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = savedXdg;
  if (root) rmSync(root, { recursive: true, force: true });
});

it('exports the changes a killed Anki left in the -wal', async () => {
  resetProfile(scene.pristine, scene.profileDir);
  const anki = await AnkiPeer.start();
  try {
    await anki.hold(scene.collectionPath);
    await anki.modify(scene.collectionPath, [{ op: 'addNotes', count: 2, tags: ['late'] }, { op: 'review', count: 3, ease: 3 }], { seed: 4 });
    process.kill(anki.pid!, 'SIGKILL');
  } finally {
    await anki.close();
  }
  expect(statSync(`${scene.collectionPath}-wal`).size).toBeGreaterThan(0);
  expect(probeCollection(scene.collectionPath)).toMatchObject({ state: 'free', walPresent: true });
  // what real Anki sees when it opens the crashed collection (it replays the -wal), from a copy
  const copy = path.join(root, 'crashed-copy', 'collection.anki2');
  mkdirSync(path.dirname(copy), { recursive: true });
  copyFileSync(scene.collectionPath, copy);
  copyFileSync(`${scene.collectionPath}-wal`, `${copy}-wal`);
  cpSync(scene.mediaDir, path.join(path.dirname(copy), 'collection.media'), { recursive: true });
  const expected = await peer.dump(copy, { ignoreSync: true });
  expect(expected.notes.filter((n) => n.tags.includes('late'))).toHaveLength(2);

  const out = path.join(root, 'after-crash.colpkg');
  let text = '';
  const code = await main(['export', out, '--base', scene.base, '--json'], { out: (t) => (text += t), err: () => undefined });
  expect(code, text).toBe(0);
  const target = path.join(root, 'reimport', 'collection.anki2');
  await peer.createCollection({ path: target, notes: 0, seed: 1 });
  await peer.importPackage({ path: target, pkg: out, kind: 'colpkg' });
  expect(await peer.dump(target, { ignoreSync: true })).toEqual(expected);
});
