/**
 * Runs INSIDE the lab guest (node + tsx, the repo read over 9p): ankibridge's USB layer on a real
 * (emulated) USB bus. It prints watcher events as `EVENT {json}` lines and answers requests the
 * host drops as files into $LAB_XCHG/rpc/ (N.req.json → N.res.json), so one guest process serves
 * a whole test file (node + tsx start costs about 2 s under TCG).
 */
import { readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HotplugWatcher } from '../../../src/usb/hotplug-watcher.js';
import { guestOps } from './driver-ops.js';

const xchg = process.env.LAB_XCHG;
if (!xchg) throw new Error('LAB_XCHG is not set');
const rpcDir = join(xchg, 'rpc');
mkdirSync(rpcDir, { recursive: true });

const watcher = new HotplugWatcher({ settleMs: Number(process.env.SETTLE_MS ?? 200) });
watcher.on('phone', (ev) => {
  console.log(`EVENT ${JSON.stringify({ type: ev.type, key: ev.key, at: ev.at, usbEventAt: ev.usbEventAt, mode: ev.identity.mode, label: ev.identity.label,
    serial: ev.info.serial, vid: ev.info.vendorId, pid: ev.info.productId, guidance: ev.identity.guidance, initial: ev.initial,
    hasMtp: ev.identity.hasMtp, hasPtp: ev.identity.hasPtp, hasAdb: ev.identity.hasAdb,
    interfaces: ev.info.interfaces.map((i) => ({ class: i.class, subclass: i.subclass, protocol: i.protocol, name: i.name, endpoints: i.endpoints.length })) })}`);
});
// a device the watcher could not describe is otherwise invisible in the lab's output
watcher.on('error', (e: Error) => console.log(`EVENT ${JSON.stringify({ type: 'watcher-error', message: e.message, at: Date.now() })}`));
const status = await watcher.start();
console.log(`READY ${JSON.stringify(status)}`);

const ops = guestOps(watcher);
let busy = 0;
const timer = setInterval(() => {
  let names: string[];
  try {
    names = readdirSync(rpcDir).filter((n) => n.endsWith('.req.json'));
  } catch {
    return;
  }
  for (const name of names) {
    const id = name.slice(0, -'.req.json'.length);
    const claimed = join(rpcDir, `${id}.taken`);
    try {
      renameSync(join(rpcDir, name), claimed);
    } catch {
      continue;
    }
    const req = JSON.parse(readFileSync(claimed, 'utf8')) as { op: string; args: Record<string, unknown> };
    busy++;
    const t0 = performance.now();
    void (async () => {
      let res: unknown;
      try {
        const fn = ops[req.op];
        if (!fn) throw new Error(`unknown op ${req.op}`);
        res = { ok: true, value: await fn(req.args ?? {}), ms: performance.now() - t0 };
      } catch (e) {
        const err = e as Error & { code?: string; details?: unknown; hint?: string };
        res = { ok: false, error: { name: err.name, code: err.code ?? null, message: err.message, hint: err.hint ?? null, details: err.details ?? null }, ms: performance.now() - t0 };
      }
      writeFileSync(join(rpcDir, `${id}.res.tmp`), JSON.stringify(res));
      renameSync(join(rpcDir, `${id}.res.tmp`), join(rpcDir, `${id}.res.json`));
      busy--;
      if (req.op === 'exit') {
        clearInterval(timer);
        watcher.dispose();
        setTimeout(() => process.exit(0), 50);
      }
    })();
  }
}, 50);
void busy;
