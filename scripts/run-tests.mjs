#!/usr/bin/env node
// Runs the whole test suite with vitest and ends with one plain line
// "tests: N passed, N failed, N skipped". A skipped or todo test fails the run: a peer that
// cannot be set up must fail loudly, never be skipped.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';

const report = 'test-artifacts/vitest-report.json';
// The real-Anki peer first; if it cannot be set up the peer tests fail with its message.
spawnSync(process.execPath, ['test/peer/setup.mjs'], { stdio: 'inherit' });
mkdirSync('test-artifacts', { recursive: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0, failed = 0, skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0);
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (run.status !== 0 || failed > 0) process.exit(run.status || 1);
if (skipped > 0) {
  console.error('Skipped or todo tests are not allowed: a test that cannot run must fail with a clear message.');
  process.exit(1);
}
if (passed === 0) {
  console.error('No test ran.');
  process.exit(1);
}
