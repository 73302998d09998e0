/**
 * A media worker thread (see media-pool.ts): runs pack/unpack jobs (media-jobs.ts) one after
 * another and posts each result, or its error, back with the job's id; or works through a
 * shared list of unpack jobs.
 */
import { parentPort } from 'node:worker_threads';
import { MediaJobState, runMediaJob, unpackMediaEntry, type MediaJob, type UnpackJob, type UnpackResult } from './media-jobs.js';
import { serializeJobError, type SerializedJobError } from './media-job-error.js';

const port = parentPort;
if (!port) throw new Error('media-worker.js runs as a worker thread only');
const state = new MediaJobState();
/** List results per message; results with a file for the caller to fsync and rename, sooner. */
const BATCH = 64;
const URGENT_BATCH = 4;

interface ListItem {
  i: number;
  result?: UnpackResult;
  error?: SerializedJobError;
}
port.on('message', (msg: { id: number; job: MediaJob } | { list: number; jobs: UnpackJob[]; counter: SharedArrayBuffer }) => {
  if ('list' in msg) {
    // A shared list: take the next job until none is left (or the caller stopped the list).
    // Results go back in batches (a message per file cost more than some files' work); an
    // error or a file waiting for its rename goes at once, so the caller can act on it.
    const counter = new Int32Array(msg.counter);
    const gateOpen = (): boolean => Atomics.load(counter, 1) === 1;
    let batch: ListItem[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      port.postMessage({ list: msg.list, items: batch });
      batch = [];
    };
    for (;;) {
      const i = Atomics.add(counter, 0, 1);
      if (i >= msg.jobs.length) break;
      try {
        const result = unpackMediaEntry(msg.jobs[i] as UnpackJob, state, gateOpen);
        batch.push({ i, result });
        if (batch.length >= BATCH || (result.outcome === 'written' && result.tmp !== undefined && batch.length >= URGENT_BATCH)) flush();
      } catch (e) {
        batch.push({ i, error: serializeJobError(e) });
        flush();
      }
    }
    flush();
    port.postMessage({ list: msg.list, done: true });
    return;
  }
  try {
    const { result, transfer } = runMediaJob(msg.job, state);
    port.postMessage({ id: msg.id, result }, transfer);
  } catch (e) {
    port.postMessage({ id: msg.id, error: serializeJobError(e) });
  }
});
