// Our cloud sync client (src/sync/cloud, compiled) in a process of its own, driven like the Anki
// peer (test/peer/anki_peer.py): one JSON command per stdin line, one JSON answer per stdout
// line. The cloud bench compares it with Anki's client, which runs in the peer's process, so that
// each side's figures are its own (CPU of the whole process with every thread, peak RSS) and
// neither carries the other's heap.
//   node --max-semi-space-size=1 bench/support/cloud-client-child.mjs <compiled src folder>
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const build = process.argv[2];
if (!build) throw new Error('usage: cloud-client-child.mjs <compiled src folder>');
// loaded as the daemon loads it on its first sync (src/daemon/wiring/cloud.ts)
const { CloudSync, FileStore } = await import(pathToFileURL(join(build, 'sync/cloud/index.js')).href);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A CloudSync as the daemon's cloud.sync job makes one per run; keys in a 0600 file. */
const client = (a) =>
  new CloudSync({
    collectionPath: a.path, endpoint: a.endpoint, credentials: new FileStore(a.keys), isCollectionFree: () => true,
    media: false,
    backup: async () => undefined, // a backup store copy is the daemon's cost, not the protocol's
  });

const commands = {
  /** CPU seconds of this whole process so far (all threads), like the peer's ping. */
  cpu: () => ({ cpu: cpuSeconds(), pid: process.pid }),
  login: async (a) => CloudSync.login({ endpoint: a.endpoint, user: a.user, password: a.password, credentials: new FileStore(a.keys) }),
  sync: async (a) => {
    const r = await client(a).run(a.fullSync ? { fullSync: { direction: a.fullSync, confirmed: true } } : {});
    return r.kind === 'normal' ? { kind: r.kind, stats: r.stats } : { kind: r.kind };
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, cmd, args } = JSON.parse(line);
  try {
    const fn = commands[cmd];
    if (!fn) throw new Error(`unknown command ${cmd}`);
    process.stdout.write(`${JSON.stringify({ id, ok: true, result: await fn(args ?? {}) })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ id, ok: false, error: { code: e?.code, message: String(e?.message ?? e) } })}\n`);
  }
}
