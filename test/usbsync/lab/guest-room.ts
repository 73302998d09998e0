/**
 * Runs INSIDE the lab guest: the USB sync room as the daemon runs it — usbSyncPlugin started
 * (journal recovery, then the PhoneLink on node-usb's hot-plug watcher), phones linked on plug-in
 * over ankibridge's own MTP initiator — serving a host test through the lab driver's protocol
 * (READY line, `EVENT {json}` lines, requests in $LAB_XCHG/rpc; test/lab/harness/driver.ts).
 *
 * Events: {type:'decision', deviceId, state, headline, ...} whenever a phone's decision changes,
 * {type:'timing', ...} for each plug-in → decision, {type:'progress'} from jobs, {type:'cut'} when
 * an armed cut point is reached (the guest then waits until the phone is really unplugged, so the
 * next USB transfer fails as a real unplug makes it fail).
 * The desktop profile lives in the guest's /tmp (SQLite locking on a local file system); the host
 * hands collections in and out through the shared folder.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { usbSyncPlugin } from '../../../src/sync/usb-sync/daemon-plugin.js';
import { defaultProbe, type PhoneTransport } from '../../../src/sync/usb-sync/phone-link.js';
import type { DecisionView } from '../../../src/sync/usb-sync/decision.js';
import { HotplugWatcher } from '../../../src/usb/hotplug-watcher.js';
import { serveRequests } from '../../lab/guest/serve-requests.js';

const xchg = process.env.LAB_XCHG;
if (!xchg) throw new Error('LAB_XCHG is not set');
const rpcDir = path.join(xchg, 'rpc');
mkdirSync(rpcDir, { recursive: true });
const home = process.env.USBSYNC_HOME ?? '/tmp/usbsync';
const desktop = path.join(home, 'anki', 'User 1', 'collection.anki2');
const mediaDir = path.join(path.dirname(desktop), 'collection.media');
mkdirSync(mediaDir, { recursive: true });
mkdirSync(path.join(home, 'tmp'), { recursive: true });

const emit = (e: Record<string, unknown>): void => console.log(`EVENT ${JSON.stringify({ at: Date.now(), ...e })}`);

// ---- cut points: a real unplug at a chosen place in a transfer ----------------------------
interface Cut {
  op: 'write' | 'read';
  /** Only calls whose phone path contains this. */
  match: string;
  /** The n-th matching call (1 = the first). */
  nth: number;
  afterBytes: number;
}
let cut: Cut | null = null;
let seen = 0;
let current: PhoneTransport | null = null;

async function holdUntilUnplugged(t: PhoneTransport, what: string, bytes: number): Promise<void> {
  emit({ type: 'cut', what, bytes });
  const t0 = Date.now();
  while (t.session.pipe.isConnected() && Date.now() - t0 < 120_000) await sleep(20);
  emit({ type: 'cut-unplugged', what, ms: Date.now() - t0 });
}

function withCutPoints(t: PhoneTransport): PhoneTransport {
  const w = Object.create(t) as PhoneTransport;
  const armed = (op: Cut['op'], p: string): Cut | null => {
    const c = cut;
    if (!c || c.op !== op || !p.includes(c.match)) return null;
    if (++seen !== c.nth) return null;
    cut = null;
    return c;
  };
  w.write = async (p, source) => {
    // QEMU's usb-mtp stalls — or aborts — on uploads with (size + 12) % 64 < 12 (test/lab/support.ts):
    // such a write is refused here, before it reaches QEMU, as the stall it would be.
    if ((source.size + 12) % 64 < 12) throw new Error(`lab: QEMU usb-mtp cannot take an upload of ${source.size} bytes (SendObject stall)`);
    const c = armed('write', p);
    if (!c) return t.write(p, source);
    let sent = 0;
    let held = false;
    return t.write(p, {
      size: source.size,
      async *open() {
        for await (const chunk of source.open()) {
          let rest = chunk;
          if (!held && sent + rest.byteLength > c.afterBytes) {
            // the cut falls in this chunk: send up to it, then wait for the unplug
            const head = rest.subarray(0, Math.max(0, c.afterBytes - sent));
            sent += head.byteLength;
            if (head.byteLength > 0) yield head;
            rest = rest.subarray(head.byteLength);
            held = true;
            await holdUntilUnplugged(t, `write ${p}`, sent);
          }
          sent += rest.byteLength;
          if (rest.byteLength > 0) yield rest;
        }
      },
    });
  };
  w.read = async (p, sink, opts) => {
    const c = armed('read', p);
    if (!c) return t.read(p, sink, opts);
    let got = 0;
    let held = false;
    return t.read(
      p,
      async (chunk) => {
        got += chunk.length;
        await sink(chunk);
        if (!held && got >= c.afterBytes) {
          held = true;
          await holdUntilUnplugged(t, `read ${p}`, got);
        }
      },
      opts,
    );
  };
  return w;
}

// ---- the room -----------------------------------------------------------------------------
const last = new Map<string, DecisionView>();
function makeRoom() {
  return usbSyncPlugin({
    dataDir: path.join(home, 'data'),
    stateDb: path.join(home, 'state.db'),
    tmpDir: path.join(home, 'tmp'),
    trace: (stage, ms) => emit({ type: 'stage', stage, ms: Math.round(ms) }),
    target: () => ({ profile: 'User 1', collectionPath: desktop, mediaDir }),
    watcher: () => new HotplugWatcher({ settleMs: 200 }),
    link: {
      retryMs: 1000,
      probe: async (device, identity, hooks) => {
        const r = await defaultProbe(device, identity, hooks);
        if (!r.ready) return r;
        current = withCutPoints(r.transport);
        return { ready: true, transport: current };
      },
      onDecision: (deviceId, d, t) =>
        emit({ type: 'timing', deviceId, state: d.state, msFromUsb: t.decidedAt - t.usbEventAt, settleMs: t.arrivedAt - t.usbEventAt, openMs: t.openedAt - t.arrivedAt, readMs: t.decidedAt - t.openedAt }),
    },
  });
}
let room = makeRoom();
const log = {
  info: (o: object, m: string) => console.log(`LOG info ${m} ${JSON.stringify(o)}`),
  warn: (o: object, m: string) => console.log(`LOG warn ${m} ${JSON.stringify(o)}`),
};
function watchDecisions(r: ReturnType<typeof makeRoom>): void {
  r.providers.decisions.onChange(() => {
    const now = new Map(r.providers.decisions.all().map((d) => [d.deviceId, d] as const));
    for (const [id, d] of now) {
      const before = last.get(id);
      if (before && before.id === d.id && before.state === d.state) continue;
      last.set(id, d);
      emit({ type: 'decision', deviceId: id, state: d.state, headline: d.headline, recommended: d.recommended, phoneSource: d.phone.source, actions: d.actions.map((a) => ({ id: a.id, available: a.available, needsConfirmation: a.needsConfirmation, guard: a.guard })) });
    }
    for (const id of [...last.keys()]) {
      if (!now.has(id)) {
        last.delete(id);
        emit({ type: 'decision-cleared', deviceId: id });
      }
    }
  });
}
watchDecisions(room);
const recovered = room.recoverAtStart();
await room.start({ log });
console.log(`READY ${JSON.stringify({ usable: true, recovered })}`);

function deviceId(a: Record<string, unknown>): string {
  if (typeof a.deviceId === 'string') return a.deviceId;
  const ids = [...last.keys()];
  if (ids.length !== 1) throw new Error(`which phone? ${ids.length} are known: ${ids.join(', ')}`);
  return ids[0] as string;
}

type Op = (a: Record<string, unknown>) => Promise<unknown>;
const ops: Record<string, Op> = {
  async 'use-desktop'(a) {
    rmSync(`${desktop}-wal`, { force: true });
    copyFileSync(String(a.from), desktop);
    if (typeof a.media === 'string') {
      rmSync(mediaDir, { recursive: true, force: true });
      cpSync(a.media, mediaDir, { recursive: true });
    }
    return true;
  },
  async 'desktop-out'(a) {
    copyFileSync(desktop, String(a.to));
    if (typeof a.media === 'string') {
      rmSync(a.media, { recursive: true, force: true });
      cpSync(mediaDir, a.media, { recursive: true });
    }
    return true;
  },
  /** A media file added on the desktop (changes a package's size, not the collection). */
  async 'desktop-add-media'(a) {
    // random bytes: they do not compress, so the package grows by about this much (not by a constant)
    writeFileSync(path.join(mediaDir, String(a.name)), randomBytes(Number(a.bytes)));
    return true;
  },
  async 'desktop-media'() {
    return existsSync(mediaDir) ? readdirSync(mediaDir).sort() : [];
  },
  async decision(a) {
    return room.providers.decisions.get(deviceId(a)) ?? null;
  },
  async devices() {
    return room.providers.devices.listDevices();
  },
  async refresh(a) {
    return room.refresh(deviceId(a));
  },
  async job(a) {
    const kind = String(a.kind);
    const h = room.jobHandlers.find((x) => x.kind === kind);
    if (!h) throw new Error(`no job ${kind}`);
    const t0 = performance.now();
    const result = await h.run({
      params: { deviceId: deviceId(a), ...(a.confirm === true ? { confirm: true } : {}), ...(typeof a.format === 'string' ? { format: a.format as 'latest' } : {}) },
      progress: (p) => emit({ type: 'progress', kind, ...p }),
      signal: new AbortController().signal,
    });
    return { ...result, ms: performance.now() - t0 };
  },
  async cut(a) {
    cut = { op: a.op as Cut['op'], match: String(a.match ?? ''), nth: Number(a.nth ?? 1), afterBytes: Number(a.afterBytes ?? 0) };
    seen = 0;
    return true;
  },
  async 'backup-out'(a) {
    const b = room.deps().backups.get(String(a.id));
    copyFileSync(b.collectionPath, String(a.to));
    return { source: b.source, reason: b.reason };
  },
  async journal(a) {
    return room.deps().journal.recent(Number(a.limit ?? 10));
  },
  async history() {
    return room.deps().pairs.history(undefined, 50);
  },
  /** The daemon stops and starts again (recovery at start, phones linked anew). */
  async restart() {
    await room.stop();
    last.clear();
    room = makeRoom();
    watchDecisions(room);
    const r = room.recoverAtStart();
    await room.start({ log });
    return r;
  },
  async exit() {
    return true;
  },
};

serveRequests(rpcDir, ops, { everyMs: 20, onExit: () => room.stop() });
void current;
