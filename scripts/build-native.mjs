#!/usr/bin/env node
// Builds the small SQLite extension that gives better-sqlite3 Anki's "unicase" collation
// (native/unicase). Runs at `npm ci` (prepare). Needs a C compiler; the SQLite headers come
// from better-sqlite3's own copy of the amalgamation, so they match the SQLite it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'native/unicase/unicase.c');
const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
const out = path.join(root, 'native/build', `unicase.${ext}`);

let includeDir;
try {
  includeDir = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'deps/sqlite3');
} catch {
  console.error('build-native: better-sqlite3 is not installed yet; run npm ci first.');
  process.exit(1);
}

if (existsSync(out) && statSync(out).mtimeMs >= Math.max(statSync(src).mtimeMs, statSync(path.join(root, 'native/unicase/casefold_table.h')).mtimeMs)) {
  process.exit(0);
}
mkdirSync(path.dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const args = process.platform === 'darwin'
  ? ['-O2', '-fPIC', '-dynamiclib', `-I${includeDir}`, src, '-o', out]
  : ['-O2', '-fPIC', '-shared', `-I${includeDir}`, src, '-o', out];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-native: could not compile ${src} with ${cc}. Install a C compiler (Debian: apt-get install build-essential).`);
  process.exit(1);
}
console.log(`build-native: built ${path.relative(root, out)}`);
