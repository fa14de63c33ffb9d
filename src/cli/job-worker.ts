// Runs one explore job in a worker thread and resolves with its results — for callers that are
// not the CLI (the vitest matchers): no signals, no progress display, but the same protection
// against a model that hangs. A step that never returns blocks its thread for good, so the
// exploration must not run on the caller's: the worker is terminated when it shows no sign of
// life for `stallMs`, or is still running `graceMs` after its time budget ran out.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JobInput, JobMessage, JobResult } from './job.js';
import { DEFAULT_HEAP_MB } from './warm-worker.js';

export interface WorkerLimits {
  /** No message (result, progress, heartbeat) for this long, once loaded: the model is hung. */
  readonly stallMs: number;
  /** Starting the worker and loading the model (tsx compiles a file) may take this long; a
   * loaded machine under load can take seconds, which must not read as a hung step. */
  readonly startupMs?: number;
  /** The whole job's wall-clock limit after loading; the search stops at job.search.timeLimitS. */
  readonly deadlineMs: number;
  readonly maxMemoryMb?: number;
}

export class JobFailure extends Error {}

/** The compiled worker entry (worker.ts), for the CLI and the matchers alike. */
export function workerUrl(): URL {
  const here = import.meta.url;
  // From the TypeScript sources (tests), run the compiled worker: workers cannot load .ts.
  return here.endsWith('.ts') ? new URL('../../dist/src/cli/worker.js', here) : new URL('./worker.js', here);
}

export function exploreInWorker(job: JobInput, limits: WorkerLimits): Promise<JobResult[]> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(fileURLToPath(workerUrl()), { workerData: { job, stop }, resourceLimits: { maxOldGenerationSizeMb: limits.maxMemoryMb ?? DEFAULT_HEAP_MB } });
  const results: JobResult[] = [];
  const created = Date.now();
  const startupMs = limits.startupMs ?? 30_000;
  let loadedAt: number | undefined;
  let lastSign = created;
  let current = 'the model';
  let failure: Error | undefined;
  const fail = (message: string) => {
    failure ??= new JobFailure(message);
    void worker.terminate();
  };
  const watchdog = setInterval(() => {
    const now = Date.now();
    if (loadedAt === undefined) {
      if (now - created > startupMs) fail(`${current} did not load within ${Math.round(startupMs / 1000)} s (a model module that never finishes evaluating?)`);
    } else if (now - lastSign > limits.stallMs) fail(`${current} made no progress for ${Math.round(limits.stallMs / 1000)} s: a step that never returns (a loop in model code that does not yield)?`);
    else if (now - loadedAt > limits.deadlineMs) fail(`${current} did not finish within ${Math.round(limits.deadlineMs / 1000)} s`);
  }, 100);
  worker.on('message', (m: JobMessage) => {
    lastSign = Date.now();
    loadedAt ??= lastSign; // the first message ('loaded') comes once the model is loaded
    if (m.type === 'start') current = m.key;
    else if (m.type === 'result') results.push(m.result);
    else if (m.type === 'usage-error') failure ??= new JobFailure(m.message);
  });
  return new Promise<JobResult[]>((resolve, reject) => {
    worker.on('error', (e: Error) => {
      if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') failure ??= new JobFailure(`${current} ran out of memory (heap limit ${limits.maxMemoryMb ?? DEFAULT_HEAP_MB} MB)`);
      else failure ??= e;
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      if (failure) reject(failure);
      else resolve(results);
    });
  });
}
