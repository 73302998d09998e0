/**
 * The Anki test peer: real Anki (PyPI `anki`, pinned in test/peer/requirements.txt) driven over
 * JSON lines by test/peer/anki_peer.py. Tests use it as the reference for everything Anki does.
 *
 *   await using peer = await AnkiPeer.start();
 *   await peer.createCollection({ path, notes: 100, seed: 1, reviewsPerCard: 3 });
 *
 * Contract: test/peer/README.md (as built; shared with the other rooms): it may grow, never break.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../..');

/** Python of the peer venv; a clear, actionable error when it is missing (tests fail, never skip). */
export function peerPython(root = REPO_ROOT): string {
  const py = path.join(root, '.peer/venv/bin/python');
  if (!existsSync(py)) {
    throw new Error(
      `The Anki peer is not set up: ${py} is missing. Run \`node test/peer/setup.mjs\` ` +
        '(needs python3 and python3-venv) and run the tests again.',
    );
  }
  return py;
}

/** libfaketime's preload library (Debian package `libfaketime`), or a clear error naming it. */
export function libfaketime(): string {
  const candidates = [
    process.env.ANKIBRIDGE_LIBFAKETIME,
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
    '/usr/lib/faketime/libfaketime.so.1',
    '/usr/local/lib/faketime/libfaketime.so.1',
  ];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) {
    throw new Error(
      'AnkiPeer.start({ fakeClock: true }) needs libfaketime: install the Debian package ' +
        '`libfaketime` (listed in .ci/apt-packages.txt) or set ANKIBRIDGE_LIBFAKETIME to libfaketime.so.1.',
    );
  }
  return found;
}

/** A command that real Anki (or the peer) refused; `type` is the Python error type or a peer code. */
export class PeerError extends Error {
  constructor(
    readonly cmd: string,
    readonly type: string,
    message: string,
  ) {
    super(`anki peer ${cmd}: ${type}: ${message}`);
    this.name = 'PeerError';
  }
}

export type Ease = 1 | 2 | 3 | 4;
export type PeerNoteType = 'basic' | 'reversed' | 'cloze';
export type PeerOp =
  | { op: 'review'; count: number; ease?: Ease }
  | { op: 'reviewCard'; cardId: number; ease: Ease }
  | { op: 'editNote'; noteId: number; field: number; value: string }
  | { op: 'addNotes'; count: number; deck?: string; noteType?: PeerNoteType; tags?: string[] }
  | { op: 'deleteNotes'; noteIds: number[] }
  | { op: 'renameDeck'; from: string; to: string }
  | { op: 'addDeck'; name: string }
  | { op: 'deleteDeck'; name: string }
  | { op: 'tag'; noteIds: number[]; add?: string[]; remove?: string[] }
  | { op: 'addMedia'; name: string; base64: string }
  | { op: 'removeMedia'; name: string }
  | { op: 'changeSchema' }
  | { op: 'setConfig'; key: string; value: unknown }
  | { op: 'editDeckConfig'; id: number; newPerDay: number }
  | { op: 'suspend'; cardIds: number[] }
  | { op: 'advanceClock'; seconds: number }
  /** a note type edit that is not a schema change (styling, first template's front side) */
  | { op: 'editNoteType'; noteType?: PeerNoteType; css?: string; qfmt?: string };

export interface DumpNote {
  id: number; guid: string; mid: number; mod: number; usn?: number; tags: string[];
  fields: string[]; sfld: string; csum: number; flags: number; data: string;
}
export interface DumpCard {
  id: number; nid: number; did: number; ord: number; mod: number; usn?: number; type: number;
  queue: number; due: number; ivl: number; factor: number; reps: number; lapses: number;
  left: number; odue: number; odid: number; flags: number; data: string;
}
export interface DumpRevlog {
  id: number; cid: number; usn?: number; ease: number; ivl: number; lastIvl: number;
  factor: number; time: number; type: number;
}
export interface DumpMedia { name: string; sha1: string; size: number }
/** Canonical dump: lists sorted, keys sorted; see test/peer/peer_dump.py for every field. */
export interface CanonicalDump {
  col: { crt: number; mod?: number; scm?: number; ver?: number; dty?: number; usn?: number; ls?: number };
  notes: DumpNote[];
  cards: DumpCard[];
  revlog: DumpRevlog[];
  decks: Array<Record<string, unknown> & { id: number; name: string }>;
  deckConfigs: Array<Record<string, unknown> & { id: number; name: string }>;
  noteTypes: Array<Record<string, unknown> & { id: number; name: string }>;
  tags: Array<{ tag: string; usn?: number; collapsed: boolean; config: string | null }>;
  config: Record<string, unknown>;
  /** usn and mtime of each config key (absent with ignoreSync). */
  configMeta?: Record<string, { usn: number; mtime: number }>;
  /** deletion records pending the next sync (absent with ignoreSync). */
  graves?: Array<{ oid: number; type: number; usn: number }>;
  media: DumpMedia[];
}

export interface CreateCollectionArgs {
  path: string;
  notes: number;
  seed: number;
  reviewsPerCard?: number;
  /** total reviews spread evenly over all cards (overrides reviewsPerCard), e.g. 300_000 */
  reviews?: number;
  decks?: number;
  media?: { count: number; bytesEach: number };
  noteTypes?: PeerNoteType[];
  /** spread reviews over this many past days */
  days?: number;
}
export interface CreateCollectionResult {
  path: string; notes: number; cards: number; revlog: number; decks: number; media: number;
}
export interface ImportLog {
  new: number; updated: number; duplicate: number; conflicting: number; first_field_match: number;
  missing_notetype: number; missing_deck: number; empty_first_field: number; found_notes: number;
}
export type SyncRequired = 'noChanges' | 'normal' | 'full' | 'fullDownload' | 'fullUpload';
export interface SyncResult {
  /** What Anki said; after a completed normal sync Anki says 'noChanges' (nothing further needed). */
  required: SyncRequired;
  /** 'normal' (a normal sync ran), 'nothing' (both sides were already equal), or
   *  'none: full sync required' (required is full/fullUpload/fullDownload: call fullSync). */
  did: string;
  serverMessage: string;
  newEndpoint: string | null;
  serverMediaUsn: number;
}

interface Pending {
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class AnkiPeer implements AsyncDisposable {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = '';
  private exited = false;
  private readonly exitPromise: Promise<void>;

  /** With a fake clock: the libfaketime timestamp file this peer's clock reads (while it runs). */
  clockFile: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.failAll(new Error(`anki peer exited (code ${code}, signal ${signal}). stderr:\n${this.stderrTail}`));
        resolve();
      });
    });
    // A dead child makes stdin writes fail with EPIPE; the exit handler reports it, so the
    // stream error must not become an uncaught exception.
    child.stdin!.on('error', () => undefined);
    child.on('error', (e) => this.failAll(new Error(`anki peer process error: ${e.message}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-8000);
      if (process.env.ANKIBRIDGE_PEER_DEBUG) process.stderr.write(s);
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.onLine(line));
  }

  /**
   * @param opts.fakeClock run Anki under libfaketime (Debian `libfaketime`) so that
   *   `advanceClock` jumps any distance at once (days: cards fall due, later mod times) instead
   *   of sleeping (real clock: at most 10 s). Costs some speed. Anki's sync server keeps the real
   *   time: a client more than 5 minutes ahead is refused by it, as with a real phone.
   * @param opts.clockOffset (fake clock only) seconds the clock starts ahead of the real time.
   */
  static async start(opts: { cwd?: string; fakeClock?: boolean; clockOffset?: number } = {}): Promise<AnkiPeer> {
    const py = peerPython();
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
    let clockDir: string | undefined;
    if (opts.fakeClock) {
      clockDir = mkdtempSync(path.join(tmpdir(), 'ankibridge-peer-clock-'));
      const clockFile = path.join(clockDir, 'offset');
      const offset = opts.clockOffset ?? 0;
      if (!(offset >= 0)) throw new Error('AnkiPeer.start: clockOffset must be 0 or more seconds');
      writeFileSync(clockFile, `+${offset.toFixed(3)}s\n`);
      Object.assign(env, {
        ANKIBRIDGE_PEER_CLOCK_OFFSET: String(offset),
        LD_PRELOAD: libfaketime(), FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_RESET: '1', ANKIBRIDGE_PEER_CLOCK_FILE: clockFile,
        // Only the wall clock (what Anki stamps) is faked. A faked monotonic clock makes tokio's
        // timers misfire after a jump or a stop (the sync's stall check then reports "Connection
        // timed out" on a healthy request).
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      });
    }
    const child = spawn(py, [path.join(here, 'anki_peer.py')], {
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    const peer = new AnkiPeer(child);
    peer.clockFile = clockDir ? path.join(clockDir, 'offset') : undefined;
    if (clockDir) {
      const dir = clockDir;
      void peer.exitPromise.then(() => rmSync(dir, { recursive: true, force: true }));
    }
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    try {
      await peer.call('ping', {}, 30_000);
    } catch (e) {
      await peer.close();
      throw e;
    }
    return peer;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<T>(cmd: string, args: object = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`anki peer is not running (stderr:\n${this.stderrTail})`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A command that hangs leaves the peer busy forever: kill it so nothing leaks.
        this.pending.delete(id);
        reject(new Error(`anki peer ${cmd} timed out after ${timeoutMs} ms; the peer was stopped`));
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.pending.set(id, { cmd, resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.stdin!.write(JSON.stringify({ id, cmd, args }) + '\n');
    });
  }

  private onLine(line: string): void {
    let msg: { id: number; ok: boolean; result?: unknown; error?: { type: string; message: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      this.stderrTail += `\n[non-JSON stdout] ${line}`;
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new PeerError(p.cmd, msg.error?.type ?? 'Error', msg.error?.message ?? 'unknown error'));
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  /** Ends the process (it closes any held collection on EOF); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exitPromise;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- typed wrappers -------------------------------------------------------------------------

  createCollection(a: CreateCollectionArgs, timeoutMs = 600_000): Promise<CreateCollectionResult> {
    return this.call('createCollection', a, timeoutMs);
  }

  modify(path: string, ops: PeerOp[], opts: { seed?: number; timeoutMs?: number } = {}): Promise<{ applied: number }> {
    return this.call('modify', { path, ops, seed: opts.seed ?? 0 }, opts.timeoutMs ?? 120_000);
  }

  exportPackage(a: {
    path: string; out: string; kind: 'colpkg' | 'apkg'; legacy?: boolean; withMedia?: boolean;
    withScheduling?: boolean;
    /** apkg only: export this deck (and its subdecks) instead of the whole collection */
    deck?: string;
  }, timeoutMs = 600_000): Promise<{ out: string; size: number }> {
    return this.call('exportPackage', a, timeoutMs);
  }

  /** colpkg: replace (as Anki Desktop's import does; reads every package version, so an .apkg
   *  imported as 'colpkg' gives Anki's own copy of the collection inside it); apkg: merge
   *  (scheduling kept by default). */
  importPackage(a: {
    path: string; pkg: string; kind: 'colpkg' | 'apkg'; withScheduling?: boolean;
    mergeNotetypes?: boolean;
    /** Anki's ImportAnkiPackageUpdateCondition: 0 if newer (default), 1 always, 2 never */
    updateNotes?: 0 | 1 | 2; updateNotetypes?: 0 | 1 | 2;
  }, timeoutMs = 600_000): Promise<{ log?: ImportLog | null }> {
    return this.call('importPackage', a, timeoutMs);
  }

  /** Anki's own "Check Database" plus `pragma integrity_check`; problems are Anki's messages.
   *  Like the real one it repairs what it reports (and normalises e.g. config nextPos). */
  check(path: string, timeoutMs = 300_000): Promise<{ ok: boolean; problems: string[] }> {
    return this.call('check', { path }, timeoutMs);
  }

  dump(path: string, opts: { ignoreSync?: boolean; mediaDir?: string; timeoutMs?: number } = {}): Promise<CanonicalDump> {
    const { timeoutMs, ...args } = opts;
    return this.call('dump', { path, ...args }, timeoutMs ?? 300_000);
  }

  /** Rows of one SQL statement run through Anki's own connection (unicase collation included);
   *  blobs come back as hex strings. For test assertions; not limited to reads. */
  query<Row extends unknown[] = unknown[]>(path: string, sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.call('query', { path, sql, params }, 120_000);
  }

  /** The Anki version the peer runs (e.g. "26.09.3"), its process id, its clock (seconds;
   *  ahead of the real one by clockOffset with a fake clock) and the CPU seconds the whole peer
   *  process (every thread) has used so far. */
  version(): Promise<{ anki: string; pid: number; now: number; fakeClock: boolean; clockOffset: number; cpu: number }> {
    return this.call('ping', {});
  }

  /** Fake clock only: stop this peer's clock at `at` (epoch s, ms fraction allowed), or run it
   *  again (null: real time plus the advanceClock offset, from `notBefore` at the earliest).
   *  A sync server started with this peer's `clockFile` follows; otherwise it keeps real time. */
  async freezeClock(at: number | null, opts: { notBefore?: number } = {}): Promise<{ now: number }> {
    return this.call('freezeClock', { at, notBefore: opts.notBefore ?? null });
  }

  /** Keep the collection open as Anki Desktop does (exclusive lock, WAL) until release().
   *  Meanwhile other processes get "database is locked"; this peer's own commands on that path
   *  work through the open collection, as a running Anki Desktop does (changes sit in the WAL;
   *  a colpkg export/import closes and reopens it, like Desktop). */
  async hold(path: string): Promise<void> {
    await this.call('hold', { path });
  }

  async release(path: string): Promise<void> {
    await this.call('release', { path });
  }

  syncLogin(a: { endpoint: string; user: string; password: string }): Promise<{ hkey: string; endpoint: string }> {
    return this.call('syncLogin', a);
  }

  /** Normal sync; does not run a full sync by itself: `required` says when one is needed. */
  sync(a: { path: string; endpoint: string; hkey: string; media?: boolean }, timeoutMs = 300_000): Promise<SyncResult> {
    return this.call('sync', a, timeoutMs);
  }

  async fullSync(a: {
    path: string; endpoint: string; hkey: string; direction: 'upload' | 'download'; media?: boolean;
  }, timeoutMs = 600_000): Promise<void> {
    await this.call('fullSync', a, timeoutMs);
  }
}

// --- Anki's own sync server -------------------------------------------------------------------

export interface SyncServer {
  endpoint: string;
  dataDir: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Resolves when anything answers HTTP at url (no keep-alive: no socket outlives the probe). */
function httpAnswers(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve());
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}

/** `python -m anki.syncserver` bound to 127.0.0.1 with a temporary data folder. The port is
 *  chosen by the OS (SYNC_PORT=0) and read from the server's own "listening addr=…" log line, so
 *  parallel test files never race for a port. */
export async function startSyncServer(opts: {
  users?: { user: string; password: string }[];
  /** Run the server on a fake clock too: libfaketime reading this timestamp file (a fake-clock
   *  peer's `clockFile`), so that server and clients share one clock that advanceClock and
   *  freezeClock move for all of them. */
  clockFile?: string;
} = {}): Promise<SyncServer> {
  const py = peerPython();
  const users = opts.users ?? [{ user: 'user', password: 'pass' }];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ankibridge-syncserver-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, SYNC_HOST: '127.0.0.1', SYNC_PORT: '0', SYNC_BASE: dataDir,
    RUST_LOG: 'anki=info', NO_COLOR: '1',
  };
  if (opts.clockFile) {
    Object.assign(env, {
      LD_PRELOAD: libfaketime(), FAKETIME_TIMESTAMP_FILE: opts.clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_RESET: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1', // as for the peer: tokio's timers need a true monotonic clock
    });
  }
  users.forEach((u, i) => (env[`SYNC_USER${i + 1}`] = `${u.user}:${u.password}`));
  const child = spawn(py, ['-m', 'anki.syncserver'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let port = 0;
  const onData = (b: Buffer): void => {
    log = (log + b.toString('utf8')).slice(-8000);
    if (!port) {
      // eslint-disable-next-line no-control-regex
      const m = /listening\s+addr\S*?=\S*?127\.0\.0\.1:(\d+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) port = Number(m[1]);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', () => undefined);

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exit;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  // Ready once it has logged its address and answers HTTP (any status) there.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`anki sync server exited at start:\n${log}`);
    }
    try {
      if (port) {
        await httpAnswers(`http://127.0.0.1:${port}/health`);
        break;
      }
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`anki sync server did not come up within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: `http://127.0.0.1:${port}/`, dataDir, pid: child.pid, stop };
}
