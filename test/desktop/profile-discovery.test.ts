// Must show 1: a base folder laid out as Anki lays it out (prefs21.db written by real Python
// pickle, collections made by real Anki) is found and read; ANKI_BASE and --base work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { baseFolderCandidates, findBaseFolder } from '../../src/apkg/desktop/base-folder.js';
import { readAnkiBase, readProfilePrefs, resolveDesktopCollection, resolveDesktopProfile } from '../../src/apkg/desktop/profiles.js';
import { makeAnkiBase, writePrefs } from './support/anki-base.js';

let peer: AnkiPeer;
let root: string;
let base: string;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-disc-'));
  base = path.join(root, 'xdg', 'Anki2');
  await makeAnkiBase(
    peer,
    base,
    [
      { name: 'User 1', notes: 4, seed: 1 },
      { name: 'Zoë', notes: 7, seed: 2 },
    ],
    'Zoë',
  );
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('finding the Anki base folder', () => {
  it('uses the platform defaults the way Anki does', () => {
    const home = '/home/u';
    expect(baseFolderCandidates({ env: {}, platform: 'linux', home }).map((c) => c.path)).toEqual([
      '/home/u/.local/share/Anki2',
      '/home/u/.var/app/net.ankiweb.Anki/data/Anki2',
    ]);
    expect(baseFolderCandidates({ env: { XDG_DATA_HOME: '/x/data' }, platform: 'linux', home })[0]?.path).toBe('/x/data/Anki2');
    expect(baseFolderCandidates({ env: {}, platform: 'darwin', home })[0]?.path).toBe('/home/u/Library/Application Support/Anki2');
    expect(baseFolderCandidates({ env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\u' })[0]?.path).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\Anki2',
    );
    // ANKI_BASE wins over the default, a configured folder (--base) wins over both
    expect(baseFolderCandidates({ env: { ANKI_BASE: '/b' }, platform: 'linux', home })).toEqual([{ path: '/b', source: 'ANKI_BASE' }]);
    expect(baseFolderCandidates({ configured: '/c', env: { ANKI_BASE: '/b' }, platform: 'linux', home })).toEqual([{ path: '/c', source: 'configured' }]);
  });

  it('finds the XDG default folder, ANKI_BASE and a configured folder on disk', () => {
    expect(findBaseFolder({ env: { XDG_DATA_HOME: path.join(root, 'xdg') }, platform: 'linux', home: root })).toEqual({ path: base, source: 'default' });
    expect(findBaseFolder({ env: { ANKI_BASE: base }, platform: 'linux', home: '/nonexistent' })).toEqual({ path: base, source: 'ANKI_BASE' });
    expect(findBaseFolder({ configured: base, env: { ANKI_BASE: '/nope' } })).toEqual({ path: base, source: 'configured' });
    expect(() => findBaseFolder({ env: {}, platform: 'linux', home: path.join(root, 'empty-home') })).toThrow(
      expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DESKTOP_BASE_NOT_FOUND' }),
    );
  });

  it('reads both profiles, the last one used and their files from prefs21.db', async () => {
    const info = readAnkiBase(base);
    expect(info.profiles.map((p) => p.name)).toEqual(['User 1', 'Zoë']);
    expect(info.lastLoaded).toBe('Zoë');
    const zoe = info.profiles[1]!;
    expect(zoe.collectionPath).toBe(path.join(base, 'Zoë', 'collection.anki2'));
    expect(zoe.mediaDir).toBe(path.join(base, 'Zoë', 'collection.media'));
    expect(zoe.hasCollection).toBe(true);
    expect(zoe.syncUser).toBe('zoë@example.org');
    // the collection found is the one real Anki made for that profile
    expect((await peer.dump(zoe.collectionPath)).notes).toHaveLength(7);
    // every value of a real profile pickle decodes: bytes, None, big ints, tuples, sets, floats
    const prefs = readProfilePrefs(base, 'zoë');
    expect(prefs.syncKey).toBe('secret-hkey-of-Zoë');
    expect(prefs.mainWindowGeom).toEqual(new Uint8Array([0x01, 0xd9, 0xd0, 0xcb, 0x00, 0x03, 0x00, 0x00]));
    expect(prefs.bigint).toBe(2n ** 80n);
    expect(prefs.tupleish).toEqual([1, 'two', 3]);
    expect(prefs.setish).toEqual([1, 2]);
    expect(prefs.ratio).toBe(1.5);
    expect(prefs.unicode).toBe('Ünïcödé ✓');
    expect(prefs.hostNum).toBeNull();
  });

  it('picks the profile asked for (case-insensitive), else the last used, through ANKI_BASE', () => {
    const env = { ANKI_BASE: base };
    expect(resolveDesktopProfile({ env }).profile.name).toBe('Zoë');
    expect(resolveDesktopProfile({ env, profile: 'user 1' }).profile.name).toBe('User 1');
    expect(resolveDesktopCollection({ configured: base, profile: 'User 1' }).profile.collectionPath).toBe(path.join(base, 'User 1', 'collection.anki2'));
    expect(() => resolveDesktopProfile({ env, profile: 'Nobody' })).toThrow(
      expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DESKTOP_PROFILE_NOT_FOUND', message: expect.stringContaining('User 1, Zoë') }),
    );
  });

  it('reads pickles of every protocol Python writes (0 to 5)', () => {
    for (const protocol of [0, 1, 2, 3, 4, 5]) {
      const b = path.join(root, `proto${protocol}`);
      writePrefs(b, ['A', 'B'], 'B', protocol);
      const info = readAnkiBase(b);
      expect(info.lastLoaded, `protocol ${protocol}`).toBe('B');
      expect(readProfilePrefs(b, 'A').searchHistory, `protocol ${protocol}`).toEqual(['deck:current', 'is:due']);
      expect(readProfilePrefs(b, 'A').bigint, `protocol ${protocol}`).toBe(2n ** 80n);
    }
  });

  it('a profile without a collection is listed but not usable as one', () => {
    const b = path.join(root, 'nocol');
    writePrefs(b, ['Empty'], null);
    const info = readAnkiBase(b);
    expect(info.profiles[0]?.hasCollection).toBe(false);
    expect(info.lastLoaded).toBeNull();
    expect(() => resolveDesktopCollection({ configured: b })).toThrow(expect.objectContaining({ code: 'ANKIBRIDGE_ERR_DESKTOP_COLLECTION_NOT_FOUND' }));
  });
});
