/**
 * One OS keyring operation in a process of its own (spawned by KeyringStore, credentials.ts):
 * reads one JSON request from stdin, answers one JSON line on stdout, exits. A keyring waiting on
 * an unlock prompt nobody answers blocks inside native code that cannot be cancelled; in the
 * daemon or the CLI that would hold a libuv thread for good and even block the process's exit
 * (Node joins its thread pool on exit). Here the parent simply kills this process.
 *
 * Request: {op: 'get'|'set'|'delete'|'find', service, account, target?, secret?}.
 * Answer: {ok: true, value} or {ok: false, message}.
 */
import { Entry, findCredentials } from '@napi-rs/keyring';

interface Request {
  op: 'get' | 'set' | 'delete' | 'find';
  service: string;
  account: string;
  target?: string;
  secret?: string;
}

function run(r: Request): unknown {
  if (r.op === 'find') return findCredentials(r.service, r.target ?? null).length;
  const e = r.target ? Entry.withTarget(r.target, r.service, r.account) : new Entry(r.service, r.account);
  if (r.op === 'get') return e.getPassword();
  if (r.op === 'set') return e.setPassword(r.secret ?? '');
  return e.deleteCredential();
}

const parts: Buffer[] = [];
for await (const chunk of process.stdin) parts.push(chunk as Buffer);
let answer: unknown;
try {
  answer = { ok: true, value: run(JSON.parse(Buffer.concat(parts).toString('utf8')) as Request) ?? null };
} catch (e) {
  answer = { ok: false, message: (e as Error).message.split('\n')[0] ?? String(e) };
}
process.stdout.write(`${JSON.stringify(answer)}\n`);
