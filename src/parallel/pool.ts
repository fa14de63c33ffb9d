// Runs the jobs of a split search on N worker threads (tinypool). Jobs are handed out in unit
// order as workers free up; results are kept by unit index and merged in that order (merge.ts),
// so when a job finishes never matters. Once unit i has a violation, jobs after i are not
// started (the result does not need them); every job before i still runs.
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { ExploreOptions, ExploreResult } from '../engine/explore.js';
import type { Params } from '../model.js';
import { neededUnits } from './merge.js';
import type { Split } from './split.js';
import type { PoolTask } from './pool-worker.js';

export interface PoolRun {
  readonly workers: number;
  readonly source: string;
  readonly variant: string;
  readonly params: Params;
  readonly maxSteps: number;
  readonly options: ExploreOptions;
  /** The units this run explores (a shard's share); undefined: all. */
  readonly owned?: (unit: number) => boolean;
  /** Units already finished (a resumed search): kept, and counted when deciding what is needed. */
  readonly done?: readonly (ExploreResult | undefined)[];
  readonly stop: SharedArrayBuffer;
  /** Milliseconds left of the time limit, asked as each job is handed out; undefined: none. */
  readonly left?: () => number | undefined;
  readonly maxMemoryMb?: number;
  /** After every job that ends: jobs still queued or running, and the results so far. */
  readonly onUpdate?: (left: number, results: readonly (ExploreResult | undefined)[]) => void;
}

/** The compiled pool worker: from the TypeScript sources (tests), the build's copy. */
function poolWorkerFile(): string {
  const here = import.meta.url;
  return fileURLToPath(here.endsWith('.ts') ? new URL('../../dist/src/parallel/pool-worker.js', here) : new URL('./pool-worker.js', here));
}

/** One pool for every variant of a run: starting workers (and loading the model in each) costs
 * more than a small variant's whole search. closePool() ends it. */
let shared: { readonly key: string; readonly pool: Tinypool } | undefined;

function poolFor(workers: number, maxMemoryMb: number | undefined): Tinypool {
  const key = `${workers}:${maxMemoryMb ?? ''}`;
  if (shared?.key === key) return shared.pool;
  void shared?.pool.destroy();
  const pool = new Tinypool({
    filename: poolWorkerFile(),
    minThreads: workers,
    maxThreads: workers,
    ...(maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb } } : {}),
  });
  shared = { key, pool };
  return pool;
}

export async function closePool(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.pool.destroy();
}

export async function runPool(split: Split, p: PoolRun): Promise<(ExploreResult | undefined)[]> {
  const results: (ExploreResult | undefined)[] = [...(p.done ?? [])];
  const pool = poolFor(p.workers, p.maxMemoryMb);
  // The queue, in unit order. Jobs go to the pool only as workers free up (never more in
  // flight than workers), so a job past a violation already found is simply never started —
  // nothing is aborted mid-run.
  const queue = split.units.flatMap((u, i) => ('job' in u && (!p.owned || p.owned(i)) ? [i] : []));
  let inFlight = 0;
  let failure: unknown;
  const stopped = new Int32Array(p.stop);
  await new Promise<void>((resolve) => {
    const next = (): void => {
      // Once stopped, nothing new starts: the jobs not run are the checkpoint's to do.
      while (failure === undefined && Atomics.load(stopped, 0) === 0 && inFlight < p.workers && queue.length > 0) {
        const i = queue.shift()!;
        if (i >= neededUnits(split, results)) continue;
        const u = split.units[i]!;
        if (!('job' in u)) continue;
        const rest = p.left?.();
        if (rest !== undefined && rest <= 0) {
          queue.length = 0;
          break;
        }
        const options = rest === undefined ? p.options : { ...p.options, timeLimitMs: rest };
        const task: PoolTask = { source: p.source, variant: p.variant, params: p.params, maxSteps: p.maxSteps, options, job: u.job, stop: p.stop };
        inFlight++;
        (pool.run(task) as Promise<ExploreResult>).then(
          (r) => {
            results[i] = r;
            inFlight--;
            p.onUpdate?.(inFlight + queue.length, results);
            next();
          },
          (e: unknown) => {
            failure ??= e;
            inFlight--;
            next();
          },
        );
      }
      if (inFlight === 0) resolve();
    };
    next();
  });
  if (failure !== undefined) {
    await closePool();
    throw failure;
  }
  return results;
}
