// Runs the jobs of a split search on N worker threads (tinypool). Jobs are handed out in unit
// order as workers free up, wave after wave (waves.ts: a wave starts once the one before has
// finished, with the states it explored in shared memory); results are kept by unit index and
// merged in that order (merge.ts), so when a job finishes never matters. Once unit i has a
// violation, jobs after i are not started (the result does not need them); every job before i
// still runs.
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { ExploreOptions, ExploreResult } from '../engine/explore.js';
import type { Params } from '../model.js';
import { neededUnits } from './merge.js';
import type { Split } from './split.js';
import type { PoolTask } from './pool-worker.js';
import type { JobOutcome } from './subtree.js';
import { ExploredStates, wavesOf } from './waves.js';

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
  /** The states the finished units explored (a search over states), by unit. */
  readonly doneStates?: readonly (Uint32Array | undefined)[];
  /** Jobs look up the states of earlier waves (waves.ts); false: each its own cache (shards). */
  readonly share: boolean;
  /** Bytes the shared table of explored states may take. */
  readonly maxSharedBytes?: number;
  readonly stop: SharedArrayBuffer;
  /** Milliseconds left of the time limit, asked as each job is handed out; undefined: none. */
  readonly left?: () => number | undefined;
  readonly maxMemoryMb?: number;
  /** After every job that starts or ends: jobs still queued or running, the results so far,
   * and the jobs running (fewer than the workers at the end of a wave). */
  readonly onUpdate?: (left: number, results: readonly (ExploreResult | undefined)[], running: number) => void;
}

/** The results by unit, and the states each unit's job explored (for a checkpoint). */
export interface PoolResults {
  readonly results: (ExploreResult | undefined)[];
  readonly states: (Uint32Array | undefined)[];
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

export async function runPool(split: Split, p: PoolRun): Promise<PoolResults> {
  const results: (ExploreResult | undefined)[] = [...(p.done ?? [])];
  const states: (Uint32Array | undefined)[] = [...(p.doneStates ?? [])];
  const pool = poolFor(p.workers, p.maxMemoryMb);
  const explored = new ExploredStates(p.maxSharedBytes);
  const stopped = new Int32Array(p.stop);
  const waves = wavesOf(split, p.share);
  const counter = { queued: waves.reduce((n, w) => n + w.filter((i) => !p.owned || p.owned(i)).length, 0) };
  for (let w = 0; w < waves.length; w++) {
    const wave = waves[w]!;
    const queue = wave.filter((i) => !p.owned || p.owned(i));
    const table = w > 0 && explored.table.size > 0 ? explored.shared() : undefined;
    const ran = await runWave(split, p, pool, queue, table, results, states, stopped, counter);
    if (!ran) break;
    for (const i of wave) if (states[i]) explored.add(states[i]!);
  }
  return { results, states };
}

/** Runs one wave's jobs (those the result still needs); false once the search stops (stopped,
 * or out of time). */
async function runWave(
  split: Split,
  p: PoolRun,
  pool: Tinypool,
  queue: number[],
  explored: PoolTask['explored'],
  results: (ExploreResult | undefined)[],
  states: (Uint32Array | undefined)[],
  stopped: Int32Array,
  counter: { queued: number },
): Promise<boolean> {
  // Jobs go to the pool only as workers free up (never more in flight than workers), so a job
  // past a violation already found is simply never started — nothing is aborted mid-run.
  let inFlight = 0;
  let failure: unknown;
  let ended = false;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      // Once stopped, nothing new starts: the jobs not run are the checkpoint's to do.
      while (failure === undefined && Atomics.load(stopped, 0) === 0 && inFlight < p.workers && queue.length > 0) {
        const i = queue.shift()!;
        counter.queued--;
        if (i >= neededUnits(split, results)) continue;
        const u = split.units[i]!;
        if (!('job' in u)) continue;
        const rest = p.left?.();
        if (rest !== undefined && rest <= 0) {
          queue.length = 0;
          ended = true;
          break;
        }
        const options = rest === undefined ? p.options : { ...p.options, timeLimitMs: rest };
        const task: PoolTask = { source: p.source, variant: p.variant, params: p.params, maxSteps: p.maxSteps, options, job: u.job, stop: p.stop, ...(explored ? { explored } : {}) };
        inFlight++;
        p.onUpdate?.(inFlight + counter.queued, results, inFlight);
        (pool.run(task) as Promise<JobOutcome>).then(
          (r) => {
            results[i] = r.result;
            if (r.states) states[i] = r.states;
            inFlight--;
            p.onUpdate?.(inFlight + counter.queued, results, inFlight);
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
  // Not stopped and not out of time: the loop above ended with the queue empty.
  return !ended && Atomics.load(stopped, 0) === 0;
}
