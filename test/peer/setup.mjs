#!/usr/bin/env node
// Creates .peer/venv with the pinned Anki package (test/peer/requirements.txt). Idempotent: a
// stamp file records what was installed. Exits non-zero with a clear message when python3 or the
// package cannot be set up, so the tests that need the peer fail loudly instead of skipping.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const venv = path.join(root, '.peer/venv');
const req = path.join(root, 'test/peer/requirements.txt');
const stamp = path.join(venv, '.ankibridge-stamp');
const wanted = readFileSync(req, 'utf8');

if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) process.exit(0);

const python = process.env.ANKIBRIDGE_PYTHON || 'python3';
const fail = (what) => {
  console.error(`peer setup: ${what}\nThe Anki peer (PyPI "anki") is needed by the tests; they will fail until it is set up.`);
  process.exit(1);
};
mkdirSync(path.dirname(venv), { recursive: true });
let r = spawnSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
if (r.status !== 0) fail(`could not create a virtualenv with ${python} (Debian: apt-get install python3-venv).`);
const pip = path.join(venv, 'bin/pip');
r = spawnSync(pip, ['install', '--disable-pip-version-check', '-q', '-r', req], { stdio: 'inherit' });
if (r.status !== 0) fail(`pip could not install ${req}.`);
writeFileSync(stamp, wanted);
console.log(`peer setup: ${venv} ready`);
