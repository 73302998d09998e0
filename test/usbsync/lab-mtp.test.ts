// USB sync over MTP in the QEMU lab (one guest boot): ankibridge's own MTP initiator talks to
// QEMU's usb-mtp phone (which cannot rename: the USB layer's copy-verify fallback is used), the
// real Anki peer on the host makes and edits both collections. Proven here: first meeting of equal
// collections → base; phone ahead → pull → desktop equals the phone; desktop ahead → push → the
// package on the phone imports in real Anki to the desktop's dump; waiting for import until the
// phone holds it, then in step.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnkiPeer } from '../peer/peer.js';
import { comparable } from '../merge/harness.js';
import { startLab, type Lab } from '../lab/harness/lab.js';
import { pushedName } from '../../src/sync/usb-sync/transactions.js';

let lab: Lab;
let peer: AnkiPeer;
let phoneDir: string;
let phoneCol: string;

interface GuestResult {
  error?: { code: string | null; message: string };
  canRename?: boolean;
  inspect?: { state: string; recommended: string | null; headline: string; phoneSource: string; ms: number };
  pull?: { state: string };
  push?: { state: string; phonePath: string; message: string };
}

async function guest(...steps: string[]): Promise<GuestResult> {
  const outp = await lab.run(lab.nodeCmd('test/usbsync/lab/guest-usbsync.ts', [lab.xchg, ...steps]), { timeoutMs: 240_000 });
  const line = outp.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`guest printed no result:\n${outp}`);
  const r = JSON.parse(line.slice(7)) as GuestResult;
  if (r.error) throw new Error(`guest failed: ${r.error.code ?? ''} ${r.error.message}`);
  return r;
}

let plugged = false;
async function unplug(): Promise<void> {
  if (plugged) await lab.unplug('p1');
  plugged = false;
}
async function replug(): Promise<void> {
  await unplug();
  await lab.plugPhone(phoneDir, { id: 'p1', serial: 'LABSYNC1' });
  plugged = true;
}

beforeAll(async () => {
  [lab, peer] = await Promise.all([startLab(), AnkiPeer.start({ fakeClock: true })]);
  phoneDir = lab.phoneDir('usbsync');
  phoneCol = path.join(phoneDir, 'AnkiDroid', 'collection.anki2');
  const seed = path.join(lab.workDir, 'seed.anki2');
  await peer.createCollection({ path: seed, notes: 20, seed: 31, reviewsPerCard: 1 });
  mkdirSync(path.dirname(phoneCol), { recursive: true });
  copyFileSync(seed, phoneCol);
  copyFileSync(seed, path.join(lab.xchg, 'desktop-in.anki2'));
}, 1_500_000);
afterAll(async () => {
  await peer?.close();
  await lab?.stop();
});

describe('USB sync over MTP in the lab', () => {
  it('base at first meeting; phone ahead → pull; desktop ahead → push; waiting for import; in step after the import', async () => {
    await replug();
    const first = await guest('use-desktop', 'inspect');
    expect(first.canRename).toBe(false);
    expect(first.inspect?.state).toBe('in-step');
    expect(first.inspect?.phoneSource).toContain('live collection');

    await unplug();
    await peer.modify(phoneCol, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 4 }]);
    await replug();
    const pulled = await guest('inspect', 'pull');
    expect(pulled.inspect?.state).toBe('phone-ahead');
    expect(pulled.pull?.state).toBe('committed');
    const desktopOut = path.join(lab.xchg, 'desktop-out.anki2');
    const probeD = path.join(lab.workDir, 'probe-d', 'collection.anki2');
    mkdirSync(path.dirname(probeD), { recursive: true });
    copyFileSync(desktopOut, probeD);
    expect(comparable(await peer.dump(probeD, { ignoreSync: true }))).toEqual(comparable(await peer.dump(phoneCol, { ignoreSync: true })));

    // desktop ahead: the peer studies on the desktop's copy, handed back to the guest
    const deskIn = path.join(lab.workDir, 'desk-in', 'collection.anki2');
    mkdirSync(path.dirname(deskIn), { recursive: true });
    copyFileSync(desktopOut, deskIn);
    await peer.modify(deskIn, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 3 }]);
    copyFileSync(deskIn, path.join(lab.xchg, 'desktop-in.anki2'));
    let pushed: GuestResult | undefined;
    for (let attempt = 1; !pushed; attempt++) {
      try {
        pushed = await guest('use-desktop', 'inspect', 'push');
      } catch (e) {
        // QEMU 7.2's usb-mtp stalls SendObject for some upload sizes ((size + 12) % 64 < 12, see
        // test/lab/support.ts): a lab limitation, not ours. Another review changes the size.
        if (attempt >= 3 || !/SendObject.*STALL/.test((e as Error).message)) throw e;
        console.log(`USBSYNC LAB: QEMU usb-mtp upload-size stall (lab limitation), attempt ${attempt}; retrying with a different package size`);
        await peer.modify(deskIn, [{ op: 'review', count: 1 }]);
        copyFileSync(deskIn, path.join(lab.xchg, 'desktop-in.anki2'));
        await replug();
      }
    }
    expect(pushed.inspect?.state).toBe('desktop-ahead');
    expect(pushed.push?.phonePath).toBe(`Download/${pushedName('User 1')}`);
    await unplug();
    const pkg = path.join(phoneDir, 'Download', pushedName('User 1'));
    const probeP = path.join(lab.workDir, 'probe-p', 'collection.anki2');
    await peer.importPackage({ path: probeP, pkg, kind: 'colpkg' });
    expect(comparable(await peer.dump(probeP, { ignoreSync: true }))).toEqual(comparable(await peer.dump(deskIn, { ignoreSync: true })));

    await replug();
    expect((await guest('inspect')).inspect?.state).toBe('waiting-for-import');
    await unplug();
    await peer.importPackage({ path: phoneCol, pkg, kind: 'colpkg' }); // the person imports it in AnkiDroid
    await replug();
    expect((await guest('inspect')).inspect?.state).toBe('in-step');
  }, 900_000);

  it('timing: plug-in → decision ready for a 20k-card collection over MTP (reported)', async () => {
    await unplug();
    const big = lab.phoneDir('usbsync-big');
    const col = path.join(big, 'AnkiDroid', 'collection.anki2');
    mkdirSync(path.dirname(col), { recursive: true });
    const made = await peer.createCollection({ path: col, notes: 10_000, seed: 41, noteTypes: ['reversed'], reviewsPerCard: 3, days: 200 });
    expect(made.cards).toBe(20_000);
    copyFileSync(col, path.join(lab.xchg, 'desktop-in.anki2'));
    await lab.plugPhone(big, { id: 'p2', serial: 'LABSYNC2' });
    expect((await guest('use-desktop', 'inspect')).inspect?.state).toBe('in-step');
    await lab.unplug('p2');
    await peer.modify(col, [{ op: 'advanceClock', seconds: 86_400 }, { op: 'review', count: 20 }]);
    const t0 = performance.now();
    await lab.plugPhone(big, { id: 'p2', serial: 'LABSYNC2' });
    const r = await guest('inspect');
    const whole = performance.now() - t0;
    expect(r.inspect?.state).toBe('phone-ahead');
    // Reported, not asserted against the 3 s goal: the guest is software-emulated (TCG), and the
    // whole figure includes starting node + tsx in the guest, which the daemon pays once.
    console.log(`USBSYNC LAB TIMING: decision ready (MTP read + fingerprints + decision) ${(r.inspect?.ms ?? 0).toFixed(0)} ms; plug → result incl. guest node start ${whole.toFixed(0)} ms; ${made.cards} cards, ${made.revlog} reviews`);
    await lab.unplug('p2');
  }, 900_000);
});
