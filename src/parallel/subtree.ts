// A job of the split search (split.ts): the requested strategy explores the subtree below a
// fixed prefix. The same function runs in the coordinator (one worker) and in pool workers.
import { run, type ExploreOptions, type ExploreResult } from '../engine/explore.js';
import { makeStrategy } from '../engine/strategies.js';
import { StatefulStrategy } from '../engine/stateful.js';
import { EngineError } from '../engine/errors.js';
import type { Program } from '../engine/types.js';
import type { SplitKind, SubtreeJob } from './split.js';

/** The strategy the engine runs for these options (dpor on a program with state becomes the
 * search over states), as split.ts names it; undefined: a strategy that is not split. */
export function splitKindOf(make: () => Program, o: ExploreOptions): SplitKind | undefined {
  if (o.strategy !== 'dpor' && o.strategy !== 'dfs') return undefined;
  // A bound cuts choices by what came before, a budget by how many ran before: neither splits.
  if (o.preemptionBound !== undefined || o.maxExecutions !== undefined || o.accept !== undefined) return undefined;
  const name = makeStrategy(o.strategy, make(), o).name;
  return name === 'dpor' || name === 'dfs' || name === 'stateful' || name === 'dfs+cache' ? name : undefined;
}

/** A job's result, and for a search over states that held, the states its cache holds
 * (StateCache.entries: what the jobs of later waves look up, waves.ts). */
export interface JobOutcome {
  readonly result: ExploreResult;
  readonly states?: Uint32Array;
}

/** `o.explored`: the states of the earlier waves' jobs (a search over states, shared). */
export function exploreSubtree(make: () => Program, job: SubtreeJob, o: ExploreOptions): JobOutcome {
  const strategy = makeStrategy(o.strategy ?? 'dpor', make(), o);
  if (!strategy.pin) throw new EngineError(`strategy ${strategy.name} cannot explore a subtree`);
  strategy.pin(job.prefix);
  // Results cross to the coordinator by structured clone: plain data only.
  const r = run(make, strategy, o);
  const result = { ...r, threads: [...r.threads] };
  // Only a finished search's states were explored to the end (a cut one's were not).
  return strategy instanceof StatefulStrategy && r.verdict === 'holds' ? { result, states: strategy.cache.entries() } : { result };
}
