// Every modify op changes what it says it changes (checked in the canonical dump of real Anki).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, type CanonicalDump, type PeerOp } from './peer.js';

let peer: AnkiPeer;
let dir: string;
let p: string;

beforeAll(async () => {
  peer = await AnkiPeer.start();
  dir = mkdtempSync(path.join(tmpdir(), 'peer-modify-'));
  p = path.join(dir, 'collection.anki2');
  // no history: every card is new, so `review` has plenty to answer
  await peer.createCollection({ path: p, notes: 12, seed: 5, decks: 2, media: { count: 1, bytesEach: 64 } });
});
afterAll(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function apply(...ops: PeerOp[]): Promise<[CanonicalDump, CanonicalDump]> {
  const before = await peer.dump(p);
  expect(await peer.modify(p, ops, { seed: 1 })).toEqual({ applied: ops.length });
  return [before, await peer.dump(p)];
}

describe('modify ops', () => {
  it('review answers due/new cards through the scheduler and logs them', async () => {
    const [b, a] = await apply({ op: 'review', count: 3, ease: 3 });
    expect(a.revlog.length).toBe(b.revlog.length + 3);
    expect(a.revlog.slice(-3).every((r) => r.ease === 3 && r.usn === -1)).toBe(true);
    const answered = new Set(a.revlog.map((r) => r.cid));
    expect(a.cards.filter((c) => answered.has(c.id)).every((c) => c.type !== 0 && c.reps >= 1)).toBe(true);
  });

  it('reviewCard answers one given card with the given ease', async () => {
    const card = (await peer.dump(p)).cards.find((c) => c.type === 0)!;
    const [, a] = await apply({ op: 'reviewCard', cardId: card.id, ease: 1 });
    const log = a.revlog.filter((r) => r.cid === card.id);
    expect(log).toHaveLength(1);
    expect(log[0]!.ease).toBe(1);
  });

  it('editNote changes one field and bumps the note', async () => {
    const n = (await peer.dump(p)).notes[0]!;
    const [, a] = await apply({ op: 'editNote', noteId: n.id, field: 1, value: 'changed back' });
    const m = a.notes.find((x) => x.id === n.id)!;
    expect(m.fields[1]).toBe('changed back');
    expect(m.fields[0]).toBe(n.fields[0]);
    expect(m.usn).toBe(-1);
  });

  it('addNotes adds notes of a type into a (new) deck with tags', async () => {
    const [b, a] = await apply({ op: 'addNotes', count: 2, deck: 'Added::Here', noteType: 'reversed', tags: ['t1', 't2'] });
    expect(a.notes.length).toBe(b.notes.length + 2);
    expect(a.cards.length).toBe(b.cards.length + 4);
    const deck = a.decks.find((d) => d.name === 'Added::Here')!;
    expect(a.cards.filter((c) => c.did === deck.id)).toHaveLength(4);
    expect(a.notes.slice(-2).every((n) => n.tags.join(' ') === 't1 t2')).toBe(true);
  });

  it('deleteNotes removes notes and their cards and leaves graves', async () => {
    const b0 = await peer.dump(p);
    const gone = b0.notes[1]!.id;
    const [, a] = await apply({ op: 'deleteNotes', noteIds: [gone] });
    expect(a.notes.some((n) => n.id === gone)).toBe(false);
    expect(a.cards.some((c) => c.nid === gone)).toBe(false);
    expect(a.graves!.some((g) => g.oid === gone && g.type === 1)).toBe(true);
  });

  it('addDeck, renameDeck, deleteDeck', async () => {
    let [, a] = await apply({ op: 'addDeck', name: 'Temp' });
    const id = a.decks.find((d) => d.name === 'Temp')!.id;
    [, a] = await apply({ op: 'renameDeck', from: 'Temp', to: 'Temp2' });
    expect(a.decks.find((d) => d.id === id)!.name).toBe('Temp2');
    [, a] = await apply({ op: 'deleteDeck', name: 'Temp2' });
    expect(a.decks.some((d) => d.id === id)).toBe(false);
  });

  it('tag adds and removes tags', async () => {
    const ids = (await peer.dump(p)).notes.slice(0, 2).map((n) => n.id);
    let [, a] = await apply({ op: 'tag', noteIds: ids, add: ['alpha', 'beta'] });
    expect(a.notes.filter((n) => ids.includes(n.id)).every((n) => n.tags.includes('alpha') && n.tags.includes('beta'))).toBe(true);
    expect(a.tags.some((t) => t.tag === 'alpha')).toBe(true);
    [, a] = await apply({ op: 'tag', noteIds: ids, remove: ['alpha'] });
    expect(a.notes.filter((n) => ids.includes(n.id)).some((n) => n.tags.includes('alpha'))).toBe(false);
  });

  it('addMedia and removeMedia change the media folder', async () => {
    let [, a] = await apply({ op: 'addMedia', name: 'note.txt', base64: Buffer.from('abc').toString('base64') });
    expect(a.media.find((m) => m.name === 'note.txt')).toEqual({
      name: 'note.txt', size: 3, sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
    });
    [, a] = await apply({ op: 'removeMedia', name: 'note.txt' });
    expect(a.media.some((m) => m.name === 'note.txt')).toBe(false);
  });

  it('changeSchema adds a field and bumps scm', async () => {
    const [b, a] = await apply({ op: 'changeSchema' });
    expect(a.col.scm).toBeGreaterThan(b.col.scm!);
    const basic = (d: CanonicalDump) => d.noteTypes.find((m) => m.name === 'Basic') as unknown as { flds: unknown[] };
    expect(basic(a).flds.length).toBe(basic(b).flds.length + 1);
  });

  it('editNoteType changes styling and a template without a schema change', async () => {
    const [b, a] = await apply({ op: 'editNoteType', noteType: 'basic', css: '.card { color: teal; }', qfmt: '<b>{{Front}}</b>' });
    const basic = (d: CanonicalDump) => d.noteTypes.find((m) => m.name === 'Basic') as unknown as { css: string; tmpls: { qfmt: string }[] };
    expect(basic(a).css).toBe('.card { color: teal; }');
    expect(basic(a).tmpls[0]!.qfmt).toBe('<b>{{Front}}</b>');
    expect(a.col.scm).toBe(b.col.scm);
  });

  it('setConfig, editDeckConfig, suspend', async () => {
    const card = (await peer.dump(p)).cards[0]!;
    const [, a] = await apply(
      { op: 'setConfig', key: 'peerTest', value: { x: [1, 2] } },
      { op: 'editDeckConfig', id: 1, newPerDay: 7 },
      { op: 'suspend', cardIds: [card.id] },
    );
    expect(a.config.peerTest).toEqual({ x: [1, 2] });
    expect((a.deckConfigs.find((c) => c.id === 1) as unknown as { new: { perDay: number } }).new.perDay).toBe(7);
    expect(a.cards.find((c) => c.id === card.id)!.queue).toBe(-1);
  });

  it('advanceClock makes later edits carry later mod times', async () => {
    const n = (await peer.dump(p)).notes[2]!;
    const [, a] = await apply(
      { op: 'editNote', noteId: n.id, field: 0, value: 'first' },
      { op: 'advanceClock', seconds: 1.1 },
      { op: 'addNotes', count: 1 },
    );
    const edited = a.notes.find((x) => x.id === n.id)!;
    expect(a.notes.at(-1)!.mod).toBeGreaterThan(edited.mod);
  });

  it('a failing op names itself and the op index', async () => {
    await expect(peer.modify(p, [{ op: 'addDeck', name: 'ok' }, { op: 'deleteDeck', name: 'no such deck' }])).rejects.toThrow(
      /op 1 \(deleteDeck\).*no deck named/,
    );
  });
});
