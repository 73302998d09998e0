// The content fingerprint: equal for a faithful copy made by real Anki (export + import resets
// col.mod and col.scm), different after any real change, blind to sync bookkeeping.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AnkiPeer } from '../../peer/peer.js';
import { openCollectionDb, unicaseExtensionPath } from '../../../src/apkg/sqlite.js';
import { fingerprintCollection, sameContent, type Fingerprint } from '../../../src/apkg/collection/fingerprint.js';
import { copyTo, fixture, tempDir } from './helpers.js';

const dir = tempDir();
let peer: AnkiPeer;
beforeAll(async () => {
  peer = await AnkiPeer.start();
});
afterAll(async () => {
  await peer?.close();
});

function fp(file: string): Fingerprint {
  const db = openCollectionDb(file, { readonly: true, untrusted: true });
  try {
    return fingerprintCollection(db);
  } finally {
    db.close();
  }
}

function exec(file: string, sql: string): void {
  const db = new Database(file);
  db.loadExtension(unicaseExtensionPath());
  db.exec(sql);
  db.close();
}

describe('fingerprintCollection', () => {
  it('describes a fixture: schema, scm, newest review, counts', () => {
    const f = fp(fixture('frequencyman-two_deck_collection.anki2'));
    expect(f).toMatchObject({
      schema: 18, scm: 1701889995332, newestRevlogId: 1701890503652,
      counts: { notes: 16, cards: 16, revlog: 8, graves: 0, decks: 3, noteTypes: 5 },
    });
    expect(f.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores usn, ls, mod, scm and file times; sees every content change', () => {
    const base = copyTo(dir, fixture('frequencyman-two_deck_collection.anki2'), 'fp-base.anki2');
    exec(base, 'PRAGMA journal_mode = DELETE');
    const ref = fp(base);
    const bookkeeping = copyTo(dir, base, 'fp-book.anki2');
    exec(bookkeeping, `UPDATE col SET mod = mod + 5000, scm = scm + 1, ls = 99, usn = 7;
      UPDATE notes SET usn = 42; UPDATE cards SET usn = 42; UPDATE revlog SET usn = 42;
      UPDATE decks SET usn = 3; UPDATE notetypes SET usn = 3; UPDATE deck_config SET usn = 3; UPDATE tags SET usn = 3; UPDATE config SET usn = 3;`);
    const same = fp(bookkeeping);
    expect(same.scm).not.toBe(ref.scm);
    expect(sameContent(ref, same)).toBe(true);
    expect(same.digest).toBe(ref.digest);

    const changes: Array<[string, string]> = [
      ['field', "UPDATE notes SET flds = flds || 'x' WHERE id = (SELECT min(id) FROM notes)"],
      ['note tags', "UPDATE notes SET tags = ' new ' WHERE id = (SELECT min(id) FROM notes)"],
      ['card due', 'UPDATE cards SET due = due + 1 WHERE id = (SELECT min(id) FROM cards)'],
      ['card deck', 'UPDATE cards SET did = 1 WHERE id = (SELECT max(id) FROM cards)'],
      ['a review removed', 'DELETE FROM revlog WHERE id = (SELECT min(id) FROM revlog)'],
      ['review time', 'UPDATE revlog SET time = time + 1 WHERE id = (SELECT min(id) FROM revlog)'],
      ['deck renamed', "UPDATE decks SET name = 'decka2' WHERE name = 'decka'"],
      ['a grave', 'INSERT INTO graves (oid, type, usn) VALUES (123, 1, -1)'],
      ['config', `UPDATE config SET val = CAST('123' AS BLOB) WHERE key = 'curDeck'`],
      ['crt', 'UPDATE col SET crt = crt - 86400'],
    ];
    const digests = new Set([ref.digest]);
    for (const [what, sql] of changes) {
      const f = copyTo(dir, base, `fp-${what.replace(/ /g, '-')}.anki2`);
      exec(f, sql);
      const changed = fp(f);
      expect(sameContent(ref, changed), what).toBe(false);
      digests.add(changed.digest);
    }
    expect(digests.size).toBe(changes.length + 1);
  });

  it('real Anki: a colpkg export + import (which resets mod and scm) keeps the fingerprint; a review changes it', async () => {
    const src = path.join(dir, 'anki-src', 'collection.anki2');
    await peer.createCollection({ path: src, notes: 40, seed: 11, reviewsPerCard: 3, decks: 3, days: 30 });
    const before = fp(src);
    const pkg = path.join(dir, 'anki-src.colpkg');
    await peer.exportPackage({ path: src, out: pkg, kind: 'colpkg' });
    const dst = path.join(dir, 'anki-dst', 'collection.anki2');
    await peer.createCollection({ path: dst, notes: 1, seed: 1 });
    await peer.importPackage({ path: dst, pkg, kind: 'colpkg' });
    const after = fp(dst);
    expect(after.scm).not.toBe(before.scm);
    expect(sameContent(before, after)).toBe(true);

    await peer.modify(dst, [{ op: 'review', count: 1, ease: 3 }]);
    const reviewed = fp(dst);
    expect(sameContent(before, reviewed)).toBe(false);
    expect(reviewed.counts.revlog).toBe(before.counts.revlog + 1);
    expect(reviewed.newestRevlogId!).toBeGreaterThan(before.newestRevlogId!);
  });
});
