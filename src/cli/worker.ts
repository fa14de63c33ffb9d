// Worker-thread entry for `mmcheck explore`: runs the job and reports by message. The main
// thread asks it to stop by setting a shared flag, polled between executions.
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointError } from '../engine/strategy.js';
import { UsageError } from '../model.js';
import { type JobInput, type JobMessage, runJob } from './job.js';

interface WorkerInput {
  readonly job: JobInput;
  readonly stop: SharedArrayBuffer;
}

const input = workerData as WorkerInput;
const stop = new Int32Array(input.stop);
const post = (m: JobMessage) => parentPort!.postMessage(m);

runJob(input.job, () => Atomics.load(stop, 0) !== 0, post)
  .then(() => post({ type: 'done' }))
  .catch((e: unknown) => {
    if (e instanceof UsageError || e instanceof CheckpointError) post({ type: 'usage-error', message: e.message });
    else throw e;
  });
