#!/usr/bin/env node
// Runs the benchmarks in bench/ one after another (each is a standalone TypeScript script that
// prints its figures side by side with real Anki). `npm run bench -- merge` runs the ones whose
// file name contains "merge".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv[2] ?? '';
spawnSync(process.execPath, ['test/peer/setup.mjs'], { stdio: 'inherit' });
const files = readdirSync('bench').filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
if (files.length === 0) {
  console.error(`no benchmark matches "${filter}"`);
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n### bench/${f}`);
  const r = spawnSync('npx', ['tsx', `bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
