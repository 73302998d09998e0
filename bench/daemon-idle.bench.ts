// Issue 7, must-show 4: an idle daemon for 10 minutes (IDLE_SECONDS to change): RSS and CPU, and how
// often its threads wake (context switches), which shows no timer fires more than once a second.
// There is no Anki counterpart to an idle background daemon, so no side-by-side column here.
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSecondsOf, mb, rssOf, startBenchDaemon } from './support/daemon-process.js';

const seconds = Number(process.env['IDLE_SECONDS'] ?? 600);

function wakeups(pid: number): { total: number; byThread: Record<string, number> } {
  const byThread: Record<string, number> = {};
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const name = /Name:\s+(.+)/.exec(s)?.[1] ?? tid;
      const n = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
      byThread[`${name}#${tid}`] = n;
      total += n;
    } catch {
      /* thread ended */
    }
  }
  return { total, byThread };
}

// A realistic idle set-up: scheduled cloud sync on (hourly), nothing plugged in.
const d = await startBenchDaemon({ api: { port: 0 }, cloud: { enabled: true, intervalMinutes: 60 } });
await new Promise((r) => setTimeout(r, 15_000)); // let start-up work (JIT, first scheduler tick) settle
const rss0 = rssOf(d.pid);
const cpu0 = cpuSecondsOf(d.pid);
const w0 = wakeups(d.pid);
const t0 = Date.now();
let rssMax = rss0;
while (Date.now() - t0 < seconds * 1000) {
  await new Promise((r) => setTimeout(r, Math.min(30_000, seconds * 1000)));
  rssMax = Math.max(rssMax, rssOf(d.pid));
}
const elapsed = (Date.now() - t0) / 1000;
const rss1 = rssOf(d.pid);
const cpu = cpuSecondsOf(d.pid) - cpu0;
const w1 = wakeups(d.pid);
const mainThread = Object.keys(w1.byThread).find((k) => k.endsWith(`#${d.pid}`)) as string;
const mainWakeups = (w1.byThread[mainThread] ?? 0) - (w0.byThread[mainThread] ?? 0);
const res = await fetch(`${d.url}/health`);
await d.stop();

console.log(`idle daemon for ${elapsed.toFixed(0)} s`);
console.log(`  RSS start ${mb(rss0)}, end ${mb(rss1)}, peak ${mb(rssMax)} (goal < 80 MB)`);
console.log(`  CPU ${cpu.toFixed(2)} s = ${((cpu / elapsed) * 100).toFixed(3)} % of one core`);
console.log(`  wake-ups (context switches): main thread ${mainWakeups} = ${(mainWakeups / elapsed).toFixed(3)}/s; all ${w1.byThread ? Object.keys(w1.byThread).length : 0} threads ${w1.total - w0.total} = ${((w1.total - w0.total) / elapsed).toFixed(3)}/s`);
console.log(`  still answering afterwards: /health ${res.status}`);
const ok = rssMax < 80 * 1048576 && cpu / elapsed < 0.01 && mainWakeups / elapsed < 1 && res.status === 200;
console.log(ok ? 'PASS' : 'FAIL');
process.exitCode = ok ? 0 : 1;
