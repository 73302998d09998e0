// Bench of the cloud sync client (src/sync/cloud) against Anki's own client, both talking to the
// same `python -m anki.syncserver` on 127.0.0.1 in the same run:
//  1. an incremental (normal) sync carrying 1000 new reviews made on an identical collection;
//  2. a full download of a ~100 MB collection.
//
// Same work on both sides: each client runs in a warm process of its own and is asked for one
// sync at a time over a JSON line — Anki's in the peer's Python process (PyPI anki, the Rust
// core Anki Desktop runs), ours in bench/support/cloud-client-child.mjs (compiled JS, started with
// the flags the login service gives the daemon). Each figure covers opening the collection, every
// request from meta to finish (JSON, zstd, HTTP, SQLite), and closing it; CPU is the whole client
// process with every thread (V8's GC and compiler threads; Anki's Rust threads), read by the
// process itself before and after. Process start and module loading are not in the figures (both
// clients live long, as the daemon and Anki Desktop do); they are printed on their own line. The
// server's CPU counts for neither side.
//
// Prints medians side by side, the ratio ours/Anki (goal ≤ 1.2) and each client's peak RSS
// during its syncs. CLOUD_BENCH_MB (default 100), CLOUD_BENCH_ROUNDS (default 9, ≤ 10).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer, startSyncServer } from '../test/peer/peer.js';
import { openCollectionDb } from '../src/apkg/sqlite.js';
import { CloudClientProcess } from './support/cloud-client.js';

const TARGET_MB = Number(process.env.CLOUD_BENCH_MB ?? 100);
const ROUNDS = Math.min(10, Number(process.env.CLOUD_BENCH_ROUNDS ?? 9));
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Peak RSS since the last reset (VmHWM), and its reset (Linux: clear_refs 5, own children). */
const hwm = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
const resetHwm = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');

interface Side {
  pid: number;
  cpu(): Promise<number>;
}
interface Run {
  cpuMs: number;
  wallMs: number;
  peakRss: number;
}
/** One measured sync of one client: CPU read by its own process before and after, peak RSS of the sync alone. */
async function measure(side: Side, fn: () => Promise<unknown>, check: (r: unknown) => void): Promise<Run> {
  resetHwm(side.pid);
  const c0 = await side.cpu();
  const t0 = performance.now();
  const r = await fn();
  const wallMs = performance.now() - t0;
  const cpuMs = ((await side.cpu()) - c0) * 1000;
  check(r);
  return { cpuMs, wallMs, peakRss: hwm(side.pid) };
}

const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-cloudbench-'));
const users = ['ours', 'anki', 'big'].map((user) => ({ user, password: 'pw' }));
// first: it compiles src/ (synchronously) before it starts
const ours = await CloudClientProcess.start();
const [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users })]);
const keys = (user: string) => path.join(dir, `${user}-keys.json`);
const startup = { ours: await ours.call<{ cpu: number }>('cpu'), anki: await peer.version() };
const oursSide: Side = { pid: ours.pid, cpu: async () => (await ours.call<{ cpu: number }>('cpu')).cpu };
const ankiSide: Side = { pid: startup.anki.pid, cpu: async () => (await peer.version()).cpu };
const load = [loadAvg()];

try {
  // ---- 1. incremental sync of 1000 reviews
  const base = path.join(dir, 'base', 'collection.anki2');
  await peer.createCollection({ path: base, notes: 7000, seed: 1, reviews: 20_000, decks: 5, days: 120, noteTypes: ['basic', 'reversed'] });
  const oursInc = path.join(dir, 'inc-ours', 'collection.anki2');
  const ankiInc = path.join(dir, 'inc-anki', 'collection.anki2');
  for (const p of [oursInc, ankiInc]) {
    mkdirSync(path.dirname(p), { recursive: true });
    copyFileSync(base, p);
  }
  const endpoint = server.endpoint;
  await ours.call('login', { endpoint, user: 'ours', password: 'pw', keys: keys('ours') });
  await ours.call('sync', { path: oursInc, endpoint, keys: keys('ours'), fullSync: 'upload' });
  const { hkey: ankiKey } = await peer.syncLogin({ endpoint, user: 'anki', password: 'pw' });
  await peer.fullSync({ path: ankiInc, endpoint, hkey: ankiKey, direction: 'upload' });
  // the scheduler's daily limits would stop at a few hundred: answer chosen cards directly
  const cardIds = (await peer.query<[number]>(oursInc, 'SELECT id FROM cards ORDER BY id')).map((r) => r[0]);

  const inc = { ours: [] as Run[], anki: [] as Run[] };
  for (let round = 0; round < ROUNDS; round++) {
    const ops = cardIds.slice(round * 1000, round * 1000 + 1000).map((cardId) => ({ op: 'reviewCard' as const, cardId, ease: 3 as const }));
    for (const p of [oursInc, ankiInc]) await peer.modify(p, [{ op: 'advanceClock', seconds: 1 }, ...ops], { seed: round });
    const runOurs = async () =>
      inc.ours.push(
        await measure(oursSide, () => ours.call('sync', { path: oursInc, endpoint, keys: keys('ours') }), (r) => {
          const x = r as { kind: string; stats?: { sentRevlog: number } };
          if (x.kind !== 'normal' || x.stats?.sentRevlog !== 1000) throw new Error(`our sync did not send 1000 reviews: ${JSON.stringify(r)}`);
        }),
      );
    const runAnki = async () =>
      inc.anki.push(
        await measure(ankiSide, () => peer.sync({ path: ankiInc, endpoint, hkey: ankiKey }), (r) => {
          if ((r as { did: string }).did !== 'normal') throw new Error(`Anki's sync did not run: ${JSON.stringify(r)}`);
        }),
      );
    // alternate who goes first so neither gets a warmer server every time
    if (round % 2 === 0) await runOurs().then(runAnki);
    else await runAnki().then(runOurs);
  }
  load.push(loadAvg());

  // ---- 2. full download of a ~100 MB collection
  const big = path.join(dir, 'big', 'collection.anki2');
  const tGen = performance.now();
  await peer.createCollection({ path: big, notes: 30_000, seed: 2, reviews: 200_000, decks: 10, days: 365, noteTypes: ['basic'] });
  {
    // pad the second field of some notes with 50 KB of base64 noise (a worst case for the
    // transfer: it hardly compresses) until the file is ~TARGET_MB. Large values sit in full
    // overflow pages, so the size grows linearly with the number of padded notes.
    const db = openCollectionDb(big);
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const size0 = statSync(big).size;
    const EACH = 50_000;
    const ids = (db.prepare('SELECT id FROM notes').all() as { id: number }[]).map((r) => r.id);
    const n = Math.max(0, Math.min(ids.length, Math.floor((TARGET_MB * 1048576 - size0) / (EACH * 1.03))));
    const upd = db.prepare('UPDATE notes SET flds = substr(flds, 1, instr(flds, char(31))) || ? WHERE id = ?');
    db.transaction(() => {
      for (const id of ids.slice(0, n)) upd.run(randomBytes(Math.ceil((EACH * 3) / 4) + 3).toString('base64').slice(0, EACH), id);
    })();
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const genSecs = (performance.now() - tGen) / 1000;
  // set-up, not measured: uploaded with our client, whose stall timer is longer than Anki's
  // 30 s (the server checks a 100 MB upload for a while before it answers)
  await ours.call('login', { endpoint, user: 'big', password: 'pw', keys: keys('big') });
  await ours.call('sync', { path: big, endpoint, keys: keys('big'), fullSync: 'upload' });
  const bigServerSize = statSync(path.join(server.dataDir, 'big', 'collection.anki2')).size;
  const { hkey: bigKey } = await peer.syncLogin({ endpoint, user: 'big', password: 'pw' });

  const dl = { ours: [] as Run[], anki: [] as Run[] };
  for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
    const oursPath = path.join(dir, `dl-ours-${round}`, 'collection.anki2');
    const ankiPath = path.join(dir, `dl-anki-${round}`, 'collection.anki2');
    const runOurs = async () =>
      dl.ours.push(
        await measure(oursSide, () => ours.call('sync', { path: oursPath, endpoint, keys: keys('big'), fullSync: 'download' }), (r) => {
          if ((r as { kind: string }).kind !== 'full') throw new Error(`our download did not run: ${JSON.stringify(r)}`);
        }),
      );
    const runAnki = async () =>
      dl.anki.push(await measure(ankiSide, () => peer.fullSync({ path: ankiPath, endpoint, hkey: bigKey, direction: 'download' }), () => undefined));
    if (round % 2 === 0) await runOurs().then(runAnki);
    else await runAnki().then(runOurs);
    if (statSync(oursPath).size !== bigServerSize) throw new Error(`${oursPath} is not the server's ${bigServerSize} bytes`);
    for (const p of [oursPath, ankiPath]) rmSync(path.dirname(p), { recursive: true, force: true });
  }
  load.push(loadAvg());

  const row = (what: string, a: number[], b: number[], unit: (x: number) => string) => {
    const [ra, rb] = [median(a), median(b)];
    console.log(`${what.padEnd(38)} ours ${unit(ra).padStart(10)}   Anki ${unit(rb).padStart(10)}   ratio ${(ra / rb).toFixed(2)}   (ours ${a.map((x) => x.toFixed(0)).join(' ')}; Anki ${b.map((x) => x.toFixed(0)).join(' ')})`);
  };
  const cpuOf = (rs: Run[]) => rs.map((r) => r.cpuMs);
  const wallOf = (rs: Run[]) => rs.map((r) => r.wallMs);
  const peakOf = (rs: Run[]) => Math.max(...rs.map((r) => r.peakRss));
  console.log(`\ncloud sync bench — anki.syncserver on 127.0.0.1, Anki ${startup.anki.anki}; each client in a warm process of its own; medians`);
  console.log(`incremental sync of 1000 new reviews (${ROUNDS} runs each):`);
  row('  client CPU (all threads)', cpuOf(inc.ours), cpuOf(inc.anki), ms);
  row('  wall time', wallOf(inc.ours), wallOf(inc.anki), ms);
  console.log(`full download of a ${mb(bigServerSize)} collection (${dl.ours.length} runs each; padded with base64 noise, generated in ${genSecs.toFixed(0)} s):`);
  row('  client CPU (all threads)', cpuOf(dl.ours), cpuOf(dl.anki), ms);
  row('  wall time', wallOf(dl.ours), wallOf(dl.anki), ms);
  console.log(`peak RSS during the syncs: incremental ours ${mb(peakOf(inc.ours))}, Anki ${mb(peakOf(inc.anki))}; download ours ${mb(peakOf(dl.ours))}, Anki ${mb(peakOf(dl.anki))}`);
  console.log(
    `not in the figures, paid once per process: start and module loading — ours ${ms(startup.ours.cpu * 1000)} CPU ` +
      `(node + the compiled cloud room), Anki ${ms(startup.anki.cpu * 1000)} (python + import anki)`,
  );
  console.log('each figure: open the collection, meta … finish (HTTP, zstd, JSON, SQLite), close it; the server\'s CPU counts for neither side');
  console.log(`load average at start / after the incremental runs / at the end: ${load.join(' / ')} (2 cores here; wall times are noisy when it is high, CPU much less so)`);
} finally {
  await Promise.all([peer.close(), ours.close()]);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
