// A pool worker (pool.ts): explores one job of a split search. The model is loaded once per
// worker and source (a built-in name or a model file, through tsx), then bound per task.
import type { ExploreOptions } from '../engine/explore.js';
import { loadModel } from '../cli/load.js';
import { bindModel, type Model, type Params } from '../model.js';
import type { SubtreeJob } from './split.js';
import { exploreSubtree, type JobOutcome } from './subtree.js';
import { StateCache, type SharedTable } from '../engine/state-cache.js';

/** One job as it crosses to a worker: plain data and the shared stop flag. */
export interface PoolTask {
  /** A built-in model's name or a model file's absolute path. */
  readonly source: string;
  readonly variant: string;
  readonly params: Params;
  readonly maxSteps: number;
  readonly options: ExploreOptions;
  readonly job: SubtreeJob;
  /** Set (to non-zero) by the coordinator to stop after the current execution. */
  readonly stop: SharedArrayBuffer;
  /** The states the earlier waves' jobs explored (waves.ts), read in place. */
  readonly explored?: SharedTable;
}

const models = new Map<string, Promise<Model>>();

export default async function exploreTask(task: PoolTask): Promise<JobOutcome> {
  let model = models.get(task.source);
  if (!model) models.set(task.source, (model = loadModel(task.source).then((l) => l.model)));
  const bound = bindModel(await model, task.variant, task.params, task.maxSteps);
  const stop = new Int32Array(task.stop);
  const explored = task.explored ? StateCache.over(task.explored) : undefined;
  return exploreSubtree(bound.make, task.job, { ...task.options, maxSteps: bound.maxSteps, shouldStop: () => Atomics.load(stop, 0) !== 0, ...(explored ? { explored } : {}) });
}
