/**
 * The pair state (DESIGN.md "The state model behind the guard"): per (desktop profile, phone) the
 * base — a fingerprint plus a snapshot file in the data folder — and the package pushed but not
 * yet seen imported on the phone. The base only moves when both sides are known to hold the same
 * content (moveBase is called with a collection file that both sides are known to equal).
 */
import type { Database } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Fingerprint, FingerprintFacts } from '../../apkg/collection/fingerprint.js';
import type { CollectionSummary } from '../../apkg/collection/summary.js';
import { copyFileDurable } from '../../apkg/desktop/durable-copy.js';

/** How a phone is known: its USB serial plus what its MTP device info says. */
export interface PhoneIdentity {
  serial: string;
  manufacturer?: string;
  model?: string;
  /** For people: "Pixel 7". */
  label: string;
}

export interface PendingPush {
  fingerprint: Fingerprint;
  /** Local copy of the pushed collection (becomes the base once the phone shows it). */
  snapshot: string;
  phonePath: string;
  /** The phone's content digest when the package was sent: while the phone still shows it, it has not imported. */
  phoneDigest?: string;
  /** The phone's facts then (compared first: they tell most changes without a digest). */
  phoneFacts?: FingerprintFacts;
  pushedAt: number;
  txnId: string;
}

export interface PairRecord {
  id: string;
  profile: string;
  phoneId: string;
  phoneLabel: string;
  base: { fingerprint: Fingerprint; snapshot: string; at: number } | null;
  desktopScm: number | null;
  phoneScm: number | null;
  pending: PendingPush | null;
}

export interface HistoryEntry {
  seq: number;
  pairId: string;
  at: number;
  kind: string;
  state: string;
  txnId: string | null;
  desktop: CollectionSummary | null;
  phone: CollectionSummary | null;
  note: string | null;
}

export function phoneKey(p: PhoneIdentity): string {
  return [p.serial, p.manufacturer ?? '', p.model ?? ''].join('|');
}

export function pairIdOf(profile: string, phone: PhoneIdentity): string {
  return createHash('sha256').update(`${profile}\0${phoneKey(phone)}`).digest('hex').slice(0, 16);
}

interface Row {
  id: string;
  profile: string;
  phone_id: string;
  phone_label: string;
  base_fingerprint: string | null;
  base_snapshot: string | null;
  base_at: number | null;
  desktop_scm: number | null;
  phone_scm: number | null;
  pending: string | null;
}

export class PairStore {
  constructor(
    private readonly db: Database,
    /** `<dataDir>/usb-sync`: one folder per pair with its base and pending snapshots. */
    readonly root: string,
  ) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
  }

  dirOf(pairId: string): string {
    return path.join(this.root, pairId);
  }

  get(pairId: string): PairRecord | undefined {
    const r = this.db.prepare('SELECT * FROM usb_sync_pairs WHERE id = ?').get(pairId) as Row | undefined;
    return r && toRecord(r);
  }

  ensure(profile: string, phone: PhoneIdentity): PairRecord {
    const id = pairIdOf(profile, phone);
    this.db
      .prepare(
        `INSERT INTO usb_sync_pairs (id, profile, phone_id, phone_label, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET phone_label = excluded.phone_label`,
      )
      .run(id, profile, phoneKey(phone), phone.label, Date.now());
    return this.get(id) as PairRecord;
  }

  /**
   * Both sides hold the content of `collection` now: it becomes the base (copied durably into the
   * pair's folder first, then the row is updated in one statement), and any pending push is settled.
   */
  moveBase(pairId: string, a: { collection: string; fingerprint: Fingerprint; desktopScm: number | null; phoneScm: number | null }): void {
    const dir = this.dirOf(pairId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `base-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.anki2`;
    const tmp = path.join(dir, `${name}.tmp`);
    copyFileDurable(a.collection, tmp);
    renameSync(tmp, path.join(dir, name));
    const before = this.get(pairId);
    this.db
      .prepare('UPDATE usb_sync_pairs SET base_fingerprint = ?, base_snapshot = ?, base_at = ?, desktop_scm = ?, phone_scm = ?, pending = NULL, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(a.fingerprint), path.join(dir, name), Date.now(), a.desktopScm, a.phoneScm, Date.now(), pairId);
    // The old base and a settled pending snapshot are no longer needed.
    if (before?.base && before.base.snapshot !== path.join(dir, name)) rmSync(before.base.snapshot, { force: true });
    if (before?.pending && before.pending.snapshot !== a.collection) rmSync(before.pending.snapshot, { force: true });
  }

  setPending(pairId: string, pending: PendingPush | null): void {
    this.db.prepare('UPDATE usb_sync_pairs SET pending = ?, updated_at = ? WHERE id = ?').run(pending === null ? null : JSON.stringify(pending), Date.now(), pairId);
  }

  setDesktopScm(pairId: string, scm: number): void {
    this.db.prepare('UPDATE usb_sync_pairs SET desktop_scm = ?, updated_at = ? WHERE id = ?').run(scm, Date.now(), pairId);
  }

  record(e: Omit<HistoryEntry, 'seq' | 'at'>): void {
    this.db
      .prepare('INSERT INTO usb_sync_history (pair_id, at, kind, state, txn_id, desktop_summary, phone_summary, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.pairId, Date.now(), e.kind, e.state, e.txnId, e.desktop && JSON.stringify(e.desktop), e.phone && JSON.stringify(e.phone), e.note);
  }

  history(pairId?: string, limit = 100): HistoryEntry[] {
    const rows = (
      pairId === undefined
        ? this.db.prepare('SELECT * FROM usb_sync_history ORDER BY seq DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM usb_sync_history WHERE pair_id = ? ORDER BY seq DESC LIMIT ?').all(pairId, limit)
    ) as Array<{ seq: number; pair_id: string; at: number; kind: string; state: string; txn_id: string | null; desktop_summary: string | null; phone_summary: string | null; note: string | null }>;
    return rows.map((r) => ({
      seq: r.seq,
      pairId: r.pair_id,
      at: r.at,
      kind: r.kind,
      state: r.state,
      txnId: r.txn_id,
      desktop: r.desktop_summary === null ? null : (JSON.parse(r.desktop_summary) as CollectionSummary),
      phone: r.phone_summary === null ? null : (JSON.parse(r.phone_summary) as CollectionSummary),
      note: r.note,
    }));
  }
}

function toRecord(r: Row): PairRecord {
  return {
    id: r.id,
    profile: r.profile,
    phoneId: r.phone_id,
    phoneLabel: r.phone_label,
    base:
      r.base_fingerprint === null || r.base_snapshot === null
        ? null
        : { fingerprint: JSON.parse(r.base_fingerprint) as Fingerprint, snapshot: r.base_snapshot, at: r.base_at ?? 0 },
    desktopScm: r.desktop_scm,
    phoneScm: r.phone_scm,
    pending: r.pending === null ? null : (JSON.parse(r.pending) as PendingPush),
  };
}
