/**
 * Note types, decks and deck options: the schema-11 JSON shapes (kept in `col`, and used by the
 * sync protocol) <-> the decoded protobuf configs of schema 15..18.
 *
 * The mapping follows what Anki's Rust core does on upgrade and downgrade (facts read from
 * rslib/src/notetype/schema11.rs, decks/schema11.rs, deckconfig/schema11.rs, decks/name.rs at
 * 26.08.1); this is our own code. Notable rules:
 *  - JSON keys the schema doesn't know are kept as JSON bytes in the proto `other` field, and
 *    come back on downgrade (minus the keys the schema does know, "reserved" keys).
 *  - Deck names: "A::B" <-> "A\x1fB"; each component NFC-normalised, ASCII control characters
 *    removed, whitespace and ':' trimmed, empty -> "blank".
 *  - Numbers are read leniently where Anki is lenient (ids may be strings; a value of the wrong
 *    type becomes the default), and floats are 32-bit in the proto.
 */
import type { Decoded } from './protobuf.js';
import { f32ToNumber } from './protobuf.js';
import { parseJsonLossless, stringifyJsonLossless } from './json.js';

export type Json = Record<string, unknown>;

export class LegacyJsonError extends Error {}

// ---------------------------------------------------------------------------------------------
// lenient readers (serde's default_on_invalid / deserialize_number_from_string / ..._bool_from_anything)

function num(v: unknown, dflt = 0): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return dflt;
}
function idNum(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw new LegacyJsonError(`${what}: id is not a number (${JSON.stringify(v)})`);
}
function int(v: unknown, dflt = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : dflt;
}
function str(v: unknown, dflt = ''): string {
  return typeof v === 'string' ? v : dflt;
}
function bool(v: unknown, dflt = false): boolean {
  return typeof v === 'boolean' ? v : dflt;
}
function boolFromAnything(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v === 'true' || v === '1';
  return false;
}
function optInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined;
}
/** An optional 64-bit id: a number, or a BigInt when it does not fit a double exactly. */
function optInt64(v: unknown): number | bigint | undefined {
  return typeof v === 'bigint' ? v : optInt(v);
}
function floats(v: unknown, dflt: number[] = []): number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? v.map((x) => Math.fround(x as number)) : dflt;
}
function f32(v: unknown, dflt: number): number {
  return Math.fround(num(v, dflt));
}
function objectOf(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

const utf8 = new TextEncoder();

/** Unknown keys -> the JSON bytes Anki keeps in `other` (empty when there are none). */
function otherToBytes(json: Json, known: ReadonlySet<string>): Uint8Array {
  const rest: Json = {};
  for (const [k, v] of Object.entries(json)) if (!known.has(k)) rest[k] = v;
  return Object.keys(rest).length === 0 ? new Uint8Array(0) : utf8.encode(stringifyJsonLossless(rest));
}

/** `other` bytes -> extra JSON keys, minus the reserved ones (Anki's parse_other_fields). */
export function otherFromBytes(bytes: Uint8Array | undefined, reserved: ReadonlySet<string>): Json {
  if (!bytes || bytes.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(Buffer.from(bytes).toString('utf8'));
  } catch {
    return {};
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(objectOf(parsed))) if (!reserved.has(k)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Note types

export interface NotetypeParts {
  id: number;
  name: string;
  mtimeSecs: number;
  usn: number;
  config: Decoded;
  fields: Array<{ name: string; ord: number | undefined; config: Decoded }>;
  templates: Array<{ name: string; ord: number | undefined; mtimeSecs: number; usn: number; config: Decoded }>;
}

const NOTETYPE_KEYS = new Set(['id', 'name', 'type', 'mod', 'usn', 'sortf', 'did', 'tmpls', 'flds', 'css', 'latexPre', 'latexPost', 'latexsvg', 'req', 'originalStockKind', 'originalId']);
const FIELD_KEYS = new Set(['name', 'ord', 'sticky', 'rtl', 'font', 'size', 'description', 'plainText', 'collapsed', 'excludeFromSearch', 'id', 'tag', 'preventDeletion']);
const TEMPLATE_KEYS = new Set(['name', 'ord', 'qfmt', 'afmt', 'bqfmt', 'bafmt', 'did', 'bfont', 'bsize', 'id']);
const REQ_KINDS: Record<string, number> = { none: 0, any: 1, all: 2 };
const REQ_NAMES = ['none', 'any', 'all'];

export function notetypeFromJson(nt: Json): NotetypeParts {
  const id = idNum(nt.id, 'note type');
  const name = str(nt.name);
  const kind = nt.type === 1 ? 1 : 0;
  if (!Array.isArray(nt.flds) || !Array.isArray(nt.tmpls)) throw new LegacyJsonError(`note type ${id}: flds/tmpls missing`);
  const did = optInt(nt.did);
  const reqs = Array.isArray(nt.req)
    ? (nt.req as unknown[]).filter(Array.isArray).map((r) => {
        const [cardOrd, kindName, ords] = r as unknown[];
        return { cardOrd: int(cardOrd), kind: REQ_KINDS[String(kindName)] ?? 0, fieldOrds: Array.isArray(ords) ? ords.map((o) => int(o)) : [] };
      })
    : [];
  return {
    id,
    name,
    mtimeSecs: int(nt.mod),
    usn: int(nt.usn),
    config: {
      kind,
      sortFieldIdx: int(nt.sortf),
      css: str(nt.css),
      targetDeckIdUnused: did ?? 0,
      latexPre: str(nt.latexPre),
      latexPost: str(nt.latexPost),
      latexSvg: bool(nt.latexsvg),
      reqs,
      originalStockKind: int(nt.originalStockKind),
      originalId: optInt64(nt.originalId),
      other: otherToBytes(nt, NOTETYPE_KEYS),
    },
    fields: (nt.flds as unknown[]).map((raw) => {
      const f = objectOf(raw);
      return {
        name: str(f.name),
        ord: optInt(f.ord),
        config: {
          sticky: boolFromAnything(f.sticky),
          rtl: boolFromAnything(f.rtl),
          fontName: str(f.font, 'Arial'),
          fontSize: int(f.size, 20),
          description: str(f.description),
          plainText: bool(f.plainText),
          collapsed: bool(f.collapsed),
          excludeFromSearch: bool(f.excludeFromSearch),
          id: optInt64(f.id),
          tag: optInt(f.tag),
          preventDeletion: bool(f.preventDeletion),
          other: otherToBytes(f, FIELD_KEYS),
        },
      };
    }),
    templates: (nt.tmpls as unknown[]).map((raw) => {
      const t = objectOf(raw);
      return {
        name: str(t.name),
        ord: optInt(t.ord),
        // Anki's upgrade gives every template mtime 0 and usn 0
        mtimeSecs: 0,
        usn: 0,
        config: {
          qFormat: str(t.qfmt),
          aFormat: str(t.afmt),
          qFormatBrowser: str(t.bqfmt),
          aFormatBrowser: str(t.bafmt),
          targetDeckId: optInt(t.did) ?? 0,
          browserFontName: str(t.bfont),
          browserFontSize: Number.isInteger(t.bsize) && (t.bsize as number) >= 0 && (t.bsize as number) <= 255 ? (t.bsize as number) : 0,
          id: optInt64(t.id),
          other: otherToBytes(t, TEMPLATE_KEYS),
        },
      };
    }),
  };
}

export function notetypeToJson(nt: NotetypeParts): Json {
  const c = nt.config;
  const out: Json = {
    id: nt.id,
    name: nt.name,
    type: c.kind === 1 ? 1 : 0,
    mod: nt.mtimeSecs,
    usn: nt.usn,
    sortf: (c.sortFieldIdx as number) & 0xffff,
    did: c.targetDeckIdUnused === 0 ? null : c.targetDeckIdUnused,
    tmpls: nt.templates.map((t) => {
      const tc = t.config;
      return {
        name: t.name,
        ord: t.ord ?? null,
        qfmt: tc.qFormat,
        afmt: tc.aFormat,
        bqfmt: tc.qFormatBrowser,
        bafmt: tc.aFormatBrowser,
        did: (tc.targetDeckId as number) > 0 ? tc.targetDeckId : null,
        bfont: tc.browserFontName,
        bsize: (tc.browserFontSize as number) & 0xff,
        id: tc.id ?? null,
        ...otherFromBytes(tc.other as Uint8Array, TEMPLATE_KEYS),
      };
    }),
    flds: nt.fields.map((f) => {
      const fc = f.config;
      return {
        name: f.name,
        ord: f.ord ?? null,
        sticky: fc.sticky,
        rtl: fc.rtl,
        font: fc.fontName,
        size: (fc.fontSize as number) & 0xffff,
        description: fc.description,
        plainText: fc.plainText,
        collapsed: fc.collapsed,
        excludeFromSearch: fc.excludeFromSearch,
        id: fc.id ?? null,
        tag: fc.tag ?? null,
        preventDeletion: fc.preventDeletion,
        ...otherFromBytes(fc.other as Uint8Array, FIELD_KEYS),
      };
    }),
    css: c.css,
    latexPre: c.latexPre,
    latexPost: c.latexPost,
    latexsvg: c.latexSvg,
    req: (c.reqs as Decoded[]).map((r) => [(r.cardOrd as number) & 0xffff, REQ_NAMES[r.kind as number] ?? 'none', (r.fieldOrds as number[]).map((o) => o & 0xffff)]),
  };
  if (c.originalStockKind) out.originalStockKind = c.originalStockKind;
  if (c.originalId !== undefined) out.originalId = c.originalId;
  return { ...out, ...otherFromBytes(c.other as Uint8Array, NOTETYPE_KEYS) };
}

// ---------------------------------------------------------------------------------------------
// Decks

export interface DeckParts {
  id: number;
  /** Native name: components joined by \x1f. */
  name: string;
  mtimeSecs: number;
  usn: number;
  common: Decoded;
  kind: Decoded;
}

const DECK_COMMON_KEYS = new Set(['id', 'mod', 'name', 'usn', 'lrnToday', 'revToday', 'newToday', 'timeToday', 'collapsed', 'browserCollapsed', 'desc', 'md', 'dyn']);
const NORMAL_DECK_KEYS = new Set(['conf', 'extendNew', 'extendRev', 'reviewLimit', 'newLimit', 'reviewLimitToday', 'newLimitToday', 'desiredRetention']);
const FILTERED_DECK_KEYS = new Set(['resched', 'terms', 'separate', 'delays', 'previewDelay', 'previewAgainSecs', 'previewHardSecs', 'previewGoodSecs']);
/** Keys dropped from `other` on downgrade (Anki's RESERVED_DECK_KEYS). */
const RESERVED_DECK_KEYS = new Set(['usn', 'revToday', 'newLimit', 'dyn', 'reviewLimit', 'newToday', 'timeToday', 'reviewLimitToday', 'extendNew', 'mod', 'newLimitToday', 'desc', 'name', 'lrnToday', 'conf', 'browserCollapsed', 'extendRev', 'id', 'collapsed', 'desiredRetention']);

/** One deck-name component as Anki normalises it. */
export function normalizeDeckComponent(comp: string): string {
  // eslint-disable-next-line no-control-regex
  const out = comp.normalize('NFC').replace(/[\x00-\x1f\x7f]/g, '');
  const trimmed = out.replace(/^[\s:]+|[\s:]+$/gu, '');
  return trimmed === '' ? 'blank' : trimmed;
}

export function nativeDeckName(human: string): string {
  return human.split('::').map(normalizeDeckComponent).join('\x1f');
}

export function humanDeckName(native: string): string {
  return native.replaceAll('\x1f', '::');
}

function todayPair(v: unknown): [number, number] {
  const a = Array.isArray(v) ? v : [];
  // Anki reads the last two entries: [.., day, amount]
  const amount = int(a.length >= 1 ? a[a.length - 1] : 0);
  const day = int(a.length >= 2 ? a[a.length - 2] : 0);
  return [day, amount];
}

function dayLimit(v: unknown): Decoded | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Json;
  if (typeof o.limit !== 'number' || typeof o.today !== 'number') return undefined;
  return { limit: o.limit >>> 0, today: o.today >>> 0 };
}

function optU32(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export function isFilteredDeckJson(deck: Json): boolean {
  return deck.dyn === true || deck.dyn === 1;
}

export function deckFromJson(deck: Json): DeckParts {
  const id = idNum(deck.id, 'deck');
  const filtered = isFilteredDeckJson(deck);
  const { return: _obsolete, ...d } = deck;
  const lrn = todayPair(d.lrnToday);
  const rev = todayPair(d.revToday);
  const nw = todayPair(d.newToday);
  const time = todayPair(d.timeToday);
  // the four day counters become one "last day studied"; counts from an earlier day are dropped
  const maxDay = Math.max(time[0], nw[0], rev[0]);
  const known = new Set([...DECK_COMMON_KEYS, ...(filtered ? FILTERED_DECK_KEYS : NORMAL_DECK_KEYS)]);
  const common: Decoded = {
    studyCollapsed: bool(d.collapsed),
    browserCollapsed: bool(d.browserCollapsed),
    lastDayStudied: maxDay >>> 0,
    newStudied: nw[0] === maxDay ? nw[1] : 0,
    reviewStudied: rev[0] === maxDay ? rev[1] : 0,
    learningStudied: lrn[0] === maxDay ? lrn[1] : 0,
    millisecondsStudied: time[1],
    other: otherToBytes(d, known),
  };
  let kind: Decoded;
  if (filtered) {
    kind = {
      filtered: {
        reschedule: boolFromAnything(d.resched),
        searchTerms: (Array.isArray(d.terms) ? d.terms : []).map((t) => {
          const [search, limit, order] = Array.isArray(t) ? t : [];
          const lim = typeof limit === 'string' ? Number(limit) : int(limit);
          return { search: str(search), limit: Math.max(0, lim), order: int(order) };
        }),
        delays: Array.isArray(d.delays) ? floats(d.delays) : [],
        previewDelay: int(d.previewDelay) >>> 0,
        previewAgainSecs: int(d.previewAgainSecs) >>> 0,
        previewHardSecs: int(d.previewHardSecs) >>> 0,
        previewGoodSecs: int(d.previewGoodSecs) >>> 0,
      },
    };
  } else {
    const dr = optU32(d.desiredRetention);
    kind = {
      normal: {
        configId: typeof d.conf === 'string' ? Number(d.conf) : int(d.conf, 1),
        extendNew: Math.max(0, int(d.extendNew)),
        extendReview: Math.max(0, int(d.extendRev)),
        description: str(d.desc),
        markdownDescription: bool(d.md),
        reviewLimit: optU32(d.reviewLimit),
        newLimit: optU32(d.newLimit),
        reviewLimitToday: dayLimit(d.reviewLimitToday),
        newLimitToday: dayLimit(d.newLimitToday),
        desiredRetention: dr === undefined ? undefined : Math.fround(Math.fround(dr) / 100),
      },
    };
  }
  return {
    id,
    name: nativeDeckName(str(d.name)),
    mtimeSecs: typeof d.mod === 'string' ? Number(d.mod) : int(d.mod),
    usn: int(d.usn),
    common,
    kind,
  };
}

export function deckToJson(deck: DeckParts): Json {
  const c = deck.common;
  const day = c.lastDayStudied as number;
  const normal = deck.kind.normal as Decoded | undefined;
  const filtered = deck.kind.filtered as Decoded | undefined;
  const out: Json = {
    id: deck.id,
    mod: deck.mtimeSecs,
    name: humanDeckName(deck.name),
    usn: deck.usn,
    lrnToday: [day, c.learningStudied],
    revToday: [day, c.reviewStudied],
    newToday: [day, c.newStudied],
    timeToday: [day, c.millisecondsStudied],
    collapsed: c.studyCollapsed,
    browserCollapsed: c.browserCollapsed,
    desc: normal ? normal.description : '',
  };
  if (normal?.markdownDescription) out.md = true;
  out.dyn = filtered ? 1 : 0;
  Object.assign(out, otherFromBytes(c.other as Uint8Array, RESERVED_DECK_KEYS));
  if (filtered) {
    const delays = filtered.delays as number[];
    Object.assign(out, {
      resched: filtered.reschedule,
      terms: (filtered.searchTerms as Decoded[]).map((t) => [t.search, t.limit, t.order]),
      separate: true,
      delays: delays.length === 0 ? null : delays.map(f32ToNumber),
      previewDelay: filtered.previewDelay,
      previewAgainSecs: filtered.previewAgainSecs,
      previewHardSecs: filtered.previewHardSecs,
      previewGoodSecs: filtered.previewGoodSecs,
    });
  } else {
    const n = normal ?? {};
    const dr = n.desiredRetention as number | undefined;
    Object.assign(out, {
      conf: n.configId ?? 1,
      extendNew: n.extendNew ?? 0,
      extendRev: n.extendReview ?? 0,
      reviewLimit: n.reviewLimit ?? null,
      newLimit: n.newLimit ?? null,
      reviewLimitToday: n.reviewLimitToday ?? null,
      newLimitToday: n.newLimitToday ?? null,
      desiredRetention: dr === undefined ? null : Math.trunc(Math.fround(dr * 100)),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deck options (deck configs)

export interface DeckConfigParts {
  id: number;
  name: string;
  mtimeSecs: number;
  usn: number;
  config: Decoded;
}

const DCONF_TOP_KEYS = new Set(['id', 'mod', 'name', 'usn', 'maxTaken', 'autoplay', 'timer', 'replayq', 'new', 'rev', 'lapse', 'dyn', 'newMix', 'newPerDayMinimum', 'interdayLearningMix', 'reviewOrder', 'newSortOrder', 'newGatherPriority', 'buryInterdayLearning', 'fsrsWeights', 'fsrsParams5', 'fsrsParams6', 'desiredRetention', 'ignoreRevlogsBeforeDate', 'easyDaysPercentages', 'stopTimerOnAnswer', 'secondsToShowQuestion', 'secondsToShowAnswer', 'questionAction', 'answerAction', 'waitForAudio', 'sm2Retention', 'weightSearch']);
const DCONF_NEW_KEYS = new Set(['order', 'delays', 'bury', 'perDay', 'initialFactor', 'ints']);
const DCONF_REV_KEYS = new Set(['maxIvl', 'hardFactor', 'ease4', 'ivlFct', 'perDay', 'bury']);
const DCONF_LAPSE_KEYS = new Set(['leechFails', 'mult', 'leechAction', 'delays', 'minInt']);
/** Keys dropped from `other` on downgrade (Anki's RESERVED_DECKCONF_KEYS; note "dyn" is reserved, "new"/"rev"/"lapse" are split out). */
const RESERVED_DCONF_KEYS = new Set([...DCONF_TOP_KEYS].filter((k) => !['new', 'rev', 'lapse'].includes(k)));

function unknownKeys(o: Json, known: ReadonlySet<string>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (!known.has(k)) out[k] = v;
  return out;
}

/**
 * Schema-11 deck options -> DeckConfig.Config, with `initialEase` as the JSON gives it
 * (initialFactor / 1000). `upgradeInitialEase` applies the schema 15/16 steps Anki runs on top.
 */
export function deckConfigFromJson(conf: Json, keyId?: string): DeckConfigParts {
  // buggy clients may leave the inner id out of step with the map key: the key wins (as in Anki)
  const id = keyId !== undefined ? idNum(keyId, 'deck options') : idNum(conf.id, 'deck options');
  // A sub-object Anki cannot read as a whole (a required key missing, a strictly typed value of
  // the wrong type) is replaced by its defaults as a whole, as Anki's reader does; inside a
  // readable one, a lenient key of the wrong type becomes that type's empty value.
  const nw = validNewConf(conf.new) ? (conf.new as Json) : {};
  const rev = validRevConf(conf.rev) ? (conf.rev as Json) : {};
  const lapse = validLapseConf(conf.lapse) ? (conf.lapse as Json) : {};
  const newValid = nw === conf.new;
  const revValid = rev === conf.rev;
  const lapseValid = lapse === conf.lapse;
  const other = unknownKeys(conf, DCONF_TOP_KEYS);
  const newOther = unknownKeys(nw, DCONF_NEW_KEYS);
  const revOther = unknownKeys(rev, DCONF_REV_KEYS);
  const lapseOther = unknownKeys(lapse, DCONF_LAPSE_KEYS);
  if (Object.keys(newOther).length) other.new = newOther;
  if (Object.keys(revOther).length) other.rev = revOther;
  if (Object.keys(lapseOther).length) other.lapse = lapseOther;
  const ints = Array.isArray(nw.ints) && nw.ints.length >= 2 && nw.ints.every((x) => typeof x === 'number' && x >= 0) ? (nw.ints as number[]) : [1, 4];
  return {
    id,
    name: str(conf.name),
    mtimeSecs: typeof conf.mod === 'string' ? Number(conf.mod) : int(conf.mod),
    usn: int(conf.usn),
    config: {
      learnSteps: newValid ? floats(nw.delays, []) : [1, 10],
      relearnSteps: lapseValid ? floats(lapse.delays, []) : [10],
      newPerDay: newValid ? (isUInt(nw.perDay, 0xffffffff) ? (nw.perDay as number) : 0) : 20,
      reviewsPerDay: revValid ? (isUInt(rev.perDay, 0xffffffff) ? (rev.perDay as number) : 0) : 200,
      newPerDayMinimum: int(conf.newPerDayMinimum) >>> 0,
      initialEase: Math.fround(Math.fround(int(nw.initialFactor, 2500)) / 1000),
      easyMultiplier: f32(rev.ease4, 1.3),
      hardMultiplier: f32(rev.hardFactor, 1.2),
      lapseMultiplier: f32(lapse.mult, 0),
      intervalMultiplier: f32(rev.ivlFct, 1),
      maximumReviewInterval: int(rev.maxIvl, 36500) >>> 0,
      minimumLapseInterval: int(lapse.minInt, 1) >>> 0,
      graduatingIntervalGood: ints[0]! & 0xffff,
      graduatingIntervalEasy: ints[1]! & 0xffff,
      // schema 11: order 0 = random, 1 = due; proto: 0 = due, 1 = random
      newCardInsertOrder: nw.order === 0 ? 1 : 0,
      newCardGatherPriority: int(conf.newGatherPriority),
      newCardSortOrder: int(conf.newSortOrder),
      reviewOrder: int(conf.reviewOrder),
      newMix: int(conf.newMix),
      interdayLearningMix: int(conf.interdayLearningMix),
      leechAction: lapse.leechAction === 0 ? 0 : 1,
      leechThreshold: int(lapse.leechFails, 8) >>> 0,
      disableAutoplay: !bool(conf.autoplay, true),
      capAnswerTimeToSecs: Math.max(0, int(conf.maxTaken, 60)),
      showTimer: int(conf.timer) !== 0,
      stopTimerOnAnswer: bool(conf.stopTimerOnAnswer),
      secondsToShowQuestion: f32(conf.secondsToShowQuestion, 0),
      secondsToShowAnswer: f32(conf.secondsToShowAnswer, 0),
      questionAction: int(conf.questionAction),
      answerAction: int(conf.answerAction),
      waitForAudio: bool(conf.waitForAudio, true),
      skipQuestionWhenReplayingAnswer: !bool(conf.replayq, true),
      buryNew: bool(nw.bury),
      buryReviews: bool(rev.bury),
      buryInterdayLearning: bool(conf.buryInterdayLearning),
      fsrsParams4: floats(conf.fsrsWeights),
      fsrsParams5: floats(conf.fsrsParams5),
      fsrsParams6: floats(conf.fsrsParams6),
      ignoreRevlogsBeforeDate: str(conf.ignoreRevlogsBeforeDate),
      easyDaysPercentages: floats(conf.easyDaysPercentages),
      desiredRetention: f32(conf.desiredRetention, 0),
      historicalRetention: f32(conf.sm2Retention, 0),
      paramSearch: str(conf.weightSearch),
      other: Object.keys(other).length ? utf8.encode(stringifyJsonLossless(other)) : new Uint8Array(0),
    },
  };
}

function has(o: Json, ...keys: string[]): boolean {
  return keys.every((k) => k in o);
}
function isUInt(v: unknown, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}
function isNum(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}
function optBool(o: Json, k: string): boolean {
  return !(k in o) || typeof o[k] === 'boolean';
}
/** new: delays, initialFactor (u16), ints, order, perDay required; bury optional. */
function validNewConf(v: unknown): boolean {
  const o = objectOf(v);
  return v === o && has(o, 'delays', 'initialFactor', 'ints', 'order', 'perDay') && isUInt(o.initialFactor, 0xffff) && optBool(o, 'bury');
}
/** rev: ease4, ivlFct (floats), maxIvl (u32), perDay required; bury, hardFactor optional. */
function validRevConf(v: unknown): boolean {
  const o = objectOf(v);
  return v === o && has(o, 'ease4', 'ivlFct', 'maxIvl', 'perDay') && isNum(o.ease4) && isNum(o.ivlFct) && isUInt(o.maxIvl, 0xffffffff) &&
    optBool(o, 'bury') && (!('hardFactor' in o) || isNum(o.hardFactor));
}
/** lapse: delays, leechAction, leechFails (u32), minInt (u32), mult (float) required. */
function validLapseConf(v: unknown): boolean {
  const o = objectOf(v);
  return v === o && has(o, 'delays', 'leechAction', 'leechFails', 'minInt', 'mult') && isUInt(o.leechFails, 0xffffffff) && isUInt(o.minInt, 0xffffffff) && isNum(o.mult);
}

/**
 * The ease steps of Anki's schema 15 and 16 upgrades, in 32-bit floats as Anki computes them:
 * x100 (15), then /100 (16); a config at or below 1.3 is reset to 2.5 (a schema-15 bug), and the
 * caller must then reset low card eases in the decks using it. Returns [ease, wasReset].
 */
export function upgradeInitialEase(fromJson: number): [number, boolean] {
  const s15 = Math.fround(fromJson * 100);
  const s16 = Math.fround(s15 / 100);
  return s16 <= Math.fround(1.3) ? [2.5, true] : [s16, false];
}

export function deckConfigToJson(dc: DeckConfigParts): Json {
  const i = dc.config;
  const top = otherFromBytes(i.other as Uint8Array, new Set());
  const pick = (key: string, reserved: ReadonlySet<string>): Json => {
    const v = objectOf(top[key]);
    delete top[key];
    return Object.fromEntries(Object.entries(v).filter(([k]) => !reserved.has(k)));
  };
  const newOther = pick('new', DCONF_NEW_KEYS);
  const revOther = pick('rev', DCONF_REV_KEYS);
  const lapseOther = pick('lapse', DCONF_LAPSE_KEYS);
  for (const k of Object.keys(top)) if (RESERVED_DCONF_KEYS.has(k)) delete top[k];
  const fl = (v: unknown) => (v as number[]).map(f32ToNumber);
  return {
    id: dc.id,
    mod: dc.mtimeSecs,
    name: dc.name,
    usn: dc.usn,
    maxTaken: i.capAnswerTimeToSecs,
    autoplay: !i.disableAutoplay,
    timer: i.showTimer ? 1 : 0,
    replayq: !i.skipQuestionWhenReplayingAnswer,
    new: {
      bury: i.buryNew,
      delays: fl(i.learnSteps),
      initialFactor: Math.trunc(Math.fround((i.initialEase as number) * 1000)) & 0xffff,
      ints: [(i.graduatingIntervalGood as number) & 0xffff, (i.graduatingIntervalEasy as number) & 0xffff, 0],
      order: i.newCardInsertOrder === 1 ? 0 : 1,
      perDay: i.newPerDay,
      ...newOther,
    },
    rev: {
      bury: i.buryReviews,
      ease4: f32ToNumber(i.easyMultiplier as number),
      ivlFct: f32ToNumber(i.intervalMultiplier as number),
      maxIvl: i.maximumReviewInterval,
      perDay: i.reviewsPerDay,
      hardFactor: f32ToNumber(i.hardMultiplier as number),
      ...revOther,
    },
    lapse: {
      delays: fl(i.relearnSteps),
      leechAction: i.leechAction === 1 ? 1 : 0,
      leechFails: i.leechThreshold,
      minInt: i.minimumLapseInterval,
      mult: f32ToNumber(i.lapseMultiplier as number),
      ...lapseOther,
    },
    dyn: false,
    newMix: i.newMix,
    newPerDayMinimum: i.newPerDayMinimum,
    interdayLearningMix: i.interdayLearningMix,
    reviewOrder: i.reviewOrder,
    newSortOrder: i.newCardSortOrder,
    newGatherPriority: i.newCardGatherPriority,
    buryInterdayLearning: i.buryInterdayLearning,
    fsrsWeights: fl(i.fsrsParams4),
    fsrsParams5: fl(i.fsrsParams5),
    fsrsParams6: fl(i.fsrsParams6),
    desiredRetention: f32ToNumber(i.desiredRetention as number),
    ignoreRevlogsBeforeDate: i.ignoreRevlogsBeforeDate,
    easyDaysPercentages: fl(i.easyDaysPercentages),
    stopTimerOnAnswer: i.stopTimerOnAnswer,
    secondsToShowQuestion: f32ToNumber(i.secondsToShowQuestion as number),
    secondsToShowAnswer: f32ToNumber(i.secondsToShowAnswer as number),
    questionAction: (i.questionAction as number) === 1 ? 1 : 0,
    answerAction: [1, 2, 3, 4].includes(i.answerAction as number) ? i.answerAction : 0,
    waitForAudio: i.waitForAudio,
    sm2Retention: f32ToNumber(i.historicalRetention as number),
    weightSearch: i.paramSearch,
    ...top,
  };
}
