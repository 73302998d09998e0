/** Shapes of the sync protocol's JSON messages (doc §4), as the server sends and accepts them. */

export interface SyncMeta {
  /** server col.mod, ms */
  mod: number;
  /** server col.scm, ms */
  scm: number;
  usn: number;
  /** server clock, seconds */
  ts: number;
  msg: string;
  cont: boolean;
  hostNum: number;
  /** the server collection has no cards */
  empty: boolean;
  media_usn: number;
}

export interface Graves {
  cards: number[];
  decks: number[];
  notes: number[];
}

/** Schema-11 JSON objects (notetype, deck, deck config): kept as plain objects. */
export type Json11 = Record<string, unknown>;

export interface UnchunkedChanges {
  models: Json11[];
  decks: [Json11[], Json11[]];
  tags: string[];
  conf?: Record<string, unknown>;
  crt?: number;
}

export type RevlogRow = [number, number, number, number, number, number, number, number, number];
export type CardRow = [
  number, number, number, number, number, number, number, number, number,
  number, number, number, number, number, number, number, number, string,
];
export type NoteRow = [number, string, number, number, number, string, string, string, string, number, string];

export interface Chunk {
  done: boolean;
  revlog?: RevlogRow[];
  cards?: CardRow[];
  notes?: NoteRow[];
}

/** [[new, learn, review], cards, notes, revlog, graves, notetypes, decks, deck configs] (doc §4.8). */
export type SanityCounts = [[number, number, number], number, number, number, number, number, number, number];

export interface SanityResult {
  status: string;
  c: unknown;
  s: unknown;
}

/** What meta means for us (doc §4.1, SyncMeta::compared_to_remote). */
export type SyncRequired =
  | { kind: 'noChanges' }
  | { kind: 'normal'; localIsNewer: boolean }
  | { kind: 'full'; uploadOk: boolean; downloadOk: boolean };
