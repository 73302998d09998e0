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
    const pushed = await guest('use-desktop', 'inspect', 'push');
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
});
