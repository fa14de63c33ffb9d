// The explorer worker of `mmcheck explore`, started by the launcher (bin/mmcheck.js) before
// this thread loads the rest of the CLI: the worker loads the engine and the models on the other
// core meanwhile, and explore-command.ts hands it the job once the arguments are read. On the
// 2-core machine a small model's explore took 0.34 s from start to a ready worker, 0.24 s so.
// Light on purpose: it imports nothing of mmcheck, so the launcher starts the worker at once.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** --max-memory's default (args.ts), the explorer's heap limit; the worker started early has it,
 * and another limit needs a worker of its own. */
export const DEFAULT_HEAP_MB = 4096;

interface Warm {
  readonly worker: Worker;
  dead: boolean;
}

let warm: Warm | undefined;

/** Starts the explorer (once). It keeps nothing alive: a CLI run that never takes it exits
 * as it would without it. */
export function startExplorer(): void {
  if (warm) return;
  const worker = new Worker(fileURLToPath(new URL('./worker.js', import.meta.url)), { workerData: { warm: true }, resourceLimits: { maxOldGenerationSizeMb: DEFAULT_HEAP_MB } });
  const w: Warm = { worker, dead: false };
  // Until taken, a failure only means it is not used (a fresh worker then reports the error).
  worker.on('error', () => (w.dead = true));
  worker.on('exit', () => (w.dead = true));
  worker.unref();
  warm = w;
}

/** The started explorer, given its job, or undefined when there is none (not started, gone, or
 * started with another heap limit than `heapMb`, then ended). */
export function takeExplorer(input: { readonly job: unknown; readonly stop: SharedArrayBuffer }, heapMb: number): Worker | undefined {
  const w = warm;
  warm = undefined;
  if (!w || w.dead) return undefined;
  if (heapMb !== DEFAULT_HEAP_MB) {
    void w.worker.terminate();
    return undefined;
  }
  w.worker.ref();
  // The environment as the command has set it (cli/memory-model.ts): the worker copied it at
  // its start, before the arguments were read.
  w.worker.postMessage({ ...input, memoryModel: process.env.MMCHECK_MEMORY_MODEL });
  return w.worker;
}
