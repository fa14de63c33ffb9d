// Runs the jobs of a split search on N worker threads (tinypool: idle workers take the next job
// from one queue). Results are kept by unit index and merged in that order (merge.ts), so when
// a job finishes never matters; a violation found in unit i cancels the jobs after i, which the
// result does not need, and nothing before i.
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
  readonly stop: SharedArrayBuffer;
  readonly maxMemoryMb?: number;
  /** After every job that ends: jobs still queued or running, and the results so far. */
  readonly onUpdate?: (left: number, results: readonly (ExploreResult | undefined)[]) => void;
}

/** The compiled pool worker: from the TypeScript sources (tests), the build's copy. */
function poolWorkerFile(): string {
  const here = import.meta.url;
  return fileURLToPath(here.endsWith('.ts') ? new URL('../../dist/src/parallel/pool-worker.js', here) : new URL('./pool-worker.js', here));
}

class Cancelled extends Error {}

export async function runPool(split: Split, p: PoolRun): Promise<(ExploreResult | undefined)[]> {
  const results: (ExploreResult | undefined)[] = [];
  const pool = new Tinypool({
    filename: poolWorkerFile(),
    minThreads: p.workers,
    maxThreads: p.workers,
    ...(p.maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: p.maxMemoryMb } } : {}),
  });
  const controllers = new Map<number, AbortController>();
  let failure: unknown;
  try {
    const tasks: Promise<void>[] = [];
    split.units.forEach((u, i) => {
      if (!('job' in u) || (p.owned && !p.owned(i))) return;
      const abort = new AbortController();
      controllers.set(i, abort);
      const task: PoolTask = { source: p.source, variant: p.variant, params: p.params, maxSteps: p.maxSteps, options: p.options, job: u.job, stop: p.stop };
      tasks.push(
        (pool.run(task, { signal: abort.signal }) as Promise<ExploreResult>).then(
          (r) => {
            results[i] = r;
            controllers.delete(i);
            // Units past the first violation are not part of the result: cancel them.
            const need = neededUnits(split, results);
            for (const [j, c] of controllers) if (j >= need) c.abort(new Cancelled());
            p.onUpdate?.(controllers.size, results);
          },
          (e: unknown) => {
            controllers.delete(i);
            if (!(abort.signal.aborted && abort.signal.reason instanceof Cancelled)) {
              failure ??= e;
              for (const c of controllers.values()) c.abort(new Cancelled());
            }
          },
        ),
      );
    });
    await Promise.all(tasks);
  } finally {
    await pool.destroy();
  }
  if (failure !== undefined) throw failure;
  return results;
}
