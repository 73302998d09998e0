/**
 * Lab, QEMU's usb-mtp phone (no rename: the safe write's copy-verify fallback): the phone is
 * unplugged in the middle of a send and of a get at seeded random points (unplug-runs.ts).
 * Each time: a typed error, no partial file under the final name except inside the fallback's
 * window where its verified marker flags it and the next plug-in repairs it, no crash, and the
 * next plug-in is seen.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';
import { assertLabSafeSize, LAB_HOOK_TIMEOUT_MS, plugAndOpen, unplugAndWait, writeTree } from './support.js';
import { getRuns, sendRuns, sha256, type LabPhone } from './unplug-runs.js';

const SEED = 20261125;
const RUNS = 10;
const SEND_SIZE = assertLabSafeSize(5_242_880);
const GET_SIZE = assertLabSafeSize(20_000_000);

let lab: Lab;
let driver: Driver;
let newSha = '';
let phone: LabPhone;

beforeAll(async () => {
  lab = await startLab();
  driver = await startDriver(lab);
  await lab.run(`head -c ${SEND_SIZE} /dev/urandom > /tmp/new.colpkg`);
  newSha = await driver.value<string>('local.sha256', { path: '/tmp/new.colpkg' });
  const dirs = new Map<string, string>();
  const dir = (run: string): string => dirs.get(run) ?? '';
  phone = {
    name: 'usb-mtp',
    renames: false,
    async prepare(run, folder, file, content) {
      const d = lab.phoneDir(run);
      writeTree(d, { [`${folder}/${file}`]: content });
      dirs.set(run, d);
    },
    async plug(run, attempt) {
      // QEMU 7.2's usb-mtp has no unrealize: pulled with a session open, it leaves its inotify
      // watches behind pointing at freed memory, and the next change in a folder it watched
      // crashes QEMU (SIGSEGV in its file monitor; seen here). The phone is plugged in again
      // with a copy of its storage, so the old watches never fire.
      if (attempt !== 'a') {
        const copy = lab.phoneDir(`${run}${attempt}`);
        cpSync(dir(run), copy, { recursive: true });
        dirs.set(run, copy);
      }
      await plugAndOpen(lab, driver, dir(run), `${run}${attempt}`);
    },
    unplug: (run, attempt) => unplugAndWait(lab, driver, `${run}${attempt}`),
    // the guest stops at the cut point; the host pulls the phone over QMP, then lets it go on
    cutHow: (tag) => ({ doneFile: join(lab.xchg, `cut-${tag}.done`) }),
    async afterCut(run, attempt, o) {
      await lab.unplug(`${run}${attempt}`);
      if (o.cutSeen && 'doneFile' in o.how) writeFileSync(o.how.doneFile, '');
      await driver.waitEvent((e) => e.type === 'left' && e.serial === `${run}${attempt}`.toUpperCase(), { from: o.mark, timeoutMs: 120_000 });
    },
    async sha(run, path) {
      const p = join(dir(run), path);
      return existsSync(p) ? sha256(readFileSync(p)) : null;
    },
    async names(run, folder) {
      return readdirSync(join(dir(run), folder));
    },
  };
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

describe('USB lab: unplug during transfers (QEMU usb-mtp, no rename)', () => {
  it(`send: ${RUNS} unplugs at seeded random points never leave a partial final file once the phone is back`, async () => {
    const outcomes = await sendRuns(driver, phone, {
      seed: SEED, runs: RUNS, folder: 'AnkiDroid', file: 'collection.colpkg', localNew: '/tmp/new.colpkg', newSha, size: SEND_SIZE, randomOld: () => randomBytes(3000),
    });
    console.log(`usb-mtp send unplugs:\n  ${outcomes.join('\n  ')}`);
  }, 1_800_000);

  it(`get: ${RUNS} unplugs at seeded random points give a typed error and no local file`, async () => {
    const summary = await getRuns(driver, phone, { seed: SEED + 1, runs: RUNS, folder: 'AnkiDroid', file: 'collection.colpkg', content: randomBytes(GET_SIZE), localDir: '/tmp/unplug-get' });
    console.log(`usb-mtp get unplugs: ${summary}`);
  }, 1_800_000);
});
