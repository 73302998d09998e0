/**
 * A media worker thread (see media-pool.ts): runs pack/unpack jobs (media-jobs.ts) one after
 * another and posts each result, or its error, back with the job's id.
 */
import { parentPort } from 'node:worker_threads';
import { MediaJobState, runMediaJob, unpackMediaEntry, type MediaJob, type UnpackJob } from './media-jobs.js';
import { serializeJobError } from './media-job-error.js';

const port = parentPort;
if (!port) throw new Error('media-worker.js runs as a worker thread only');
const state = new MediaJobState();
port.on('message', (msg: { id: number; job: MediaJob } | { list: number; jobs: UnpackJob[]; counter: SharedArrayBuffer }) => {
  if ('list' in msg) {
    // A shared list: take the next job until none is left (or the caller stopped the list).
    const counter = new Int32Array(msg.counter);
    const gateOpen = (): boolean => Atomics.load(counter, 1) === 1;
    for (;;) {
      const i = Atomics.add(counter, 0, 1);
      if (i >= msg.jobs.length) break;
      try {
        port.postMessage({ list: msg.list, i, result: unpackMediaEntry(msg.jobs[i] as UnpackJob, state, gateOpen) });
      } catch (e) {
        port.postMessage({ list: msg.list, i, error: serializeJobError(e) });
      }
    }
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
