/**
 * Runs INSIDE the lab guest (node + tsx, the repo read over 9p): ankibridge's USB layer on a real
 * (emulated) USB bus. It prints watcher events as `EVENT {json}` lines and answers requests the
 * host drops as files into $LAB_XCHG/rpc/ (N.req.json → N.res.json), so one guest process serves
 * a whole test file (node + tsx start costs about 2 s under TCG).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HotplugWatcher } from '../../../src/usb/hotplug-watcher.js';
import { guestOps } from './driver-ops.js';
import { serveRequests } from './serve-requests.js';

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
serveRequests(rpcDir, ops, { everyMs: 50, onExit: () => watcher.dispose() });
