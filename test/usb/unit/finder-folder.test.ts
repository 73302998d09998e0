import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { findAnkiDroid, newestPackage, timeFromName } from '../../../src/usb/ankidroid-finder.js';
import { openFolderTransport } from '../../../src/usb/folder-transport.js';
import { safeWrite, digestOnDevice } from '../../../src/usb/safe-write.js';
import { UsbErrors } from '../../../src/errors/codes/usb.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function phone(files: Record<string, string | Buffer>, mtimes: Record<string, number> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'phone-'));
  dirs.push(root);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), c);
    if (mtimes[p]) utimesSync(join(root, p), mtimes[p] / 1000, mtimes[p] / 1000);
  }
  return root;
}

describe('AnkiDroid finder (folder transport)', () => {
  it('reads the time AnkiDroid writes into export and backup names', () => {
    expect(timeFromName('collection-20260822140305.colpkg')).toBe(Date.UTC(2026, 7, 22, 14, 3, 5));
    expect(timeFromName('backup-2026-08-22-14.03.05.colpkg')).toBe(Date.UTC(2026, 7, 22, 14, 3, 5));
    expect(timeFromName('collection-2019-01-02-03-04.colpkg')).toBe(Date.UTC(2019, 0, 2, 3, 4, 0));
    expect(timeFromName('My deck.apkg')).toBeNull();
  });

  it('finds the legacy folder, scoped folders (AnkiDroid, AnkiDroid1) and packages, newest by name first', async () => {
    const old = Date.UTC(2020, 0, 1);
    const root = phone({
      'AnkiDroid/collection.anki2': 'legacy',
      'AnkiDroid/collection.anki2-wal': '',
      'AnkiDroid/backup/backup-2026-08-20-10.00.00.colpkg': 'b1',
      'Android/data/com.ichi2.anki/files/AnkiDroid/collection.anki2': 'scoped!',
      'Android/data/com.ichi2.anki/files/AnkiDroid1/collection.anki2': 'migrated',
      'Android/data/com.ichi2.anki/cache/export/collection-20260821090000.colpkg': 'e1',
      // the copy made today has a new MTP time but an older name: the name wins
      'Download/collection-20260822140305.colpkg': 'd1',
      'Download/collection-20260101000000.colpkg': 'd0',
      'Download/Spanish.apkg': 'deck',
      'Download/notes.txt': 'x',
      'Documents/collection.apkg': 'very old full export',
    }, { 'Download/collection-20260101000000.colpkg': Date.now(), 'Documents/collection.apkg': old });
    const r = await findAnkiDroid(openFolderTransport(root));
    expect(r.collections.map((c) => [c.path, c.layout]).sort()).toEqual([
      ['Android/data/com.ichi2.anki/files/AnkiDroid', 'scoped'],
      ['Android/data/com.ichi2.anki/files/AnkiDroid1', 'scoped-migrated'],
      ['AnkiDroid', 'legacy'],
    ]);
    expect(r.collections.find((c) => c.layout === 'legacy')?.walPresent).toBe(true);
    expect(r.packages.filter((p) => p.kind === 'colpkg').map((p) => p.path)).toEqual([
      'Download/collection-20260822140305.colpkg',
      'Android/data/com.ichi2.anki/cache/export/collection-20260821090000.colpkg',
      'AnkiDroid/backup/backup-2026-08-20-10.00.00.colpkg',
      'Download/collection-20260101000000.colpkg',
      'Documents/collection.apkg',
    ]);
    expect(r.packages.find((p) => p.name === 'Spanish.apkg')?.kind).toBe('apkg');
    expect(newestPackage(r, 'phone').path).toBe('Download/collection-20260822140305.colpkg');
  });

  it('an empty phone: no collection, and a clear NOT_FOUND for the newest package', async () => {
    const r = await findAnkiDroid(openFolderTransport(phone({ 'DCIM/a.jpg': 'x' })));
    expect(r).toEqual({ collections: [], packages: [] });
    expect(() => newestPackage(r, 'phone')).toThrow(expect.objectContaining({ code: UsbErrors.NOT_FOUND.code }));
  });
});

describe('safe write on a folder transport (rename path)', () => {
  it('replaces the old file with a verified new one and leaves no temp', async () => {
    const root = phone({ 'Download/collection.colpkg': 'old' });
    const t = openFolderTransport(root);
    const data = randomBytes(100_000);
    const r = await safeWrite(t, 'Download/collection.colpkg', { size: data.length, open: async function* () { yield data; } });
    expect(r.method).toBe('rename');
    expect(readdirSync(join(root, 'Download'))).toEqual(['collection.colpkg']);
    expect((await digestOnDevice(t, 'Download/collection.colpkg')).sha256).toBe(r.sha256);
  });
});
