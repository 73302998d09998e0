// Must-show 3 (folder transport): kill -9 of the process running a pull, a push or a merge at
// every journal write; the next start recovers (finishes or rolls back, and the journal says
// which); no review of either side is lost; a re-plug then completes the sync.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { openCollectionDb } from '../../src/apkg/sqlite.js';
import { openPackage } from '../../src/apkg/package/index.js';
import { inspect } from '../../src/sync/usb-sync/service.js';
import { merge, pull, push, USB_MERGE, USB_PULL, USB_PUSH } from '../../src/sync/usb-sync/transactions.js';
import { copyCollection, openScene } from './support/scene.js';

let peer: AnkiPeer;
let root: string;

function revlogIds(file: string): Set<number> {
  const db = openCollectionDb(file, { readonly: true });
  try {
    return new Set(db.prepare('SELECT id FROM revlog').pluck().all() as number[]);
  } finally {
    db.close();
  }
}

function runChild(dir: string, kind: string, killAt: number): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/usbsync/support/txn-child.ts', dir, kind], {
      env: { ...process.env, ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE: String(killAt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** A scene with a base, then edits: phone ahead (pull), desktop ahead (push) or both (merge). */
async function template(name: string, kind: 'pull' | 'push' | 'merge'): Promise<string> {
  const dir = path.join(root, name);
  const s = await openScene(dir);
  const seed = path.join(root, `${name}-seed.anki2`);
  await peer.createCollection({ path: seed, notes: 25, seed: 3, reviewsPerCard: 1, days: 10 });
  copyCollection(seed, s.desktop);
  copyCollection(seed, s.phone);
  expect((await inspect(s.deps, s.conn, 'dev')).state).toBe('in-step');
  if (kind !== 'push') await peer.modify(s.phone, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }]);
  if (kind !== 'pull') await peer.modify(s.desktop, [{ op: 'advanceClock', seconds: 3_600 }, { op: 'review', count: 3 }]);
  await s.close();
  return dir;
}

async function crashEveryStep(kind: 'pull' | 'push' | 'merge', txnKind: string): Promise<{ runs: number; outcomes: Set<string> }> {
  const outcomes = new Set<string>();
  const tpl = await template(`${kind}-tpl`, kind);
  const desktop0 = revlogIds(path.join(tpl, 'anki', 'User 1', 'collection.anki2'));
  const phone0 = revlogIds(path.join(tpl, 'phone', 'AnkiDroid', 'collection.anki2'));
  let k = 1;
  for (; k < 60; k++) {
    const dir = path.join(root, `${kind}-k${k}`);
    cpSync(tpl, dir, { recursive: true });
    const r = await runChild(dir, kind, k);
    if (r.signal !== 'SIGKILL') {
      expect(r.code, r.err).toBe(0); // ran to the end: every journal write has been a kill point
      rmSync(dir, { recursive: true, force: true });
      break;
    }
    // the next start: recovery, then the journal says what happened
    const s = await openScene(dir);
    const txns = s.deps.journal.recent(50).filter((t) => t.kind === txnKind);
    for (const t of txns) {
      expect(t.state, `k=${k}`).not.toBe('running');
      expect(t.note, `k=${k}`).toBeTruthy();
    }
    for (const x of s.recovered) if (x.kind === txnKind) outcomes.add(x.outcome);
    if (txns.length > 0) expect(s.recovered.some((x) => x.kind === txnKind && x.outcome !== 'failed') || txns[0]!.state === 'committed', `k=${k}`).toBe(true);
    // no review lost on either side
    const d = revlogIds(s.desktop);
    const p = revlogIds(s.phone);
    for (const id of desktop0) expect(d.has(id), `k=${k}: desktop review ${id}`).toBe(true);
    for (const id of phone0) expect(p.has(id), `k=${k}: phone review ${id}`).toBe(true);
    // a half-written package is never under the final name
    const dl = path.join(s.phoneRoot, 'Download');
    if (existsSync(dl)) {
      for (const f of readdirSync(dl).filter((n) => n.endsWith('.colpkg'))) {
        await using pkg = await openPackage(path.join(dl, f));
        expect(pkg.fileKind).toBe('colpkg');
      }
    }
    // re-plug: the sync completes
    const run = { pull, push, merge }[kind];
    const state = (await inspect(s.deps, s.conn, 'dev')).state;
    if (state !== 'in-step' && state !== 'waiting-for-import') await run(s.deps, s.conn);
    const after = await inspect(s.deps, s.conn, 'dev');
    expect(['in-step', 'waiting-for-import'], `k=${k}: ${after.state}`).toContain(after.state);
    const d2 = revlogIds(s.desktop);
    if (kind === 'pull' || kind === 'merge') for (const id of phone0) expect(d2.has(id), `k=${k}: phone review on desktop`).toBe(true);
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { runs: k, outcomes };
}

beforeAll(async () => {
  peer = await AnkiPeer.start({ fakeClock: true });
  root = mkdtempSync(path.join(tmpdir(), 'ab-usbsync-crash-'));
});
afterAll(async () => {
  await peer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('kill -9 at every journal write', () => {
  it('pull: old or new desktop, journal settled, no review lost; re-plug completes', async () => {
    const r = await crashEveryStep('pull', USB_PULL);
    expect(r.runs).toBeGreaterThan(15);
    expect([...r.outcomes].sort()).toEqual(['finished', 'rolled-back']);
  }, 600_000);
  it('push: phone collection untouched, no partial package, journal settled; re-plug completes', async () => {
    const r = await crashEveryStep('push', USB_PUSH);
    expect(r.runs).toBeGreaterThan(8);
    expect([...r.outcomes].sort()).toEqual(['finished', 'rolled-back']);
  }, 600_000);
  it('merge: desktop old or merged, phone untouched, no review lost; re-plug completes', async () => {
    const r = await crashEveryStep('merge', USB_MERGE);
    expect(r.runs).toBeGreaterThan(15);
    expect([...r.outcomes].sort()).toEqual(['finished', 'rolled-back']);
  }, 600_000);
});
