/**
 * Deck option presets (schema 18: `deck_config` rows with a protobuf `config`) <-> schema-11
 * JSON (doc §4.5). Field numbers from Anki's deck_config.proto; JSON keys and their quirks
 * (inverted booleans, initial ease ×1000, new-card order 0=random/1=due) from the schema-11 format.
 */
import { PbMessage, PbWriter, f32ToJson } from '../protobuf.js';
import { bool, floats, num, readOther, str, writeOther } from './other.js';

export interface DeckConfigRow {
  id: number;
  name: string;
  mtime_secs: number;
  usn: number;
  config: Buffer;
}

const TOP_KEYS = new Set([
  'id', 'mod', 'name', 'usn', 'maxTaken', 'autoplay', 'timer', 'replayq', 'new', 'rev', 'lapse', 'dyn',
  'newMix', 'newPerDayMinimum', 'interdayLearningMix', 'reviewOrder', 'newSortOrder', 'newGatherPriority',
  'buryInterdayLearning', 'fsrsWeights', 'fsrsParams5', 'fsrsParams6', 'desiredRetention', 'ignoreRevlogsBeforeDate',
  'easyDaysPercentages', 'stopTimerOnAnswer', 'secondsToShowQuestion', 'secondsToShowAnswer', 'questionAction',
  'answerAction', 'waitForAudio', 'sm2Retention', 'weightSearch',
]);
const NEW_KEYS = new Set(['bury', 'delays', 'initialFactor', 'ints', 'order', 'perDay']);
const REV_KEYS = new Set(['bury', 'ease4', 'ivlFct', 'maxIvl', 'perDay', 'hardFactor']);
const LAPSE_KEYS = new Set(['delays', 'leechAction', 'leechFails', 'minInt', 'mult']);

const f = (v: number): number => f32ToJson(v);

export function deckConfigRowToJson(row: DeckConfigRow): Record<string, unknown> {
  const c = PbMessage.decode(row.config);
  const other = readOther(c.bytes(255), TOP_KEYS);
  const sub = (k: string, reserved: Set<string>): Record<string, unknown> => {
    const v = other[k];
    delete other[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter(([key]) => !reserved.has(key)));
  };
  const newOther = sub('new', NEW_KEYS);
  const revOther = sub('rev', REV_KEYS);
  const lapseOther = sub('lapse', LAPSE_KEYS);
  return {
    ...other,
    id: row.id,
    mod: row.mtime_secs,
    name: row.name,
    usn: row.usn,
    maxTaken: c.uint(24),
    autoplay: !c.bool(23),
    timer: c.bool(25) ? 1 : 0,
    replayq: !c.bool(26),
    new: {
      ...newOther,
      bury: c.bool(27),
      delays: c.floats(1).map(f),
      initialFactor: Math.trunc(c.float(11) * 1000),
      ints: [c.uint(18), c.uint(19), 0],
      order: c.int(20) === 1 ? 0 : 1,
      perDay: c.uint(9),
    },
    rev: {
      ...revOther,
      bury: c.bool(28),
      ease4: f(c.float(12)),
      ivlFct: f(c.float(15)),
      maxIvl: c.uint(16),
      perDay: c.uint(10),
      hardFactor: f(c.float(13)),
    },
    lapse: {
      ...lapseOther,
      delays: c.floats(2).map(f),
      leechAction: c.int(21) === 1 ? 1 : 0,
      leechFails: c.uint(22),
      minInt: c.uint(17),
      mult: f(c.float(14)),
    },
    dyn: false,
    newMix: c.int(30),
    newPerDayMinimum: c.uint(35),
    interdayLearningMix: c.int(31),
    reviewOrder: c.int(33),
    newSortOrder: c.int(32),
    newGatherPriority: c.int(34),
    buryInterdayLearning: c.bool(29),
    fsrsWeights: c.floats(3).map(f),
    fsrsParams5: c.floats(5).map(f),
    fsrsParams6: c.floats(6).map(f),
    desiredRetention: f(c.float(37)),
    ignoreRevlogsBeforeDate: c.str(46),
    easyDaysPercentages: c.floats(4).map(f),
    stopTimerOnAnswer: c.bool(38),
    secondsToShowQuestion: f(c.float(41)),
    secondsToShowAnswer: f(c.float(42)),
    questionAction: c.int(36),
    answerAction: c.int(43),
    waitForAudio: c.bool(44),
    sm2Retention: f(c.float(40)),
    weightSearch: c.str(45),
  };
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function deckConfigJsonToRow(j: Record<string, unknown>): DeckConfigRow {
  const nw = obj(j.new);
  const rev = obj(j.rev);
  const lapse = obj(j.lapse);
  const ints = Array.isArray(nw.ints) && nw.ints.length >= 2 ? nw.ints.map((x) => num(x)) : [1, 4];
  const otherJson: Record<string, unknown> = Object.fromEntries(Object.entries(j).filter(([k]) => !TOP_KEYS.has(k)));
  const nestedOther = (o: Record<string, unknown>, keys: Set<string>): Record<string, unknown> | undefined => {
    const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !keys.has(k)));
    return Object.keys(rest).length ? rest : undefined;
  };
  const no = nestedOther(nw, NEW_KEYS);
  if (no) otherJson.new = no;
  const ro = nestedOther(rev, REV_KEYS);
  if (ro) otherJson.rev = ro;
  const lo = nestedOther(lapse, LAPSE_KEYS);
  if (lo) otherJson.lapse = lo;
  const w = new PbWriter()
    .floats(1, floats(nw.delays, [1, 10]))
    .floats(2, floats(lapse.delays, [10]))
    .floats(3, floats(j.fsrsWeights))
    .floats(4, floats(j.easyDaysPercentages))
    .floats(5, floats(j.fsrsParams5))
    .floats(6, floats(j.fsrsParams6))
    .int(9, num(nw.perDay, 20))
    .int(10, num(rev.perDay, 200))
    .float(11, num(nw.initialFactor, 2500) / 1000)
    .float(12, num(rev.ease4, 1.3))
    .float(13, num(rev.hardFactor, 1.2))
    .float(14, num(lapse.mult, 0))
    .float(15, num(rev.ivlFct, 1))
    .int(16, num(rev.maxIvl, 36500))
    .int(17, num(lapse.minInt, 1))
    .int(18, ints[0] as number)
    .int(19, ints[1] as number)
    .int(20, num(nw.order, 1) === 0 ? 1 : 0)
    .int(21, num(lapse.leechAction, 1) === 1 ? 1 : 0)
    .int(22, num(lapse.leechFails, 8))
    .bool(23, !bool(j.autoplay, true))
    .int(24, Math.max(0, num(j.maxTaken, 60)))
    .bool(25, num(j.timer) !== 0)
    .bool(26, !bool(j.replayq, true))
    .bool(27, bool(nw.bury))
    .bool(28, bool(rev.bury))
    .bool(29, bool(j.buryInterdayLearning))
    .int(30, num(j.newMix))
    .int(31, num(j.interdayLearningMix))
    .int(32, num(j.newSortOrder))
    .int(33, num(j.reviewOrder))
    .int(34, num(j.newGatherPriority))
    .int(35, num(j.newPerDayMinimum))
    .int(36, num(j.questionAction))
    .float(37, num(j.desiredRetention, 0.9))
    .bool(38, bool(j.stopTimerOnAnswer))
    .float(40, num(j.sm2Retention, 0.9))
    .float(41, num(j.secondsToShowQuestion))
    .float(42, num(j.secondsToShowAnswer))
    .int(43, num(j.answerAction))
    .bool(44, bool(j.waitForAudio, true))
    .str(45, str(j.weightSearch))
    .str(46, str(j.ignoreRevlogsBeforeDate))
    .bytes(255, writeOther(otherJson, new Set()));
  return {
    id: Math.trunc(num(j.id)),
    name: str(j.name),
    mtime_secs: Math.trunc(num(j.mod)),
    usn: Math.trunc(num(j.usn)),
    config: w.finish(),
  };
}
