/**
 * A media worker thread (see media-pool.ts): runs pack/unpack jobs (media-jobs.ts) one after
 * another and posts each result, or its error, back with the job's id.
 */
import { parentPort } from 'node:worker_threads';
import { MediaJobState, runMediaJob, type MediaJob } from './media-jobs.js';
import { serializeJobError } from './media-job-error.js';

const port = parentPort;
if (!port) throw new Error('media-worker.js runs as a worker thread only');
const state = new MediaJobState();
port.on('message', (msg: { id: number; job: MediaJob }) => {
  try {
    const { result, transfer } = runMediaJob(msg.job, state);
    port.postMessage({ id: msg.id, result }, transfer);
  } catch (e) {
    port.postMessage({ id: msg.id, error: serializeJobError(e) });
  }
});
