// Must show 4: the replacing process is killed with SIGKILL at every journal write (each step's
// "begun" and "done"); on the next start the desktop collection is either the old one or the new
// one (canonical dumps through real Anki, media included), never anything else, and the journal
// says which.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer, REPO_ROOT, type CanonicalDump } from '../peer/peer.js';
import { main } from '../../src/cli/main.js';
import { resetProfile } from './support/files.js';
import { makeDesktopScene, type DesktopScene } from './support/fixture.js';

let peer: AnkiPeer;
let root: string;
let scene: DesktopScene;
const savedXdg = process.env.XDG_DATA_HOME;

function runImport(xdg: string, killAt: number | string | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/desktop/support/cli-child.ts', 'import', scene.packagePath, '--base', scene.base, '--force', '--json'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, XDG_DATA_HOME: xdg, ...(killAt === null
            ? {}
            : typeof killAt === 'number'
              ? { ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE: String(killAt) }
              : { ANKIBRIDGE_TEST_KILL_AFTER_STEP: killAt }) },
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

/** The next start: any verb opens the state DB and recovers first. */
async function nextStart(xdg: string): Promise<Array<{ txnId: string; outcome: string; note: string }>> {
  process.env.XDG_DATA_HOME = xdg;
  let out = '';
  const code = await main(['backups', '--json'], { out: (t) => (out += t), err: () => undefined });
  expect(code, out).toBe(0);
  return (JSON.parse(out) as { recovered: Array<{ txnId: string; outcome: string; note: string }> }).recovered;
}

function journal(xdg: string): { txns: Array<{ state: string; note: string }>; writes: number } {
  const db = new Database(path.join(xdg, 'ankibridge', 'state.sqlite'), { readonly: true });
  try {
    const txns = db.prepare('SELECT state, note FROM sync_journal_transactions').all() as Array<{ state: string; note: string }>;
    const steps = db.prepare('SELECT count(*) FROM sync_journal_steps').pluck().get() as number;
    const finished = txns.filter((t) => t.state !== 'running').length;
    return { txns, writes: txns.length + steps + finished };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  peer = await AnkiPeer.start();
  root = mkdtempSync(path.join(tmpdir(), 'ab-desktop-crash-'));
  scene = await makeDesktopScene(peer, root);
});
afterAll(async () => {
  await peer?.close();
  if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = savedXdg;
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('kill -9 at every step of a replace', () => {
  it('leaves the old or the new collection, and the journal says which', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    const oldDump: CanonicalDump = await peer.dump(scene.collectionPath);
    const oldContent = await peer.dump(scene.collectionPath, { ignoreSync: true });

    // an uninterrupted run: what "new" looks like, and how many journal writes a replace makes
    const cleanXdg = path.join(root, 'data-clean');
    const clean = await runImport(cleanXdg, null);
    expect(clean.code, clean.out).toBe(0);
    const newDump = await peer.dump(scene.collectionPath, { ignoreSync: true });
    const total = journal(cleanXdg).writes;
    expect(total).toBeGreaterThanOrEqual(12); // begin, 5 steps × (begun, done), finish
    // old and new differ in content, so "old or new" below is a real distinction
    expect(isDeepStrictEqual(newDump, oldContent)).toBe(false);

    const seen: string[] = [];
    // every journal write, then inside every step (its work done, the journal not yet told)
    const kills: Array<number | string> = [...Array.from({ length: total }, (_, i) => i + 1), 'lock', 'backup', 'stage', 'media', 'install'];
    for (const k of kills) {
      resetProfile(scene.pristine, scene.profileDir);
      const xdg = path.join(root, `data-${k}`);
      const run = await runImport(xdg, k);
      expect(run.signal, `kill at write ${k}: ${run.out}`).toBe('SIGKILL');

      const recovered = await nextStart(xdg);
      const full = await peer.dump(scene.collectionPath);
      const isOld = isDeepStrictEqual(full, oldDump);
      const isNew = !isOld && isDeepStrictEqual(await peer.dump(scene.collectionPath, { ignoreSync: true }), newDump);
      expect(isOld || isNew, `kill at ${k}: the collection must be exactly the old or the new one`).toBe(true);

      const { txns } = journal(xdg);
      expect(txns).toHaveLength(1);
      const state = txns[0]!.state;
      if (isOld) {
        expect(state, `kill at write ${k}`).toBe('rolled-back-on-recovery');
        expect(recovered).toEqual([expect.objectContaining({ outcome: 'rolled-back', note: expect.stringMatching(/rolled back.*the one from before/) })]);
      } else if (k === total) {
        // killed after the journal said "committed": nothing left to recover
        expect(state).toBe('committed');
        expect(recovered).toEqual([]);
      } else {
        expect(state, `kill at write ${k}`).toBe('finished-on-recovery');
        expect(recovered).toEqual([expect.objectContaining({ outcome: 'finished', note: expect.stringMatching(/finished.*the new one/) })]);
      }
      seen.push(isOld ? 'old' : 'new');
      // nothing of ours is left behind: no staged file, no partial backup
      expect(readdirSync(scene.profileDir).filter((n) => n.includes('.ankibridge-')), `kill at write ${k}`).toEqual([]);
      const backups = path.join(xdg, 'ankibridge', 'backups');
      if (existsSync(backups)) expect(readdirSync(backups).filter((n) => n.endsWith('.partial'))).toEqual([]);
    }
    // early kills roll back, late ones finish; a kill right after the rename finishes
    const byWrite = seen.slice(0, total).join(',');
    expect(byWrite).toMatch(/^(old,)+new(,new)*$/);
    expect(seen.slice(total)).toEqual(['old', 'old', 'old', 'old', 'new']);
    // 17 child processes, each a cold start of the CLI: give it room on a busy 2-core machine
  }, 420_000);

  it('does not roll back while Anki Desktop has the profile open; does it once Anki is closed', async () => {
    resetProfile(scene.pristine, scene.profileDir);
    const oldDump = await peer.dump(scene.collectionPath);
    const xdg = path.join(root, 'data-held');
    // killed after the media were added, before the swap
    const run = await runImport(xdg, 'media');
    expect(run.signal, run.out).toBe('SIGKILL');
    await peer.hold(scene.collectionPath);
    try {
      const first = await nextStart(xdg);
      expect(first).toEqual([expect.objectContaining({ outcome: 'failed', note: expect.stringMatching(/open; the interrupted import will be rolled back once it is closed/) })]);
      expect(journal(xdg).txns[0]!.state).toBe('running');
    } finally {
      await peer.release(scene.collectionPath);
    }
    const second = await nextStart(xdg);
    expect(second).toEqual([expect.objectContaining({ outcome: 'rolled-back' })]);
    expect(journal(xdg).txns[0]!.state).toBe('rolled-back-on-recovery');
    expect(await peer.dump(scene.collectionPath)).toEqual(oldDump);
  }, 120_000);
});
