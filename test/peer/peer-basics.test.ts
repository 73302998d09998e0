// The peer itself: creating, dumping, checking and failing cleanly, against real Anki.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, PeerError, REPO_ROOT, peerPython } from './peer.js';

const fixture = (name: string): string => path.join(REPO_ROOT, 'test/fixtures', name);
function copyAs(src: string, dest: string): string {
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(src, dest);
  return dest;
}

let peer: AnkiPeer;
let dir: string;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'peer-basics-'));
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('createCollection + dump', () => {
  it('creates notes of every type, cards, history, decks, tags and media, and Anki finds it sound', async () => {
    const p = path.join(dir, 'a', 'collection.anki2');
    const r = await peer.createCollection({
      path: p, notes: 30, seed: 7, reviewsPerCard: 4, decks: 4, media: { count: 3, bytesEach: 1000 }, days: 60,
    });
    expect(r.notes).toBe(30);
    // basic, reversed (2 cards), cloze (2 cards): 10 notes each
    expect(r.cards).toBe(10 + 20 + 20);
    expect(r.revlog).toBe(r.cards * 4);

    const d = await peer.dump(p);
    expect(d.notes).toHaveLength(30);
    expect(d.cards).toHaveLength(50);
    expect(d.revlog).toHaveLength(200);
    expect(new Set(d.notes.map((n) => n.mid)).size).toBe(3);
    expect(d.decks.map((x) => x.name)).toEqual(
      expect.arrayContaining(['Default', 'Peer Deck 1', 'Peer Deck 2', 'Peer Deck 2::Sub 3']),
    );
    expect(d.tags.length).toBeGreaterThan(0);
    expect(d.media.map((m) => m.name)).toEqual(['peer-media-00000.jpg', 'peer-media-00001.jpg', 'peer-media-00002.mp3']);
    expect(d.media.every((m) => m.size === 1000 && /^[0-9a-f]{40}$/.test(m.sha1))).toBe(true);
    expect(d.notes.some((n) => n.fields[0]!.includes('<img src="peer-media-00000.jpg">'))).toBe(true);
    expect(d.notes.some((n) => n.fields[0]!.includes('[sound:peer-media-00002.mp3]'))).toBe(true);
    // canonical: sorted by id, keys sorted, revlog spread over the past 60 days
    expect(d.notes.map((n) => n.id)).toEqual([...d.notes.map((n) => n.id)].sort((a, b) => a - b));
    expect(Object.keys(d.cards[0]!)).toEqual([...Object.keys(d.cards[0]!)].sort());
    const span = d.revlog.at(-1)!.id - d.revlog[0]!.id;
    expect(span).toBeGreaterThan(20 * 86_400_000);
    expect(d.col.ver).toBe(18);
    expect(d.noteTypes.find((m) => m.name === 'Cloze')).toBeDefined();

    expect(await peer.check(p)).toEqual({ ok: true, problems: [] });
  });

  it('is deterministic: the same seed gives the same content', async () => {
    const a = path.join(dir, 'd1', 'collection.anki2');
    const b = path.join(dir, 'd2', 'collection.anki2');
    await peer.createCollection({ path: a, notes: 12, seed: 42, reviewsPerCard: 2 });
    await peer.createCollection({ path: b, notes: 12, seed: 42, reviewsPerCard: 2 });
    const [da, db] = [await peer.dump(a), await peer.dump(b)];
    expect(db.notes.map((n) => [n.fields, n.tags])).toEqual(da.notes.map((n) => [n.fields, n.tags]));
    expect(db.revlog.map((r) => [r.ease, r.ivl, r.type])).toEqual(da.revlog.map((r) => [r.ease, r.ivl, r.type]));
  });

  it('spreads a total number of reviews over the cards (benchmark sizes)', async () => {
    const p = path.join(dir, 'total', 'collection.anki2');
    const r = await peer.createCollection({ path: p, notes: 40, seed: 1, noteTypes: ['basic'], reviews: 130, days: 365 });
    expect(r).toMatchObject({ notes: 40, cards: 40, revlog: 130 });
    const d = await peer.dump(p);
    expect(new Set(d.revlog.map((x) => x.id)).size).toBe(130);
    expect(d.cards.every((c) => c.reps === 3 || c.reps === 4)).toBe(true);
    expect(await peer.check(p)).toEqual({ ok: true, problems: [] });
  });

  it('query runs SQL through Anki (unicase tables included) and version names the pinned Anki', async () => {
    const a = path.join(dir, 'a', 'collection.anki2');
    const rows = await peer.query<[string]>(a, 'select name from decks where name = ? order by name', ['peer deck 1']);
    expect(rows).toEqual([['Peer Deck 1']]); // case-insensitive match through Anki's unicase collation
    expect((await peer.version()).anki).toMatch(/^26\.0?9\.3$/);
  });

  it('dumps the same collection twice identically', async () => {
    const a = path.join(dir, 'a', 'collection.anki2');
    expect(await peer.dump(a)).toEqual(await peer.dump(a));
  });

  it('ignoreSync drops usn, ls, mod, scm, graves and config times', async () => {
    const d = await peer.dump(path.join(dir, 'a', 'collection.anki2'), { ignoreSync: true });
    expect(d.col).toEqual({ crt: expect.any(Number) });
    expect(d.notes[0]).not.toHaveProperty('usn');
    expect(d.cards[0]).not.toHaveProperty('usn');
    expect(d.revlog[0]).not.toHaveProperty('usn');
    expect(d.decks[0]).not.toHaveProperty('usn');
    expect(d.graves).toBeUndefined();
    expect(d.configMeta).toBeUndefined();
  });
});

describe('real files', () => {
  it('check reports files Anki cannot use instead of failing', async () => {
    const corrupt = copyAs(fixture('real/ankidroid-initial_version_2_12_1_corrupt_regular.anki2'), path.join(dir, 'c1', 'collection.anki2'));
    const tooNew = copyAs(fixture('real/ankidroid-schema250.anki2'), path.join(dir, 'c2', 'collection.anki2'));
    expect(await peer.check(corrupt)).toMatchObject({ ok: false, problems: [expect.stringMatching(/malformed/)] });
    expect(await peer.check(tooNew)).toMatchObject({ ok: false, problems: [expect.stringMatching(/FileTooNew/)] });
  });

  it("check finds and repairs what Anki's Check Database finds (cards without a note)", async () => {
    const p = path.join(dir, 'orphans', 'collection.anki2');
    await peer.createCollection({ path: p, notes: 3, seed: 4, noteTypes: ['basic'] });
    const [note] = (await peer.dump(p)).notes;
    await peer.query(p, 'delete from notes where id = ?', [note!.id]);
    const first = await peer.check(p);
    expect(first.ok).toBe(false);
    expect(first.problems.join('\n')).toMatch(/card/i);
    expect(first.problems.join('\n')).not.toMatch(/[\u2068\u2069]/);
    expect(await peer.check(p)).toEqual({ ok: true, problems: [] });
    expect((await peer.dump(p)).cards).toHaveLength(2);
  });

  it('opening an older schema upgrades it the same way every time (copies dump equal)', async () => {
    const src = fixture('real/ankidroid-schema16.anki2');
    const a = copyAs(src, path.join(dir, 'u1', 'collection.anki2'));
    const b = copyAs(src, path.join(dir, 'u2', 'collection.anki2'));
    const da = await peer.dump(a);
    await new Promise((r) => setTimeout(r, 1100)); // a later clock second must not show up
    expect(await peer.dump(b)).toEqual(da);
    expect(da.col.ver).toBe(18);
    expect(da.decks.map((d) => d.name)).toContain('ThisIsSchema16');
  });

  it('a package imported twice (colpkg replace) differs only in what ignoreSync drops', async () => {
    const pkg = fixture('real/ankidroid-templates.apkg'); // legacy 1, with review history
    const a = path.join(dir, 'i1', 'collection.anki2');
    const b = path.join(dir, 'i2', 'collection.anki2');
    await peer.importPackage({ path: a, pkg, kind: 'colpkg' });
    await new Promise((r) => setTimeout(r, 1100));
    await peer.importPackage({ path: b, pkg, kind: 'colpkg' });
    const [da, db] = [await peer.dump(a), await peer.dump(b)];
    expect(da.revlog.length).toBeGreaterThan(0);
    expect(db.col.scm).not.toBe(da.col.scm); // colpkg import stamps scm (and mod) with "now"
    expect({ ...db, col: { ...db.col, mod: 0, scm: 0 } }).toEqual({ ...da, col: { ...da.col, mod: 0, scm: 0 } });
    expect(await peer.dump(b, { ignoreSync: true })).toEqual(await peer.dump(a, { ignoreSync: true }));
  });
});

describe('failures', () => {
  it('a failing command answers a typed error and the process stays up', async () => {
    const pid = peer.pid;
    const missing = path.join(dir, 'nope', 'collection.anki2');
    await expect(peer.dump(missing)).rejects.toMatchObject({ name: 'PeerError', type: 'NotFound' });
    await expect(peer.call('noSuchCommand', {})).rejects.toBeInstanceOf(PeerError);
    await expect(peer.check(path.join(dir, 'bad.colpkg'))).rejects.toMatchObject({ type: 'BadArgs' });
    await expect(peer.call('exportPackage', { path: path.join(dir, 'a', 'collection.anki2'), kind: 'apkg' })).rejects.toThrow(
      /BadArgs: missing argument 'out'/,
    );
    await expect(peer.call('modify', { path: path.join(dir, 'a', 'collection.anki2'), ops: [{ op: 'addDeck' }] })).rejects.toThrow(
      /op 0 \(addDeck\): missing argument 'name'/,
    );
    // an exception inside Anki itself (note id that does not exist)
    await expect(
      peer.modify(path.join(dir, 'a', 'collection.anki2'), [{ op: 'editNote', noteId: 1, field: 0, value: 'x' }]),
    ).rejects.toMatchObject({ name: 'PeerError' });
    expect(await peer.call<{ pong: boolean; pid: number }>('ping', {})).toMatchObject({ pong: true, pid });
  });

  it('names the set-up command when the venv is missing', () => {
    expect(() => peerPython('/nonexistent-root')).toThrow(/node test\/peer\/setup\.mjs/);
  });

  it('a command that outlives its timeout stops the peer; nothing is left running', async () => {
    const p = path.join(dir, 'slow', 'collection.anki2');
    const slow = await AnkiPeer.start();
    const pid = slow.pid!;
    await slow.createCollection({ path: p, notes: 1, seed: 1 });
    await expect(slow.call('modify', { path: p, ops: [{ op: 'advanceClock', seconds: 5 }] }, 300)).rejects.toThrow(/timed out/);
    await expect(slow.call('ping', {})).rejects.toThrow(/not running|exited/);
    await slow.close();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('close() ends the process and leaves no handle behind', async () => {
    const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').sort();
    const before = handles();
    const other = await AnkiPeer.start();
    const pid = other.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow(); // running until closed
    await other.close();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    await new Promise((r) => setImmediate(r));
    // nothing of ours is left (earlier tests' handles may still be winding down: compare counts)
    const count = (list: string[], kind: string): number => list.filter((h) => h === kind).length;
    for (const kind of ['ProcessWrap', 'PipeWrap', 'Timeout']) expect(count(handles(), kind)).toBeLessThanOrEqual(count(before, kind));
    await other.close(); // idempotent
  });
});
