/** Checks the shape of applyChanges answers and chunks (doc §4.5, §4.6): untrusted data. */
import type { CardRow, Chunk, Json11, NoteRow, RevlogRow, UnchunkedChanges } from './protocol-types.js';
import { Shape } from './validate.js';

export function parseUnchunkedChanges(v: unknown, step: string): UnchunkedChanges {
  const s = new Shape(step);
  const o = s.object(v, 'the changes');
  const models = s.optionalArray(o, 'models').map((m, i) => objectWithId(s, m, `models[${i}]`));
  const decksPair = o.decks === undefined ? [[], []] : s.array(o.decks, 'decks');
  if (decksPair.length !== 2) s.fail('decks is not a pair [decks, deck configs]');
  const decks = s.array(decksPair[0], 'decks[0]').map((d, i) => objectWithId(s, d, `decks[0][${i}]`));
  const dconf = s.array(decksPair[1], 'decks[1]').map((d, i) => objectWithId(s, d, `decks[1][${i}]`));
  const tags = s.optionalArray(o, 'tags').map((t, i) => s.str(t, `tags[${i}]`));
  const out: UnchunkedChanges = { models, decks: [decks, dconf], tags };
  if (o.conf !== undefined && o.conf !== null) out.conf = s.object(o.conf, 'conf');
  if (o.crt !== undefined && o.crt !== null) out.crt = s.int(o.crt, 'crt');
  return out;
}

function objectWithId(s: Shape, v: unknown, what: string): Json11 {
  const o = s.object(v, what);
  s.int(o.id, `${what}.id`);
  s.str(o.name, `${what}.name`);
  return o;
}

export function parseChunk(v: unknown, step: string): Chunk {
  const s = new Shape(step);
  const o = s.object(v, 'the chunk');
  const done = o.done === undefined ? false : s.bool(o.done, 'done');
  const revlog = s.optionalArray(o, 'revlog').map((r, i) => {
    const a = s.array(r, `revlog[${i}]`);
    if (a.length !== 9) s.fail(`revlog[${i}] has ${a.length} columns, not 9`);
    return a.map((x, j) => s.int(x, `revlog[${i}][${j}]`)) as RevlogRow;
  });
  const cards = s.optionalArray(o, 'cards').map((r, i) => {
    const a = s.array(r, `cards[${i}]`);
    if (a.length !== 18) s.fail(`cards[${i}] has ${a.length} columns, not 18`);
    const ints = a.slice(0, 17).map((x, j) => s.int(x, `cards[${i}][${j}]`));
    return [...ints, s.str(a[17], `cards[${i}].data`)] as CardRow;
  });
  const notes = s.optionalArray(o, 'notes').map((r, i) => {
    const a = s.array(r, `notes[${i}]`);
    if (a.length !== 11) s.fail(`notes[${i}] has ${a.length} columns, not 11`);
    return [
      s.int(a[0], 'note id'),
      s.str(a[1], 'guid'),
      s.int(a[2], 'mid'),
      s.int(a[3], 'mod'),
      s.int(a[4], 'usn'),
      s.str(a[5], 'tags'),
      s.str(a[6], 'flds'),
      String(a[7] ?? ''),
      String(a[8] ?? ''),
      s.int(a[9] ?? 0, 'flags'),
      typeof a[10] === 'string' ? a[10] : '',
    ] as NoteRow;
  });
  const out: Chunk = { done };
  if (revlog.length) out.revlog = revlog;
  if (cards.length) out.cards = cards;
  if (notes.length) out.notes = notes;
  return out;
}
