// The strategy registry: a name on the command line to a Strategy object.
import { Dependence } from './dependence.js';
import { DfsStrategy } from './dfs.js';
import { DporStrategy } from './dpor.js';
import { PctStrategy } from './pct.js';
import { RandomStrategy } from './random.js';
import { StatefulStrategy } from './stateful.js';
import type { ExploreOptions, StrategyName } from './results.js';
import type { Strategy } from './strategy.js';
import type { Program } from './types.js';

/** `bounded` is a meta-strategy (bounded.ts) over DFS; here it is one DFS at a fixed bound. */
export function makeStrategy(name: StrategyName, probe: Program, o: ExploreOptions): Strategy {
  if (cacheStates(name, probe, o)) return new StatefulStrategy(name === 'dpor' && o.accept === undefined, o.maxCacheBytes, o.explored ?? null);
  switch (name) {
    case 'dfs':
      return new DfsStrategy(o.preemptionBound ?? Infinity);
    case 'dpor':
      return new DporStrategy(new Dependence(probe.invariants));
    case 'random':
      return new RandomStrategy(o.seed ?? '0', o.samples ?? 1000);
    case 'pct':
      return new PctStrategy(o.seed ?? '0', o.samples ?? 1000, o.pctDepth ?? 3);
    case 'bounded':
      return new DfsStrategy(o.preemptionBound ?? 2);
  }
}

/**
 * Whether the search stores states: when asked (`cache: true`, the CLI's default) for dfs and
 * dpor on a program that declares its state (a fingerprint needs it), never with a preemption
 * bound (preemptions are not part of a state). dpor then becomes the stateful search with sleep
 * sets (stateful.ts), dfs a plain search over states.
 */
export function cacheStates(name: StrategyName, probe: Program, o: ExploreOptions): boolean {
  if (o.cache !== true || probe.state === undefined) return false;
  if (name === 'dpor') return true;
  return name === 'dfs' && o.preemptionBound === undefined;
}
