// The oracle for the merge: two real Anki clients (one peer process) and Anki's own sync
// server. A pair starts from one base: client A (the desktop) full-uploads it, client B (the
// phone) full-downloads it. After edits on both, (a) A, B, A sync through the server; (b) our
// merge of (base, A-before-sync, B-before-sync) is dumped; the two must be equal (ignoring sync
// bookkeeping and media files, which the merge does not move).
//
// What (a) is, exactly: the collection the server holds after those three syncs — what AnkiWeb
// would keep and hand to any device that syncs or downloads next. The desktop after its second
// sync holds exactly that (runCase checks it on every case and reports a difference). The phone
// is not always the same: on a tie (both sides saved an object in the same second) each real
// client keeps a different version and Anki never reconciles them by itself —
// - decks, deck presets, note types: the receiver replaces when `existing.mtime <= incoming`
//   (rslib sync/collection/changes.rs). The server takes the phone's (it arrives second); the
//   phone, applying the server's list (made before the phone's were applied), takes the
//   desktop's; the desktop's second sync then brings it the phone's. Server = desktop = phone's
//   version; the phone keeps the desktop's.
// - notes, cards: the receiver keeps its own pending row unless the incoming is strictly newer
//   (chunks.rs, is_pending_sync; on the server "pending" = changed since the client's last
//   sync). The phone keeps its own; the server keeps the desktop's and never sends it to the
//   phone again. Server = desktop = desktop's version; the phone keeps its own.
// The outcome is a function of the three files (mod times, and usn -1 = "changed since the last
// sync"), not of timing; what depends on timing is only whether two saves land in one second.
// So the reference is the server's collection, the only state both clients take their next
// changes from; continuePair counts the ties that left the two clients different.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AnkiPeer, startSyncServer, type CanonicalDump, type PeerOp, type SyncServer } from '../peer/peer.js';
import { mergeCollections, type MergeReport } from '../../src/apkg/merge/index.js';
import { checkInvariants } from './invariants.js';
import { openCollectionDb } from '../../src/apkg/sqlite.js';

/** Ops of the peer plus the merge engineer's additive op (see anki_peer.py op_edit_note_type). */
export type Op = PeerOp | { op: 'editNoteType'; noteType?: 'basic' | 'reversed' | 'cloze'; css?: string; qfmt?: string };

export interface Pair {
  dir: string;
  a: string;
  b: string;
  /** Copy of the state both clients agree on. */
  base: string;
  baseDump: CanonicalDump;
}

export interface CaseResult {
  oracle: CanonicalDump;
  merged: CanonicalDump;
  report: MergeReport;
  check: { ok: boolean; problems: string[] };
  /** Anki's check of the synced (oracle) collection, run only when the dumps differed or the merged file's check found something. */
  oracleCheck?: { ok: boolean; problems: string[] };
  /** Where oracle and merged differ (empty = equal); see runCase for the repaired-oracle case. */
  diff: string[];
  invariants: string[];
  files: { base: string; desktop: string; phone: string; merged: string };
}

function copyCollection(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  for (const f of ['-wal', '-journal', '']) rmSync(to + f, { force: true });
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
}

/**
 * Config keys a normal sync writes by itself on the client, not user data: `lastUnburied`
 * (the sync unburies cards when the day rolled over and records the day) and `rollover`
 * (written with its default when the sync computes the scheduler's day). Observed on every
 * oracle run; they say when the last sync happened, which a merge is not.
 */
export const SYNC_WRITTEN_CONFIG = ['lastUnburied', 'rollover'];

/** `pragma integrity_check` of a file (with unicase loaded, as the schema-18 indexes need). */
export function integrityCheck(file: string): string {
  const db = openCollectionDb(file, { readonly: true });
  try {
    return (db.pragma('integrity_check', { simple: false }) as Record<string, string>[]).map((r) => Object.values(r)[0]).join('; ');
  } finally {
    db.close();
  }
}

/** What the comparison leaves out: media files (the merge moves no files) and SYNC_WRITTEN_CONFIG. */
export function comparable(d: CanonicalDump): Omit<CanonicalDump, 'media'> {
  const { media: _media, ...rest } = d;
  const config = { ...rest.config };
  for (const k of SYNC_WRITTEN_CONFIG) delete config[k];
  return { ...rest, config };
}

const USER = 'merge';
/**
 * A stopped clock (see Oracle.freeze) puts the base's ops at T.000, the side edited first at
 * T + FIRST, the other at T + SECOND and lets the clock run from T + RESUME at the earliest. One
 * second for all mod times; distinct ms for review log ids (one id is one row: a collision would
 * drop a review on both routes, an artifact of a stopped clock, not something real clocks do);
 * and the server's next stamps come after every edit, as when edits come before the syncs.
 */
const FROZEN = { FIRST: 0.1, SECOND: 0.35, RESUME: 0.5 };

/** Seconds from `now` to the next 12:00 local time (0 at noon itself). */
export function secondsToNextNoon(now: Date): number {
  const noon = new Date(now);
  noon.setHours(12, 0, 0, 0);
  if (noon.getTime() < now.getTime()) noon.setDate(noon.getDate() + 1);
  return Math.round((noon.getTime() - now.getTime()) / 1000);
}

export class Oracle {
  /** How often continuePair found the two clients different after syncing (Anki's tie rules). */
  resyncs = 0;

  private constructor(
    readonly peer: AnkiPeer,
    readonly server: SyncServer,
    private readonly auth: { endpoint: string; hkey: string },
    readonly root: string,
  ) {}

  /**
   * The peer (both clients) and the sync server run on one fake clock (libfaketime, the same
   * timestamp file): `between` and freeze move it for all three at once, with no sleeping and
   * no skew between the clients and the server (whose col mod, in ms, decides whose collection
   * config travels). It starts at the next local noon: Anki's day starts at 4:00 local time, and
   * a run that crossed it (a CI run at 03:59) saw "today" change between a base and the edits
   * made in its second (deck counters, relearning) and failed a same-second scenario.
   */
  static async start(root: string): Promise<Oracle> {
    const peer = await AnkiPeer.start({ fakeClock: true, clockOffset: secondsToNextNoon(new Date()) });
    let server: SyncServer | undefined;
    try {
      server = await startSyncServer({ users: [{ user: USER, password: 'pw' }], clockFile: peer.clockFile });
      const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: USER, password: 'pw' });
      return new Oracle(peer, server, { endpoint: server.endpoint, hkey }, root);
    } catch (e) {
      await peer.close();
      await server?.stop();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.server.stop();
    await this.peer.close();
  }

  modify(file: string, ops: Op[], seed = 0): Promise<{ applied: number }> {
    return this.peer.call('modify', { path: file, ops, seed }, 120_000);
  }

  private sync(file: string): Promise<{ required: string; did: string }> {
    return this.peer.sync({ path: file, ...this.auth });
  }

  /** A full-uploads a copy of `source`, B downloads it: both now agree; base = copy of A. */
  async freshPair(source: string, name: string): Promise<Pair> {
    const dir = path.join(this.root, name);
    rmSync(dir, { recursive: true, force: true });
    const a = path.join(dir, 'a', 'collection.anki2');
    const b = path.join(dir, 'b', 'collection.anki2');
    copyCollection(source, a);
    await this.peer.fullSync({ path: a, ...this.auth, direction: 'upload' });
    await this.peer.fullSync({ path: b, ...this.auth, direction: 'download' });
    const base = path.join(dir, 'base.anki2');
    copyCollection(a, base);
    return { dir, a, b, base, baseDump: await this.peer.dump(base, { ignoreSync: true }) };
  }

  /**
   * Stops the shared clock at T, the next whole second (after every stamp so far); runCase with
   * `frozenAt: T` then makes both sides' edits in that second and lets the clock run again.
   */
  async freeze(): Promise<number> {
    const at = Math.floor((await this.peer.version()).now) + 1;
    await this.peer.freezeClock(at);
    return at;
  }

  /**
   * A base saved in the same second as the edits that follow: stops the clock at T, runs `ops`
   * on A, syncs A and B (both now agree; the server's stamps are T.000 too) and takes the new
   * base. Returns T; the clock stays stopped for runCase({ frozenAt: T }).
   */
  async sameSecondBase(pair: Pair, ops: Op[]): Promise<{ pair: Pair; at: number }> {
    const at = await this.freeze();
    try {
      if (ops.length) await this.modify(pair.a, ops);
      await this.sync(pair.a);
      await this.sync(pair.b);
      copyCollection(pair.a, pair.base);
      return { pair: { ...pair, baseDump: await this.peer.dump(pair.base, { ignoreSync: true }) }, at };
    } catch (e) {
      await this.peer.freezeClock(null);
      throw e;
    }
  }

  /** The server's collection (a copy with its WAL; the server is idle between syncs). */
  private async serverDump(dir: string): Promise<CanonicalDump> {
    const copy = path.join(dir, 'server-probe', 'collection.anki2');
    copyCollection(path.join(this.server.dataDir, USER, 'collection.anki2'), copy);
    return this.peer.dump(copy, { ignoreSync: true });
  }

  /**
   * After a case: sync B once more so both hold the server's state; if their dumps agree, the
   * pair continues from there (new base = A), else (Anki's tie rules can leave the two clients
   * different) a fresh pair is made from A.
   */
  async continuePair(pair: Pair, name: string): Promise<Pair> {
    await this.sync(pair.b);
    const [da, db] = await Promise.all([this.peer.dump(pair.a, { ignoreSync: true }), this.peer.dump(pair.b, { ignoreSync: true })]);
    if (JSON.stringify(comparable(da)) !== JSON.stringify(comparable(db))) {
      const from = path.join(this.root, `${name}-resync`, 'collection.anki2');
      copyCollection(pair.a, from); // freshPair clears the pair's folder
      this.resyncs++;
      return this.freshPair(from, name);
    }
    copyCollection(pair.a, pair.base);
    return { ...pair, baseDump: da };
  }

  /**
   * Edits on both clients (`first` side edited first), then both routes. The clock moves on
   * `between` seconds between the two sides' edits (note/card mod has 1 s resolution). With
   * `frozenAt` (from freeze or sameSecondBase) both sides' edits are made in that second
   * (`between` does not apply; see FROZEN), then the clock runs again.
   */
  async runCase(
    pair: Pair,
    c: { desktop: Op[]; phone: Op[]; first?: 'desktop' | 'phone'; between?: number; seed?: number; frozenAt?: number },
  ): Promise<CaseResult> {
    const seed = c.seed ?? 1;
    const steps: [string, Op[]][] = c.first === 'phone' ? [[pair.b, c.phone], [pair.a, c.desktop]] : [[pair.a, c.desktop], [pair.b, c.phone]];
    try {
      for (const [i, [file, ops]] of steps.entries()) {
        if (c.frozenAt !== undefined) await this.peer.freezeClock(c.frozenAt + (i === 0 ? FROZEN.FIRST : FROZEN.SECOND));
        // the shared clock jumps (server included); no sleeping
        else if (i === 1 && c.between) await this.modify(file, [{ op: 'advanceClock', seconds: c.between }]);
        if (ops.length) await this.modify(file, ops, seed + i);
      }
    } finally {
      if (c.frozenAt !== undefined) await this.peer.freezeClock(null, { notBefore: c.frozenAt + FROZEN.RESUME });
    }
    const files = {
      base: pair.base,
      desktop: path.join(pair.dir, 'desktop.anki2'),
      phone: path.join(pair.dir, 'phone.anki2'),
      merged: path.join(pair.dir, 'merged.anki2'),
    };
    copyCollection(pair.a, files.desktop);
    copyCollection(pair.b, files.phone);
    const report = mergeCollections({ base: files.base, desktop: files.desktop, phone: files.phone, out: files.merged });
    const invariants = checkInvariants(files);
    const integrity = integrityCheck(files.merged);
    if (integrity !== 'ok') invariants.push(`pragma integrity_check: ${integrity}`);
    // The route through Anki's own server.
    for (const f of [pair.a, pair.b, pair.a]) {
      const r = await this.sync(f);
      if (r.did !== 'normal' && r.did !== 'nothing') throw new Error(`sync of ${f} did not run a normal sync: ${JSON.stringify(r)}`);
    }
    const oracle = await this.serverDump(pair.dir);
    const desktopSynced = await this.peer.dump(pair.a, { ignoreSync: true });
    const desktopVsServer = dumpDiff(comparable(oracle), comparable(desktopSynced)).map((d) => `desktop after its sync vs the server: ${d}`);
    // Dump and check a copy: Anki's check may fix things and we want to see the file as written.
    const probe = path.join(pair.dir, 'probe', 'collection.anki2');
    copyCollection(files.merged, probe);
    const merged = await this.peer.dump(probe, { ignoreSync: true });
    const check = await this.peer.check(probe);
    let diff = dumpDiff(comparable(oracle), comparable(merged));
    // Anki's own sync can leave a collection that its Check Database repairs (a child deck whose
    // parent was renamed on the other side). The merge makes that repair itself; then the
    // reference is the synced collection after Anki's check, with the re-created decks matched
    // by name (their ids and times are new on both routes).
    let oracleCheck: { ok: boolean; problems: string[] } | undefined;
    if (diff.length || !check.ok) {
      const oprobe = path.join(pair.dir, 'oracle-probe', 'collection.anki2');
      copyCollection(path.join(this.server.dataDir, USER, 'collection.anki2'), oprobe);
      oracleCheck = await this.peer.check(oprobe);
      if (!oracleCheck.ok && diff.length) {
        // Both sides as Anki's check leaves them: the check also rebuilds the tag list (tags no
        // note uses are dropped), so the merged file is compared after the same (no-op for its
        // decks) check, which already ran on `probe` above.
        const repaired = await this.peer.dump(oprobe, { ignoreSync: true });
        const mergedChecked = await this.peer.dump(probe, { ignoreSync: true });
        diff = dumpDiff(decksByName(comparable(repaired), oracle), decksByName(comparable(mergedChecked), oracle));
      }
    }
    return { oracle, merged, report, check, oracleCheck, diff: [...desktopVsServer, ...diff], invariants, files };
  }
}

/** Decks keyed by name; decks that the unrepaired sync result lacks lose id and mod. */
function decksByName<T extends { decks: CanonicalDump['decks'] }>(d: T, unrepaired: CanonicalDump): T {
  const known = new Set(unrepaired.decks.map((x) => x.id));
  const decks = d.decks
    .map((x) => {
      if (known.has(x.id)) return x;
      const { id: _id, mod: _mod, ...rest } = x as Record<string, unknown>;
      return { ...rest, id: `new:${String(x.name)}` } as unknown as CanonicalDump['decks'][number];
    })
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return { ...d, decks };
}

/** A readable list of where two dumps differ (for failure messages). */
export function dumpDiff(a: unknown, b: unknown, at = '', out: string[] = [], limit = 12): string[] {
  if (out.length >= limit) return out;
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    const byId = (l: unknown[]) => new Map(l.map((x, i) => [String((x as { id?: unknown; tag?: unknown })?.id ?? (x as { tag?: unknown })?.tag ?? i), x]));
    const [ma, mb] = [byId(a), byId(b)];
    for (const k of new Set([...ma.keys(), ...mb.keys()])) dumpDiff(ma.get(k), mb.get(k), `${at}[${k}]`, out, limit);
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = a as Record<string, unknown>;
    const kb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ka), ...Object.keys(kb)])) dumpDiff(ka[k], kb[k], `${at}.${k}`, out, limit);
    return out;
  }
  out.push(`${at}: oracle ${JSON.stringify(a)?.slice(0, 200)} / merged ${JSON.stringify(b)?.slice(0, 200)}`);
  return out;
}
