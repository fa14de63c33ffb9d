// Worker-thread entry for `mmcheck explore`: runs the job and reports by message. The main
// thread asks it to stop by setting a shared flag, polled between executions.
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointError } from '../engine/strategy.js';
import { UsageError } from '../model.js';
import { type MemoryModel, setDefaultMemoryModel } from '../machine/tso/store-buffer.js';
import { type JobInput, type JobMessage, runJob } from './job.js';

interface WorkerInput {
  readonly job: JobInput;
  readonly stop: SharedArrayBuffer;
  /** To a worker started early: MMCHECK_MEMORY_MODEL as the CLI has set it for the command
   * (--memory-model, a trace's or checkpoint's model), which a worker otherwise copies from the
   * environment when it starts and the machine reads when it loads. */
  readonly memoryModel?: string;
}

function takeMemoryModel(v: string | undefined): void {
  if (v === undefined) delete process.env.MMCHECK_MEMORY_MODEL;
  else process.env.MMCHECK_MEMORY_MODEL = v;
  // Unchecked, as the machine takes the variable when it loads: a bad value fails where it is used.
  setDefaultMemoryModel((v === undefined || v === '' ? 'sc' : v) as MemoryModel);
}

const post = (m: JobMessage) => parentPort!.postMessage(m);

function start(input: WorkerInput): void {
  const stop = new Int32Array(input.stop);
  runJob(input.job, () => Atomics.load(stop, 0) !== 0, post)
    .then(() => post({ type: 'done' }))
    .catch((e: unknown) => {
      if (e instanceof UsageError || e instanceof CheckpointError) post({ type: 'usage-error', message: e.message });
      else throw e;
    });
}

// Given its job at the start, or — started early by the launcher (warm-worker.ts), its modules
// loading while the CLI reads the arguments — by the first message.
const data = workerData as WorkerInput | { readonly warm: true };
if ('job' in data) start(data);
else {
  parentPort!.once('message', (m: WorkerInput) => {
    takeMemoryModel(m.memoryModel);
    start(m);
  });
}
