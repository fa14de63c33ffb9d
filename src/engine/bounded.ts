// Iterative preemption bounding (Musuvathi & Qadeer, PLDI'07): DFS at bound 0, 1, 2, … so the
// first violation found has the fewest preemptions.
import { DfsStrategy } from './dfs.js';
import { run } from './driver.js';
import type { ExploreOptions, ExploreResult } from './results.js';
import { CheckpointError } from './strategy.js';
import type { Program } from './types.js';

export function exploreBounded(make: () => Program, o: ExploreOptions): ExploreResult {
  if (o.resume) throw new CheckpointError('the bounded strategy cannot resume from a checkpoint; use dpor, dfs, random or pct');
  const maxBound = o.preemptionBound ?? 3;
  let executions = 0;
  let blocked = 0;
  let steps = 0;
  let restoredSteps = 0;
  let maxDepth = 0;
  let last: ExploreResult | undefined;
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const states = new Set<string>();
  for (let bound = 0; bound <= maxBound; bound++) {
    const dfs = new DfsStrategy(bound);
    const remaining = o.maxExecutions === undefined ? undefined : o.maxExecutions - executions;
    const elapsed = now() - t0;
    const timeLeft = o.timeLimitMs === undefined ? undefined : o.timeLimitMs - elapsed;
    last = run(make, dfs, { ...o, maxExecutions: remaining, timeLimitMs: timeLeft });
    executions += last.executions;
    blocked += last.blocked;
    steps += last.steps;
    restoredSteps += last.restoredSteps;
    maxDepth = Math.max(maxDepth, last.maxDepth);
    last.finalStates?.forEach((st) => states.add(st));
    if (last.verdict !== 'holds' && last.verdict !== 'bounded') break;
    if (last.verdict === 'holds') break; // this bound pruned nothing: the search was exhaustive
    if (last.cut !== dfs.cut) break; // cut by executions or time, not by the bound
  }
  return {
    ...last!,
    strategy: `bounded(<=${maxBound})`,
    executions,
    blocked,
    steps,
    restoredSteps,
    maxDepth,
    elapsedMs: now() - t0,
    finalStates: o.collectFinalStates ? [...states].sort() : undefined,
  };
}
