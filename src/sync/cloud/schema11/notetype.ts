/**
 * Note types (schema 18: `notetypes` + `fields` + `templates` rows, protobuf configs) <->
 * schema-11 JSON (doc §4.5). Field numbers from Anki's notetypes.proto; JSON keys from the
 * schema-11 format. Field/template ids are i64 and kept exact (bigint where needed).
 */
import { PbMessage, PbWriter } from '../protobuf.js';
import { bool, int64, num, readOther, str, writeOther } from './other.js';

export interface NotetypeRows {
  notetype: { id: number; name: string; mtime_secs: number; usn: number; config: Buffer };
  fields: { ntid: number; ord: number; name: string; config: Buffer }[];
  templates: { ntid: number; ord: number; name: string; mtime_secs: number; usn: number; config: Buffer }[];
}

const NT_KEYS = new Set(['latexPost', 'flds', 'css', 'originalStockKind', 'originalId', 'id', 'usn', 'mod', 'req', 'latexPre', 'name', 'did', 'tmpls', 'type', 'sortf', 'latexsvg']);
const FIELD_KEYS = new Set(['name', 'ord', 'sticky', 'rtl', 'plainText', 'font', 'size', 'collapsed', 'description', 'excludeFromSearch', 'id', 'tag', 'preventDeletion']);
const TEMPLATE_KEYS = new Set(['name', 'ord', 'did', 'afmt', 'bafmt', 'qfmt', 'bqfmt', 'bfont', 'bsize', 'id']);
const REQ_KINDS = ['none', 'any', 'all'];

export function notetypeRowsToJson(r: NotetypeRows): Record<string, unknown> {
  const c = PbMessage.decode(r.notetype.config);
  const did = c.int(4);
  const out: Record<string, unknown> = {
    ...readOther(c.bytes(255), NT_KEYS),
    id: r.notetype.id,
    name: r.notetype.name,
    type: c.int(1) === 1 ? 1 : 0,
    mod: r.notetype.mtime_secs,
    usn: r.notetype.usn,
    sortf: c.uint(2),
    did: did === 0 ? null : did,
    tmpls: [...r.templates].sort((a, b) => a.ord - b.ord).map((t) => {
      const tc = PbMessage.decode(t.config);
      const tdid = tc.int(5);
      return {
        ...readOther(tc.bytes(255), TEMPLATE_KEYS),
        name: t.name,
        ord: t.ord,
        qfmt: tc.str(1),
        afmt: tc.str(2),
        bqfmt: tc.str(3),
        bafmt: tc.str(4),
        did: typeof tdid === 'bigint' || tdid > 0 ? tdid : null,
        bfont: tc.str(6),
        bsize: tc.uint(7) & 0xff,
        id: tc.has(8) ? tc.int(8) : null,
      };
    }),
    flds: [...r.fields].sort((a, b) => a.ord - b.ord).map((fl) => {
      const fc = PbMessage.decode(fl.config);
      return {
        ...readOther(fc.bytes(255), FIELD_KEYS),
        name: fl.name,
        ord: fl.ord,
        sticky: fc.bool(1),
        rtl: fc.bool(2),
        font: fc.str(3),
        size: fc.uint(4) & 0xffff,
        description: fc.str(5),
        plainText: fc.bool(6),
        collapsed: fc.bool(7),
        excludeFromSearch: fc.bool(8),
        id: fc.has(9) ? fc.int(9) : null,
        tag: fc.has(10) ? fc.uint(10) : null,
        preventDeletion: fc.bool(11),
      };
    }),
    css: c.str(3),
    latexPre: c.str(5),
    latexPost: c.str(6),
    latexsvg: c.bool(7),
    req: c.msgs(8).map((q) => [q.uint(1), REQ_KINDS[q.uint(2)] ?? 'none', q.uints(3)]),
  };
  const stock = c.int(9);
  if (stock !== 0) out.originalStockKind = stock;
  if (c.has(10)) out.originalId = c.int(10);
  return out;
}

function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}

export function notetypeJsonToRows(j: Record<string, unknown>): NotetypeRows {
  const id = Math.trunc(num(j.id));
  const mtime = Math.trunc(num(j.mod));
  const usn = Math.trunc(num(j.usn));
  const cfg = new PbWriter()
    .int(1, num(j.type) === 1 ? 1 : 0)
    .int(2, num(j.sortf))
    .str(3, str(j.css))
    .int(4, j.did === null || j.did === undefined ? 0 : int64(j.did))
    .str(5, str(j.latexPre))
    .str(6, str(j.latexPost))
    .bool(7, bool(j.latexsvg));
  for (const q of Array.isArray(j.req) ? j.req : []) {
    const a = Array.isArray(q) ? q : [];
    cfg.msg(8, new PbWriter().int(1, num(a[0])).int(2, Math.max(0, REQ_KINDS.indexOf(str(a[1])))).uints(3, Array.isArray(a[2]) ? a[2].map((x) => num(x)) : []));
  }
  cfg.int(9, num(j.originalStockKind));
  if (j.originalId !== null && j.originalId !== undefined) cfg.int(10, int64(j.originalId), true);
  cfg.bytes(255, writeOther(j, NT_KEYS));
  const fields = list(j.flds).map((fl, i) => {
    const w = new PbWriter()
      .bool(1, bool(fl.sticky))
      .bool(2, bool(fl.rtl))
      .str(3, str(fl.font))
      .int(4, num(fl.size))
      .str(5, str(fl.description))
      .bool(6, bool(fl.plainText))
      .bool(7, bool(fl.collapsed))
      .bool(8, bool(fl.excludeFromSearch));
    if (fl.id !== null && fl.id !== undefined) w.int(9, int64(fl.id), true);
    if (fl.tag !== null && fl.tag !== undefined) w.int(10, num(fl.tag), true);
    w.bool(11, bool(fl.preventDeletion)).bytes(255, writeOther(fl, FIELD_KEYS));
    return { ntid: id, ord: i, name: str(fl.name), config: w.finish() };
  });
  const templates = list(j.tmpls).map((t, i) => {
    const w = new PbWriter()
      .str(1, str(t.qfmt))
      .str(2, str(t.afmt))
      .str(3, str(t.bqfmt))
      .str(4, str(t.bafmt))
      .int(5, t.did === null || t.did === undefined ? 0 : int64(t.did))
      .str(6, str(t.bfont))
      .int(7, num(t.bsize));
    if (t.id !== null && t.id !== undefined) w.int(8, int64(t.id), true);
    w.bytes(255, writeOther(t, TEMPLATE_KEYS));
    return { ntid: id, ord: i, name: str(t.name), mtime_secs: mtime, usn, config: w.finish() };
  });
  return { notetype: { id, name: str(j.name), mtime_secs: mtime, usn, config: cfg.finish() }, fields, templates };
}
