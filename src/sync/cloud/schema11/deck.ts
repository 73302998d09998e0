/**
 * Deck rows (schema 18: `decks` table with protobuf `common` and `kind`) <-> schema-11 deck JSON,
 * the form the sync protocol carries (doc §4.5). Facts from Anki's decks.proto (field numbers)
 * and the schema-11 deck format; the Python `anki` package is the oracle in tests.
 */
import { PbMessage, PbWriter, f32ToJson } from '../protobuf.js';
import { bool, floats, num, readOther, str, writeOther } from './other.js';

export interface DeckRow {
  id: number;
  name: string;
  mtime_secs: number;
  usn: number;
  common: Buffer;
  kind: Buffer;
}

const COMMON_KEYS = new Set(['id', 'mod', 'name', 'usn', 'lrnToday', 'revToday', 'newToday', 'timeToday', 'collapsed', 'browserCollapsed', 'desc', 'md', 'dyn']);
const NORMAL_KEYS = new Set([...COMMON_KEYS, 'conf', 'extendNew', 'extendRev', 'reviewLimit', 'newLimit', 'reviewLimitToday', 'newLimitToday', 'desiredRetention']);
const FILTERED_KEYS = new Set([...COMMON_KEYS, 'resched', 'terms', 'separate', 'delays', 'previewDelay', 'previewAgainSecs', 'previewHardSecs', 'previewGoodSecs', 'return']);

/** Schema 18 stores "A::B" as "A\x1fB". */
export const nativeDeckName = (human: string): string => human.split('::').join('\x1f');
export const humanDeckName = (native: string): string => native.split('\x1f').join('::');

function dayLimitJson(m: PbMessage | undefined): unknown {
  return m ? { limit: m.uint(1), today: m.uint(2) } : null;
}

export function deckRowToJson(row: DeckRow): Record<string, unknown> {
  const common = PbMessage.decode(row.common);
  const kind = PbMessage.decode(row.kind);
  const day = common.uint(3);
  const filtered = kind.msg(2);
  const normal = kind.msg(1) ?? (filtered ? undefined : new PbMessage());
  const other = readOther(common.bytes(255), normal ? NORMAL_KEYS : FILTERED_KEYS);
  for (const k of ['reviewLimit', 'newLimit', 'reviewLimitToday', 'newLimitToday']) delete other[k];
  const out: Record<string, unknown> = {
    ...other,
    id: row.id,
    mod: row.mtime_secs,
    name: humanDeckName(row.name),
    usn: row.usn,
    lrnToday: [day, common.int(6)],
    revToday: [day, common.int(5)],
    newToday: [day, common.int(4)],
    timeToday: [day, common.int(7)],
    collapsed: common.bool(1),
    browserCollapsed: common.bool(2),
    desc: normal ? normal.str(4) : '',
    dyn: normal ? 0 : 1,
  };
  if (normal) {
    if (normal.bool(5)) out.md = true;
    out.conf = normal.int(1);
    out.extendNew = normal.uint(2);
    out.extendRev = normal.uint(3);
    out.reviewLimit = normal.has(6) ? normal.uint(6) : null;
    out.newLimit = normal.has(7) ? normal.uint(7) : null;
    out.reviewLimitToday = dayLimitJson(normal.msg(8));
    out.newLimitToday = dayLimitJson(normal.msg(9));
    out.desiredRetention = normal.has(10) ? f32ToJson(normal.float(10)) : null;
  } else if (filtered) {
    out.resched = filtered.bool(1);
    out.terms = filtered.msgs(2).map((t) => [t.str(1), t.uint(2), t.int(3)]);
    out.separate = true;
    const delays = filtered.floats(3).map(f32ToJson);
    out.delays = delays.length ? delays : null;
    out.previewDelay = filtered.uint(4);
    out.previewAgainSecs = filtered.uint(7);
    out.previewHardSecs = filtered.uint(5);
    out.previewGoodSecs = filtered.uint(6);
  }
  return out;
}

function today(v: unknown): [number, number] {
  const a = Array.isArray(v) ? v : [];
  return [Math.trunc(num(a[0])), Math.trunc(num(a[1]))];
}

function dayLimit(v: unknown): PbWriter | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  return new PbWriter().int(1, num(o.limit)).int(2, num(o.today));
}

export function deckJsonToRow(j: Record<string, unknown>): DeckRow {
  const isFiltered = j.dyn === true || num(j.dyn) === 1;
  // Items counted on an earlier day than the newest one are reset (schema-11 keeps one day per counter).
  const [lrnDay, lrn] = today(j.lrnToday);
  const [revDay, rev] = today(j.revToday);
  const [newDay, nw] = today(j.newToday);
  const [timeDay, time] = today(j.timeToday);
  const maxDay = Math.max(timeDay, newDay, revDay);
  const common = new PbWriter()
    .bool(1, bool(j.collapsed))
    .bool(2, bool(j.browserCollapsed))
    .int(3, Math.max(0, maxDay))
    .int(4, newDay === maxDay ? nw : 0)
    .int(5, revDay === maxDay ? rev : 0)
    .int(6, lrnDay === maxDay ? lrn : 0)
    .int(7, time)
    .bytes(255, writeOther(j, isFiltered ? FILTERED_KEYS : NORMAL_KEYS));
  let kind: PbWriter;
  if (isFiltered) {
    const f = new PbWriter().bool(1, bool(j.resched));
    for (const t of Array.isArray(j.terms) ? j.terms : []) {
      const a = Array.isArray(t) ? t : [];
      f.msg(2, new PbWriter().str(1, str(a[0])).int(2, Math.max(0, num(a[1]))).int(3, num(a[2])));
    }
    f.floats(3, floats(j.delays)).int(4, num(j.previewDelay)).int(5, num(j.previewHardSecs)).int(6, num(j.previewGoodSecs)).int(7, num(j.previewAgainSecs));
    kind = new PbWriter().msg(2, f);
  } else {
    const n = new PbWriter()
      .int(1, num(j.conf, 1))
      .int(2, Math.max(0, num(j.extendNew)))
      .int(3, Math.max(0, num(j.extendRev)))
      .str(4, str(j.desc))
      .bool(5, bool(j.md));
    if (j.reviewLimit !== null && j.reviewLimit !== undefined) n.int(6, num(j.reviewLimit), true);
    if (j.newLimit !== null && j.newLimit !== undefined) n.int(7, num(j.newLimit), true);
    const rlt = dayLimit(j.reviewLimitToday);
    if (rlt) n.msg(8, rlt);
    const nlt = dayLimit(j.newLimitToday);
    if (nlt) n.msg(9, nlt);
    if (j.desiredRetention !== null && j.desiredRetention !== undefined) n.float(10, num(j.desiredRetention), true);
    kind = new PbWriter().msg(1, n);
  }
  return {
    id: Math.trunc(num(j.id)),
    name: nativeDeckName(str(j.name)),
    mtime_secs: Math.trunc(num(j.mod)),
    usn: Math.trunc(num(j.usn)),
    common: common.finish(),
    kind: kind.finish(),
  };
}
