// Runs one merge in a fresh process, so that its peak RSS is the merge's own; prints JSON.
// Usage: tsx bench/merge-child.ts <base> <desktop> <phone> <out>
import { readFileSync } from 'node:fs';
import { mergeCollections } from '../src/apkg/merge/index.js';

const [base, desktop, phone, out] = process.argv.slice(2) as [string, string, string, string];
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const report = mergeCollections({ base, desktop, phone, out });
const ms = performance.now() - t0;
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({
    ms,
    peakRssBytes: hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024,
    rssBeforeBytes: rssBefore,
    report: { ...report, conflicts: report.conflicts.length },
  }),
);
