// The split search in one thread: split, every job in unit order, merge. What `--workers 1`
// runs, and what the pool's result must equal for every other worker count.
import type { ExploreOptions, ExploreResult } from '../engine/explore.js';
import { DEFAULT_MAX_STEPS } from '../engine/results.js';
import { EngineError } from '../engine/errors.js';
import type { Program } from '../engine/types.js';
import { mergeUnits, neededUnits, type UnitResults } from './merge.js';
import { type Split, splitSearch } from './split.js';
import { exploreSubtree, splitKindOf } from './subtree.js';

/** The split of the search these options ask for, or undefined when it is not split. */
export function splitFor(make: () => Program, o: ExploreOptions): Split | undefined {
  const kind = splitKindOf(make, o);
  if (kind === undefined) return undefined;
  return splitSearch(make, { kind, maxSteps: o.maxSteps ?? DEFAULT_MAX_STEPS, audit: o.audit ?? true, collectFinalStates: o.collectFinalStates });
}

/** Options a job runs under: the search's, less what belongs to the whole (progress, budget). */
export function jobOptions(o: ExploreOptions): ExploreOptions {
  const { onProgress: _p, resume: _r, onExecution: _e, ...rest } = o;
  return rest;
}

/** The split search, its jobs run one after another on this thread. */
export function exploreSplit(make: () => Program, o: ExploreOptions = {}): ExploreResult {
  const split = splitFor(make, o);
  if (!split) throw new EngineError(`strategy ${o.strategy ?? 'dpor'} with these options is not split`);
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const results: (ExploreResult | undefined)[] = [];
  let strategy = splitKindOf(make, o)!;
  for (let i = 0; i < split.units.length; i++) {
    if (i >= neededUnits(split, results)) break;
    const u = split.units[i]!;
    if (!('job' in u)) continue;
    if (o.shouldStop?.()) break;
    const left = o.timeLimitMs === undefined ? undefined : Math.max(1, o.timeLimitMs - (now() - t0));
    const r = exploreSubtree(make, u.job, { ...jobOptions(o), ...(left === undefined ? {} : { timeLimitMs: left }) });
    strategy = r.strategy as typeof strategy;
    results[i] = r;
  }
  return mergeUnits(split, results as UnitResults, { strategy, threads: make().threads.map((t) => t.name), elapsedMs: now() - t0, collectFinalStates: o.collectFinalStates });
}
