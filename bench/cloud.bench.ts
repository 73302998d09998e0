// Bench of the cloud sync client (src/sync/cloud) against Anki's own client, both talking to the
// same `python -m anki.syncserver` on 127.0.0.1 in the same run:
//  1. an incremental (normal) sync carrying 1000 new reviews made on an identical collection;
//  2. a full download of a ~100 MB collection.
// Prints times side by side, the ratio ours/Anki (goal ≤ 1.2) and peak RSS.
//   CLOUD_BENCH_MB (default 100), CLOUD_BENCH_ROUNDS (default 3)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnkiPeer, startSyncServer } from '../test/peer/peer.js';
import { openCollectionDb } from '../src/apkg/sqlite.js';
import { CloudSync, FileStore } from '../src/sync/cloud/index.js';

const TARGET_MB = Number(process.env.CLOUD_BENCH_MB ?? 100);
const ROUNDS = Number(process.env.CLOUD_BENCH_ROUNDS ?? 3);
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

/** CPU seconds the client spent (ours: this process; Anki: the peer process) — load-independent. */
const cpu = { incOurs: [] as number[], incAnki: [] as number[], dlOurs: [] as number[], dlAnki: [] as number[] };
async function onCpu<T>(list: number[], read: () => number, fn: () => Promise<T>): Promise<T> {
  const c0 = read();
  const r = await fn();
  list.push((read() - c0) * 1000);
  return r;
}

/** The peer's Python process (Anki's own client): found by its command line under our pid. */
function peerPid(): string | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anki_peer.py')) continue;
      if (readFileSync(`/proc/${pid}/status`, 'utf8').includes(`PPid:\t${process.pid}\n`)) return pid;
    } catch {
      // process gone
    }
  }
  return undefined;
}

/** CPU seconds (user + system) used so far by a process, from /proc/<pid>/stat. */
function cpuOf(pid: string): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // fields after the command name
  return (Number(f[11]) + Number(f[12])) / 100;
}
const ourCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Peak RSS (VmHWM) of the peer's Python process, which runs Anki's own client. */
function peerPeakRss(): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('anki_peer.py')) continue;
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (!st.includes(`PPid:\t${process.pid}\n`)) continue;
      const m = /VmHWM:\s+(\d+) kB/.exec(st);
      if (m) return Number(m[1]) * 1024;
    } catch {
      // process gone
    }
  }
  return undefined;
}

const dir = mkdtempSync(path.join(tmpdir(), 'ankibridge-cloudbench-'));
const users = ['ours', 'anki', 'big'].map((user) => ({ user, password: 'pw' }));
const [peer, server] = await Promise.all([AnkiPeer.start(), startSyncServer({ users })]);
const ourSync = (user: string, collectionPath: string) => {
  const credentials = new FileStore(path.join(dir, `${user}-keys.json`));
  const sync = new CloudSync({
    collectionPath, endpoint: server.endpoint, credentials, isCollectionFree: () => true, media: false,
    backup: async () => undefined, // a backup store copy is the daemon's cost, not the protocol's
  });
  return { sync, login: () => CloudSync.login({ endpoint: server.endpoint, user, password: 'pw', credentials }) };
};

const pp = peerPid() ?? '';
try {
  if (!pp) throw new Error('could not find the peer process (Anki client) under /proc');
  // ---- 1. incremental sync of 1000 reviews
  const base = path.join(dir, 'base', 'collection.anki2');
  await peer.createCollection({ path: base, notes: 3000, seed: 1, reviews: 20_000, decks: 5, days: 120, noteTypes: ['basic', 'reversed'] });
  const oursInc = path.join(dir, 'inc-ours', 'collection.anki2');
  const ankiInc = path.join(dir, 'inc-anki', 'collection.anki2');
  for (const p of [oursInc, ankiInc]) {
    mkdirSync(path.dirname(p), { recursive: true });
    copyFileSync(base, p);
  }
  const ours = ourSync('ours', oursInc);
  await ours.login();
  await ours.sync.run({ fullSync: { direction: 'upload', confirmed: true } });
  const { hkey: ankiKey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'anki', password: 'pw' });
  await peer.fullSync({ path: ankiInc, endpoint: server.endpoint, hkey: ankiKey, direction: 'upload' });
  // the scheduler's daily limits would stop at a few hundred: answer chosen cards directly
  const cardIds = (await peer.dump(oursInc)).cards.map((c) => (c as { id: number }).id);

  const incOurs: number[] = [];
  const incAnki: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ops = cardIds.slice(round * 1000, round * 1000 + 1000).map((cardId) => ({ op: 'reviewCard' as const, cardId, ease: 3 as const }));
    for (const p of [oursInc, ankiInc]) await peer.modify(p, [{ op: 'advanceClock', seconds: 1 }, ...ops], { seed: round });
    // alternate who goes first so neither gets a warmer cache every time
    const runOurs = async () => {
      const [r, t] = await timed(() => onCpu(cpu.incOurs, ourCpu, () => ours.sync.run()));
      if (r.kind !== 'normal' || r.stats.sentRevlog !== 1000) throw new Error(`our sync did not send 1000 reviews: ${JSON.stringify(r)}`);
      incOurs.push(t);
    };
    const runAnki = async () => {
      const [r, t] = await timed(() => onCpu(cpu.incAnki, () => cpuOf(pp), () => peer.sync({ path: ankiInc, endpoint: server.endpoint, hkey: ankiKey })));
      if (r.did !== 'normal') throw new Error(`Anki's sync did not run: ${JSON.stringify(r)}`);
      incAnki.push(t);
    };
    if (round % 2 === 0) {
      await runOurs();
      await runAnki();
    } else {
      await runAnki();
      await runOurs();
    }
  }

  // ---- 2. full download of a ~100 MB collection
  const big = path.join(dir, 'big', 'collection.anki2');
  const [, tGen] = await timed(() => peer.createCollection({ path: big, notes: 30_000, seed: 2, reviews: 200_000, decks: 10, days: 365, noteTypes: ['basic'] }));
  {
    // pad the second field of some notes with 50 KB of base64 noise (a worst case for the
    // transfer: it hardly compresses) until the file is ~TARGET_MB. Large values sit in full
    // overflow pages, so the size grows linearly with the number of padded notes.
    const db = openCollectionDb(big);
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const base = statSync(big).size;
    const EACH = 50_000;
    const ids = (db.prepare('SELECT id FROM notes').all() as { id: number }[]).map((r) => r.id);
    const n = Math.max(0, Math.min(ids.length, Math.floor((TARGET_MB * 1048576 - base) / (EACH * 1.03))));
    const upd = db.prepare('UPDATE notes SET flds = substr(flds, 1, instr(flds, char(31))) || ? WHERE id = ?');
    db.transaction(() => {
      for (const id of ids.slice(0, n)) upd.run(randomBytes(Math.ceil((EACH * 3) / 4) + 3).toString('base64').slice(0, EACH), id);
    })();
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const bigSize = statSync(big).size;
  const { hkey: bigKey } = await peer.syncLogin({ endpoint: server.endpoint, user: 'big', password: 'pw' });
  // set-up, not measured: uploaded with our client, whose stall timer is longer than Anki's
  // 30 s (the server checks a 100 MB upload for a while before it answers)
  const uploader = ourSync('big', big);
  await uploader.login();
  await uploader.sync.run({ fullSync: { direction: 'upload', confirmed: true } });
  const bigServerSize = statSync(path.join(server.dataDir, 'big', 'collection.anki2')).size;

  const dlOurs: number[] = [];
  const dlAnki: number[] = [];
  const oursBig = ourSync('big', path.join(dir, 'dl-ours', 'collection.anki2'));
  for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
    const oursPath = path.join(dir, 'dl-ours', 'collection.anki2');
    const ankiPath = path.join(dir, `dl-anki-${round}`, 'collection.anki2');
    rmSync(path.dirname(oursPath), { recursive: true, force: true });
    const runOurs = async () => {
      const [r, t] = await timed(() => onCpu(cpu.dlOurs, ourCpu, () => oursBig.sync.run({ fullSync: { direction: 'download', confirmed: true } })));
      if (r.kind !== 'full') throw new Error(`our download did not run: ${JSON.stringify(r)}`);
      dlOurs.push(t);
    };
    const runAnki = async () => {
      const [, t] = await timed(() => onCpu(cpu.dlAnki, () => cpuOf(pp), () => peer.fullSync({ path: ankiPath, endpoint: server.endpoint, hkey: bigKey, direction: 'download' })));
      dlAnki.push(t);
    };
    if (round % 2 === 0) {
      await runOurs();
      await runAnki();
    } else {
      await runAnki();
      await runOurs();
    }
  }

  clearInterval(sampler);
  const ankiRss = peerPeakRss();
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const line = (what: string, a: number[], b: number[]) => {
    const ra = median(a);
    const rb = median(b);
    console.log(`${what.padEnd(44)} ours ${s(ra).padStart(9)}   Anki ${s(rb).padStart(9)}   ratio ${(ra / rb).toFixed(2)}   (runs ours ${a.map(s).join(', ')}; Anki ${b.map(s).join(', ')})`);
  };
  console.log(`\ncloud sync bench — anki.syncserver on 127.0.0.1, same run, medians`);
  line('incremental sync, 1000 new reviews', incOurs, incAnki);
  line(`full download, ${mb(bigServerSize)} collection`, dlOurs, dlAnki);
  console.log('client CPU time (load-independent; ours = this process, Anki = the peer process):');
  line('  incremental sync, 1000 new reviews (CPU)', cpu.incOurs, cpu.incAnki);
  line('  full download (CPU)', cpu.dlOurs, cpu.dlAnki);
  console.log(`(big collection generated by Anki in ${s(tGen)}, padded to ${mb(bigSize)})`);
  console.log(`peak RSS: ours (whole bench process) ${mb(peakRss)}; Anki client (peer process) ${ankiRss ? mb(ankiRss) : 'n/a'}`);
  console.log(`machine load average during the run: ${loadAvg} (wall times are noisy when it is high)`);
  console.log('note: Anki times include the peer\'s JSON-line round trip and opening/closing the collection in Python, a few ms.');
} finally {
  clearInterval(sampler);
  await peer.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
