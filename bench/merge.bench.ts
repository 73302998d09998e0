// Bench of issue 4: merge time and peak RSS for 100k notes / 200k cards / 1M reviews per side with
// 5 % changed on each side, next to the same edits synced through Anki's own sync server (two
// real Anki clients, A then B then A), in the same run.
//   MERGE_BENCH_NOTES (default 100000)  notes; cards = 2 × notes (Basic (and reversed)), reviews = 10 × notes
//   MERGE_BENCH_KEEP=1                  keep the files (prints the folder)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer, startSyncServer, type PeerOp } from '../test/peer/peer.js';
import { seededRandom as rand } from '../test/support/seeded-random.js';

const NOTES = Number(process.env.MERGE_BENCH_NOTES ?? 100_000);
const CHANGED = 0.05;
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of some processes every 50 ms; stop() gives each one's peak. */
function sampleRss(pids: number[]): { stop(): number[] } {
  const peak = pids.map(() => 0);
  const t = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p)))), 50);
  return { stop: () => (clearInterval(t), pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p)))), peak) };
}


function sample<T>(l: T[], n: number, r: () => number): T[] {
  const c = l.slice();
  for (let i = 0; i < n && i < c.length; i++) {
    const j = i + Math.floor(r() * (c.length - i));
    [c[i], c[j]] = [c[j]!, c[i]!];
  }
  return c.slice(0, n);
}

/** 5 % of notes edited, 5 % of cards reviewed once, 0.5 % notes added, 0.5 % deleted. */
function edits(noteIds: number[], cardIds: number[], seed: number, tag: string): PeerOp[] {
  const r = rand(seed);
  const nEdit = Math.round(noteIds.length * CHANGED);
  const nRev = Math.round(cardIds.length * CHANGED);
  const nAddDel = Math.round(noteIds.length * 0.005);
  const edited = sample(noteIds, nEdit + nAddDel, r);
  return [
    ...edited.slice(0, nEdit).map((id, i): PeerOp => ({ op: 'editNote', noteId: id, field: 1, value: `${tag} edit ${i}` })),
    ...sample(cardIds, nRev, r).map((id): PeerOp => ({ op: 'reviewCard', cardId: id, ease: ([1, 2, 3, 4] as const)[Math.floor(r() * 4)]! })),
    { op: 'addNotes', count: nAddDel, tags: [tag] },
    { op: 'deleteNotes', noteIds: edited.slice(nEdit) },
  ];
}

/**
 * A finding of Anki's check on the merged file that the inputs' own checks also have: the same
 * message, with a count (e.g. "Added last review time to 7901 cards.") no larger than theirs
 * together.
 */
function explainedByInputs(problem: string, inputProblems: string[]): boolean {
  const kind = (p: string) => p.replace(/\d+/g, '#').replace(/cards?\b/g, 'card');
  const count = (p: string) => Number(/\d+/.exec(p)?.[0] ?? 0);
  const same = inputProblems.filter((p) => kind(p) === kind(problem));
  return same.length > 0 && count(problem) <= same.reduce((n, p) => n + count(p), 0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'merge-bench-'));
  const [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users: [{ user: 'bench', password: 'pw' }] })]);
  try {
    const { hkey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'bench', password: 'pw' });
    const auth = { endpoint: server.endpoint, hkey, ioTimeoutSecs: 900 };
    const a = path.join(dir, 'a', 'collection.anki2');
    const b = path.join(dir, 'b', 'collection.anki2');
    let t = performance.now();
    const made = await peer.call<{ notes: number; cards: number; revlog: number }>(
      'createCollection',
      { path: a, notes: NOTES, seed: 1, noteTypes: ['reversed'], reviews: NOTES * 10, decks: 8, days: 365 },
      1_800_000,
    );
    console.log(`collection: ${made.notes} notes, ${made.cards} cards, ${made.revlog} reviews (made in ${s(performance.now() - t)})`);
    t = performance.now();
    await peer.call('fullSync', { path: a, ...auth, direction: 'upload' }, 1_800_000);
    await peer.call('fullSync', { path: b, ...auth, direction: 'download' }, 1_800_000);
    console.log(`full upload + download (setup, not timed below): ${s(performance.now() - t)}`);
    const base = path.join(dir, 'base.anki2');
    copyFileSync(a, base);

    // Ids straight from the file (a 200k-card dump through JSON would be slow and large).
    const ids = (sql: string): number[] =>
      spawnSync('sqlite3', [base, sql], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.trim().split('\n').map(Number);
    const noteIds = ids('select id from notes');
    const cardIds = ids('select id from cards');
    if (noteIds.length < 10) throw new Error('could not read ids with the sqlite3 CLI (apt-get install sqlite3)');
    t = performance.now();
    await peer.call('modify', { path: a, ops: edits(noteIds, cardIds, 2, 'desk') }, 1_800_000);
    await peer.call('modify', { path: b, ops: edits(noteIds, cardIds, 3, 'phone') }, 1_800_000);
    console.log(`edits on both sides (5 % of notes edited, 5 % of cards reviewed, 0.5 % added/deleted): ${s(performance.now() - t)}`);
    const desktop = path.join(dir, 'desktop.anki2');
    const phone = path.join(dir, 'phone.anki2');
    copyFileSync(a, desktop);
    copyFileSync(b, phone);
    console.log(`file sizes: base ${mb(statSync(base).size)}, desktop ${mb(statSync(desktop).size)}, phone ${mb(statSync(phone).size)}`);

    // Our merge, in its own process.
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/merge-child.ts', base, desktop, phone, path.join(dir, 'merged.anki2')], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`merge failed: ${child.stderr}`);
    const m = JSON.parse(child.stdout.trim().split('\n').pop() as string) as {
      ms: number;
      peakRssBytes: number;
      rssBeforeBytes: number;
      report: { desktop: object; phone: object; conflictCount: number; merged: object; timingsMs: object };
    };

    // The same edits through the server: A, B, A (normal syncs), timed, RSS sampled.
    const { pid: peerPid } = await peer.call<{ pid: number }>('ping', {});
    const sampler = sampleRss([peerPid, server.pid ?? 0]);
    t = performance.now();
    for (const f of [a, b, a]) {
      const r = await peer.call<{ did: string }>('sync', { path: f, ...auth }, 1_800_000);
      if (r.did !== 'normal') throw new Error(`sync did ${r.did}`);
    }
    const serverMs = performance.now() - t;
    const [peerPeak, serverPeak] = sampler.stop();

    const check = await peer.call<{ ok: boolean; problems: string[] }>('check', { path: path.join(dir, 'merged.anki2') }, 1_800_000);
    // The same check on copies of Anki's own sync result and of the two inputs, to tell the
    // merge's problems from Anki's and from the inputs' own. (The peer answers thousands of
    // cards a second, faster than Anki's ms review ids advance: Anki bumps taken ids, they run
    // ahead of the clock, and a card's last review time then lags its log — on each side
    // already, depending on the machine's speed; a person never reviews that fast.)
    const checkCopy = async (from: string, name: string) => {
      const to = path.join(dir, name, 'collection.anki2');
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(from, to);
      return peer.call<{ ok: boolean; problems: string[] }>('check', { path: to }, 1_800_000);
    };
    const syncedCheck = await checkCopy(a, 'synced');
    const inputChecks = [await checkCopy(desktop, 'desktop-check'), await checkCopy(phone, 'phone-check')];

    console.log('\n| route | time | peak RSS |');
    console.log('| --- | --- | --- |');
    console.log(`| ankibridge merge (one process) | ${s(m.ms)} | ${mb(m.peakRssBytes)} (node baseline ${mb(m.rssBeforeBytes)}) |`);
    console.log(`| Anki sync server route: sync A, B, A | ${s(serverMs)} | client ${mb(peerPeak!)} + server ${mb(serverPeak!)} |`);
    console.log(`\nratio: merge is ${(serverMs / m.ms).toFixed(1)}× faster than the server route; goal < 10 s: ${m.ms < 10_000 ? 'met' : 'NOT met'}`);
    console.log(`report: desktop ${JSON.stringify(m.report.desktop)}`);
    console.log(`        phone ${JSON.stringify(m.report.phone)}`);
    console.log(`        conflicts ${m.report.conflictCount}, merged ${JSON.stringify(m.report.merged)}`);
    console.log(`merge phases (ms): ${JSON.stringify(m.report.timingsMs)}`);
    const said = (c: { ok: boolean; problems: string[] }) => (c.ok ? 'clean' : c.problems.join('; '));
    console.log(`real Anki check of the merged file: ${said(check)}`);
    console.log(`real Anki check of Anki's own sync result: ${said(syncedCheck)}`);
    console.log(`real Anki check of the inputs: desktop ${said(inputChecks[0]!)}; phone ${said(inputChecks[1]!)}`);
    const unexplained = check.problems.filter((p) => !explainedByInputs(p, inputChecks.flatMap((c) => c.problems)));
    if (unexplained.length) {
      console.log(`merged-file findings the inputs do not have: ${unexplained.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await peer.close();
    await server.stop();
    if (process.env.MERGE_BENCH_KEEP) console.log(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}


await main();
