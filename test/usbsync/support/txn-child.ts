// Runs one USB transaction in a child process over a scene folder (for tests that SIGKILL it at a
// journal step: ANKIBRIDGE_TEST_KILL_AT_JOURNAL_WRITE). Opening the scene runs recovery first,
// as the daemon does at start.
import { merge, pull, push } from '../../../src/sync/usb-sync/transactions.js';
import { openScene } from './scene.js';

const [root, kind, confirm] = process.argv.slice(2) as [string, 'pull' | 'push' | 'merge', string | undefined];
const s = await openScene(root);
const run = { pull, push, merge }[kind];
const r = await run(s.deps, s.conn, { confirm: confirm === 'confirm' });
process.stdout.write(`${JSON.stringify({ txnId: r.txnId, state: r.state })}\n`);
await s.close();
