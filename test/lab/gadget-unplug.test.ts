/**
 * Lab, the gadget phone (umtprd: rename, so the safe write's main path temp → verify → rename):
 * unplugged (UDC unbind, as a cable pull looks to the host) in the middle of a send and of a get
 * at seeded random points (unplug-runs.ts). NAME is never partial: the old file, the new one,
 * or absent between the renames with the verified marker or the old file beside it; the next
 * plug-in repairs it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startLab, type Lab } from './harness/lab.js';
import { startDriver, type Driver } from './harness/driver.js';
import { gadgetPhone, type GadgetPhone } from './harness/gadget.js';
import { LAB_HOOK_TIMEOUT_MS } from './support.js';
import { getRuns, sendRuns, type LabPhone } from './unplug-runs.js';

const SEED = 20261206;
const RUNS = 10;
const STORE = '/tmp/gadget-unplug';
const SEND_SIZE = 3_000_000;
const GET_SIZE = 10_000_000;

let lab: Lab;
let driver: Driver;
let gadget: GadgetPhone;
let phone: LabPhone;
let newSha = '';

beforeAll(async () => {
  lab = await startLab({ memMiB: 2048 });
  driver = await startDriver(lab);
  gadget = gadgetPhone(lab);
  await lab.run(`mkdir -p ${STORE} && head -c ${SEND_SIZE} /dev/urandom > /tmp/new.colpkg`);
  await gadget.setup(STORE);
  newSha = await driver.value<string>('local.sha256', { path: '/tmp/new.colpkg' });
  let n = 0;
  phone = {
    name: 'gadget (umtprd)',
    renames: true,
    async prepare(_run, folder, file, content) {
      // a unique name in the shared folder: the guest caches it (lab notes, pitfall 12)
      const name = `old-${n++}.bin`;
      writeFileSync(join(lab.xchg, name), content);
      await lab.run(`find ${STORE} -mindepth 1 -delete && mkdir -p ${STORE}/${folder} && cp ${lab.xchg}/${name} ${STORE}/${folder}/${file}`);
    },
    async plug() {
      const from = driver.mark();
      await gadget.plug();
      await driver.waitEvent((e) => e.type === 'arrived' && e.serial === 'GADGET01', { from, timeoutMs: 120_000 });
      await driver.value('mtp.open', { serial: 'GADGET01' });
    },
    async unplug() {
      const from = driver.mark();
      await gadget.unplug();
      await driver.waitEvent((e) => e.type === 'left' && e.serial === 'GADGET01', { from, timeoutMs: 120_000 });
    },
    // the guest unbinds the gadget itself at the cut point: exact, with no round trip to the host
    cutHow: () => ({ udc: '/sys/kernel/config/usb_gadget/ankiphone/UDC' }),
    async afterCut(_run, _attempt, o) {
      // unbinds if the guest did not (the operation ended first), and restarts the phone's MTP
      // responder as Android does for every connection (guest/gadget-phone.sh)
      await gadget.unplug();
      await driver.waitEvent((e) => e.type === 'left' && e.serial === 'GADGET01', { from: o.mark, timeoutMs: 120_000 });
    },
    async sha(_run, path) {
      const out = (await lab.run(`f=${STORE}/${path}; if [ -f "$f" ]; then sha256sum "$f" | cut -d' ' -f1; else echo absent; fi`)).trim();
      return out === 'absent' ? null : out;
    },
    async names(_run, folder) {
      return (await lab.run(`ls -A ${STORE}/${folder}`)).split('\n').filter(Boolean);
    },
  };
}, LAB_HOOK_TIMEOUT_MS); // may first wait for other lab files: one guest at a time

afterAll(async () => {
  await driver?.stop();
  await lab?.stop();
});

describe('USB lab: unplug during transfers (gadget phone, rename path)', () => {
  it(`send: ${RUNS} unplugs at seeded random points never leave a partial final file`, async () => {
    const outcomes = await sendRuns(driver, phone, {
      seed: SEED, runs: RUNS, folder: 'Download', file: 'collection.colpkg', localNew: '/tmp/new.colpkg', newSha, size: SEND_SIZE, randomOld: () => randomBytes(3000),
    });
    console.log(`gadget send unplugs:\n  ${outcomes.join('\n  ')}`);
  }, 1_800_000);

  it(`get: ${RUNS} unplugs at seeded random points give a typed error and no local file`, async () => {
    const summary = await getRuns(driver, phone, { seed: SEED + 1, runs: RUNS, folder: 'Download', file: 'collection.colpkg', content: randomBytes(GET_SIZE), localDir: '/tmp/unplug-get' });
    console.log(`gadget get unplugs: ${summary}`);
  }, 1_800_000);
});
