// Untrusted packages: each way a package can be hostile or broken gives its own catalogued
// error, and nothing is left behind — neither in the temp folder nor where media were going.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPackage, writeColpkg, type OpenPackageOptions } from '../../../src/apkg/index.js';
import { encodeMediaEntries } from '../../../src/apkg/package/media-map.js';
import { zstdCompressSmall } from '../../../src/apkg/package/zstd.js';
import { AnkibridgeError, findError } from '../../../src/errors/index.js';
import { centralRecords, unzipAll, zipAll, type RawEntry } from './support/zip-tools.js';

const F = new URL('../../fixtures/real/', import.meta.url).pathname;
let root: string;
let legacy: RawEntry[];
let latest: RawEntry[];
let n = 0;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'pkg-hostile-'));
  legacy = await unzipAll(`${F}anki-pylib-media.apkg`);
  // A latest-format colpkg with media, from our writer (proven against Anki in peer-roundtrip).
  const media = path.join(root, 'src-media');
  mkdirSync(media);
  writeFileSync(path.join(media, 'a.jpg'), 'first file');
  writeFileSync(path.join(media, 'b.mp3'), Buffer.alloc(5000, 3));
  await writeColpkg({ collectionPath: `${F}frequencyman-two_deck_collection.anki2`, mediaDir: media, out: path.join(root, 'latest.colpkg') });
  latest = await unzipAll(path.join(root, 'latest.colpkg'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function replace(entries: RawEntry[], name: string, data: Buffer | null, newName?: string): RawEntry[] {
  const out = entries.flatMap((e) => (e.name !== name ? [e] : data === null ? [] : [{ ...e, name: newName ?? e.name, data }]));
  return out;
}

function zstdMap(list: Array<{ name: string; size: number; sha1: Buffer }>): Buffer {
  return zstdCompressSmall(encodeMediaEntries(list));
}

const sha1 = (b: Buffer | string): Buffer => createHash('sha1').update(b).digest();

/**
 * Writes the package, opens it (and extracts media), and returns the error code it fails with.
 * A package that opens has its media extracted twice — on this thread and by a media worker
 * thread — and both must fail the same way (errors cross the thread boundary intact).
 */
async function failureOf(pkg: RawEntry[] | Buffer, opts: OpenPackageOptions = {}): Promise<string> {
  const caseDir = path.join(root, `case-${n++}`);
  const tmp = path.join(caseDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const file = path.join(caseDir, 'in.apkg');
  if (Buffer.isBuffer(pkg)) writeFileSync(file, pkg);
  else await zipAll(file, pkg);
  const attempt = async (out: string, mediaWorkers: number): Promise<{ opened: boolean; error: unknown }> => {
    let opened = false;
    try {
      const p = await openPackage(file, { ...opts, tmpDir: tmp });
      opened = true;
      try {
        await p.extractMedia(out, { mediaWorkers });
      } finally {
        await p.dispose();
      }
    } catch (e) {
      return { opened, error: e };
    }
    return { opened, error: undefined };
  };
  const inline = await attempt(path.join(caseDir, 'media-out'), 0);
  const outs = ['media-out'];
  if (inline.opened) {
    const viaWorker = await attempt(path.join(caseDir, 'media-out-worker'), 1);
    outs.push('media-out-worker');
    expect((viaWorker.error as AnkibridgeError | undefined)?.code, 'the same failure in a media worker').toBe((inline.error as AnkibridgeError | undefined)?.code);
  }
  // openPackage's `media` option (media written while the collection is checked): the same
  // failure, and for a package refused before its media, not even a media folder is left.
  let together: unknown;
  const togetherOut = path.join(caseDir, 'media-out-together', 'media');
  try {
    const p = await openPackage(file, { ...opts, tmpDir: tmp, media: { to: togetherOut } });
    await p.dispose();
  } catch (e) {
    together = e;
  }
  expect((together as AnkibridgeError | undefined)?.code, 'the same failure with media extracted alongside').toBe((inline.error as AnkibridgeError | undefined)?.code);
  if (!inline.opened) expect(readdirSync(path.join(caseDir)).includes('media-out-together'), 'nothing written for a package refused before its media').toBe(false);
  else outs.push('media-out-together');
  if (readdirSync(caseDir).includes('media-out-together')) {
    for (const f of readdirSync(togetherOut)) expect(f).not.toMatch(/\.tmp-/);
  }
  const error = inline.error;
  expect(readdirSync(tmp)).toEqual([]);
  const present = readdirSync(caseDir);
  expect(present.sort()).toEqual(['in.apkg', ...outs.filter((o) => present.includes(o)), 'tmp'].sort());
  // Media that fail verification are never left behind, not even as temporary files.
  for (const o of outs.filter((d) => present.includes(d) && d !== 'media-out-together')) for (const f of readdirSync(path.join(caseDir, o))) expect(f).not.toMatch(/\.tmp-/);
  expect(error, 'expected the package to be refused').toBeInstanceOf(AnkibridgeError);
  const code = (error as AnkibridgeError).code;
  expect(findError(code), code).toBeDefined();
  return code;
}

const P = (name: string): string => `ANKIBRIDGE_ERR_PACKAGE_${name}`;

describe('zip container', () => {
  it('sanity: the unmodified bases open', async () => {
    for (const entries of [legacy, latest]) {
      const file = path.join(root, `ok-${n++}.apkg`);
      await zipAll(file, entries);
      const p = await openPackage(file);
      expect(p.media.length).toBeGreaterThan(0);
      await p.dispose();
    }
  });

  for (const bad of ['../evil', '../../../../sdcard/x', '/etc/passwd', 'a\\..\\b', 'C:evil', 'ok\u0001name', 'a/../../b']) {
    it(`refuses the entry name ${JSON.stringify(bad)} as zip slip`, async () => {
      expect(await failureOf([...legacy, { name: bad, data: Buffer.from('x'), method: 0 }])).toBe(P('ZIP_SLIP'));
    });
  }

  it('refuses the path-traversal fixture as zip slip', async () => {
    expect(await failureOf(readFileSync(`${F}ankidroid-path-traversal.zip`))).toBe(P('ZIP_SLIP'));
  });

  it('refuses an entry that appears twice', async () => {
    expect(await failureOf([...legacy, legacy[0]!])).toBe(P('DUPLICATE_ENTRY'));
  });

  it('refuses something that is not a zip', async () => {
    expect(await failureOf(Buffer.from('this is just some text, not a package at all'))).toBe(P('NOT_A_PACKAGE'));
    expect(await failureOf(Buffer.alloc(0))).toBe(P('NOT_A_PACKAGE'));
  });

  it('refuses a truncated archive', async () => {
    const whole = readFileSync(`${F}srs-converter-mixed-legacy-2.apkg`);
    for (const cut of [whole.length - 10, Math.floor(whole.length / 2), 100]) {
      expect(await failureOf(whole.subarray(0, cut))).toBe(P('TRUNCATED'));
    }
  });

  it('refuses an entry holding more data than its header declares', async () => {
    const file = path.join(root, 'lying.apkg');
    await zipAll(file, replace(legacy, '0', Buffer.alloc(100_000, 1)).map((e) => (e.name === '0' ? { ...e, method: 8 as const } : e)));
    const buf = readFileSync(file);
    const rec = centralRecords(buf).find((r) => r.name === '0')!;
    buf.writeUInt32LE(1000, rec.at + 24); // declared uncompressed size
    buf.writeUInt32LE(1000, rec.local + 22);
    expect(await failureOf(buf)).toBe(P('ZIP_BOMB'));
  });

  it('refuses entries declaring more than the limits, or expanding too far', async () => {
    const big = replace(legacy, '0', Buffer.alloc(4_000_000)).map((e) => (e.name === '0' ? { ...e, method: 8 as const } : e));
    expect(await failureOf(big, { limits: { ratioFloorBytes: 1_000_000, maxRatio: 100 } })).toBe(P('ZIP_BOMB'));
    expect(await failureOf(big, { limits: { maxMediaFileBytes: 1_000_000, maxCollectionBytes: 1_000_000 } })).toBe(P('ZIP_BOMB'));
    expect(await failureOf(big, { limits: { maxTotalBytes: 2_000_000 } })).toBe(P('ZIP_BOMB'));
    expect(await failureOf(legacy, { limits: { maxEntries: 2 } })).toBe(P('TOO_MANY_ENTRIES'));
  });

  it('refuses a zstd bomb in the collection and in a media file', async () => {
    const bomb = zstdCompressSmall(Buffer.alloc(64_000_000));
    expect(bomb.length).toBeLessThan(10_000);
    expect(await failureOf(replace(latest, 'collection.anki21b', bomb), { limits: { ratioFloorBytes: 1_000_000, maxRatio: 50 } })).toBe(P('ZIP_BOMB'));
    // A media file whose stream decodes to more than the map says.
    const map = zstdMap([{ name: 'a.jpg', size: 10, sha1: sha1('first file') }, { name: 'b.mp3', size: 5000, sha1: sha1(Buffer.alloc(5000, 3)) }]);
    expect(await failureOf(replace(replace(latest, 'media', map), '1', bomb))).toBe(P('MEDIA_MISMATCH'));
  });

  it('refuses encrypted entries and unknown compression methods', async () => {
    const file = path.join(root, 'enc.apkg');
    await zipAll(file, legacy);
    for (const patch of ['encrypted', 'method'] as const) {
      const buf = readFileSync(file);
      const rec = centralRecords(buf).find((r) => r.name === '0')!;
      if (patch === 'encrypted') {
        buf.writeUInt16LE(buf.readUInt16LE(rec.at + 8) | 1, rec.at + 8);
        buf.writeUInt16LE(buf.readUInt16LE(rec.local + 6) | 1, rec.local + 6);
      } else {
        buf.writeUInt16LE(12, rec.at + 10);
        buf.writeUInt16LE(12, rec.local + 8);
      }
      expect(await failureOf(buf)).toBe(P('UNSUPPORTED_ENTRY'));
    }
  });

  it('detects a damaged entry by its CRC', async () => {
    const file = path.join(root, 'crc.apkg');
    await zipAll(file, replace(legacy, '0', Buffer.from('abcdefgh')));
    const buf = readFileSync(file);
    const rec = centralRecords(buf).find((r) => r.name === '0')!;
    const dataAt = rec.local + 30 + buf.readUInt16LE(rec.local + 26) + buf.readUInt16LE(rec.local + 28);
    buf.writeUInt8(buf.readUInt8(dataAt + 2) ^ 0x10, dataAt + 2);
    expect(await failureOf(buf)).toBe(P('ZIP_CORRUPT'));
  });
});

describe('file-system trouble', () => {
  it('a missing temp folder or an unwritable media folder is a catalogued I/O error, nothing left behind', async () => {
    const pkgFile = `${F}anki-pylib-media.apkg`;
    await expect(openPackage(pkgFile, { tmpDir: path.join(root, 'no-such-dir') })).rejects.toMatchObject({ code: 'ANKIBRIDGE_ERR_GENERAL_FILE_NOT_FOUND' });
    const p = await openPackage(pkgFile);
    const blocker = path.join(root, 'a-file');
    writeFileSync(blocker, 'x');
    await expect(p.extractMedia(path.join(blocker, 'media'))).rejects.toMatchObject({ code: expect.stringMatching(/^ANKIBRIDGE_ERR_GENERAL_(IO|FILE_NOT_FOUND)$/) });
    await p.dispose();
  });
});

describe('package structure', () => {
  it('refuses an unknown (too new) meta version, and unreadable meta', async () => {
    expect(await failureOf(replace(latest, 'meta', Buffer.from([0x08, 0x04])))).toBe(P('TOO_NEW'));
    expect(await failureOf(replace(latest, 'meta', Buffer.from([0x08, 0x00])))).toBe(P('TOO_NEW'));
    expect(await failureOf(replace(latest, 'meta', Buffer.from([]))).valueOf()).toBe(P('TOO_NEW'));
    expect(await failureOf(replace(latest, 'meta', Buffer.from([0x08])))).toBe(P('META_INVALID'));
    expect(await failureOf(replace(latest, 'meta', Buffer.from([0xff, 0xff, 0xff])))).toBe(P('META_INVALID'));
  });

  it('refuses a package without its collection (and never falls back to the dummy)', async () => {
    expect(await failureOf(replace(latest, 'collection.anki21b', null))).toBe(P('MISSING_COLLECTION'));
    expect(await failureOf(replace(legacy, 'collection.anki2', null))).toBe(P('MISSING_COLLECTION'));
  });

  it('reads an old AnkiDroid colpkg without a media entry as having no media', async () => {
    const file = path.join(root, 'nomedia.colpkg');
    await zipAll(file, replace(legacy, 'media', null));
    const p = await openPackage(file);
    expect(p.media).toEqual([]);
    await p.dispose();
  });

  it('refuses a collection that is not SQLite, is corrupt, too new, or carries a trigger or view', async () => {
    const C = (name: string): string => `ANKIBRIDGE_ERR_COLLECTION_${name}`;
    expect(await failureOf(replace(latest, 'collection.anki21b', zstdCompressSmall(Buffer.from('hello, not sqlite'))))).toBe(C('NOT_SQLITE'));
    expect(await failureOf(replace(latest, 'collection.anki21b', Buffer.from('not zstd either')))).toBe(P('COMPRESSED_DATA_CORRUPT'));
    expect(await failureOf(replace(legacy, 'collection.anki2', readFileSync(`${F}ankidroid-initial_version_2_12_1_corrupt_regular.anki2`)))).toBe(C('CORRUPT'));
    expect(await failureOf(replace(legacy, 'collection.anki2', readFileSync(`${F}ankidroid-backend-initial_version_2_12_1_corrupt_diskfull.anki2`)))).toBe(C('CORRUPT'));
    expect(await failureOf(replace(latest, 'collection.anki21b', zstdCompressSmall(readFileSync(`${F}ankidroid-schema250.anki2`))))).toBe(C('SCHEMA_TOO_NEW'));
    for (const ddl of ['CREATE TRIGGER t AFTER INSERT ON notes BEGIN DELETE FROM cards; END', 'CREATE VIEW v AS SELECT * FROM notes']) {
      const col = path.join(root, `code-${n++}.anki2`);
      writeFileSync(col, legacy.find((e) => e.name === 'collection.anki2')!.data);
      const db = new Database(col);
      db.exec(ddl);
      db.close();
      expect(await failureOf(replace(legacy, 'collection.anki2', readFileSync(col)))).toBe(C('UNSAFE_SCHEMA'));
    }
  });
});

describe('large media (streamed, not read whole)', () => {
  it('extracts a 9 MB file intact, and refuses one whose sha1 or size the map misstates', async () => {
    const big = Buffer.alloc(9 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const data = zstdCompressSmall(big);
    const entries = (list: Array<{ name: string; size: number; sha1: Buffer }>): RawEntry[] =>
      replace(replace(latest, 'media', zstdMap(list)), '1', data);
    const a = { name: 'a.jpg', size: 10, sha1: sha1('first file') };
    const file = path.join(root, 'big.colpkg');
    await zipAll(file, entries([a, { name: 'big.mp4', size: big.length, sha1: sha1(big) }]));
    const p = await openPackage(file);
    const out = path.join(root, 'big-out');
    await p.extractMedia(out);
    await p.dispose();
    expect(readFileSync(path.join(out, 'big.mp4')).equals(big)).toBe(true);
    expect(await failureOf(entries([a, { name: 'big.mp4', size: big.length, sha1: sha1('x') }]))).toBe(P('MEDIA_MISMATCH'));
    expect(await failureOf(entries([a, { name: 'big.mp4', size: big.length - 1, sha1: sha1(big) }]))).toBe(P('MEDIA_MISMATCH'));
  });
});

describe('media map that lies', () => {
  const good = [{ name: 'a.jpg', size: 10, sha1: sha1('first file') }, { name: 'b.mp3', size: 5000, sha1: sha1(Buffer.alloc(5000, 3)) }];
  const withMap = (list: typeof good): RawEntry[] => replace(latest, 'media', zstdMap(list));

  it('refuses a sha1 that is not 20 bytes', async () => {
    expect(await failureOf(withMap([good[0]!, { ...good[1]!, sha1: Buffer.alloc(19) }]))).toBe(P('MEDIA_SHA1_INVALID'));
  });
  for (const name of ['../evil.jpg', 'sub/dir.jpg', 'a\\b.jpg', 'e\u0301.jpg', 'con.jpg', 'trailing.', '', 'x'.repeat(200), 'nul\u0000.jpg']) {
    it(`refuses the media name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…` : name)}`, async () => {
      expect(await failureOf(withMap([good[0]!, { ...good[1]!, name }]))).toBe(P('MEDIA_NAME_INVALID'));
    });
  }
  it('refuses the same media name twice', async () => {
    expect(await failureOf(withMap([good[0]!, { ...good[1]!, name: 'a.jpg' }]))).toBe(P('MEDIA_DUPLICATE_NAME'));
  });
  it('refuses a map naming an entry that is not there', async () => {
    expect(await failureOf(replace(latest, '1', null))).toBe(P('MEDIA_ENTRY_MISSING'));
    expect(await failureOf(replace(legacy, 'media', Buffer.from('{"0": "foo.wav", "7": "x.wav"}')))).toBe(P('MEDIA_ENTRY_MISSING'));
  });
  it('refuses a legacy map that is not a JSON object of numbered names', async () => {
    for (const map of ['[1,2]', '{"a": "x.wav"}', '{"0": 5}', 'not json']) {
      expect(await failureOf(replace(legacy, 'media', Buffer.from(map)))).toBe(P('MEDIA_MAP_INVALID'));
    }
    expect(await failureOf(replace(legacy, 'media', Buffer.from('{"0": "../../x"}')))).toBe(P('MEDIA_NAME_INVALID'));
  });
  it('refuses, at extraction, a file whose size or sha1 differs from the map — and writes nothing for it', async () => {
    expect(await failureOf(withMap([good[0]!, { ...good[1]!, size: 4999 }]))).toBe(P('MEDIA_MISMATCH'));
    expect(await failureOf(withMap([good[0]!, { ...good[1]!, size: 5001 }]))).toBe(P('MEDIA_MISMATCH'));
    expect(await failureOf(withMap([good[0]!, { ...good[1]!, sha1: sha1('something else') }]))).toBe(P('MEDIA_MISMATCH'));
  });
});
