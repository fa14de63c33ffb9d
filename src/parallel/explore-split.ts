// The split search in one thread: split, every job in unit order, merge. What `--workers 1`
// runs, and what the pool's result must equal for every other worker count.
import type { ExploreOptions, ExploreResult } from '../engine/explore.js';
import { DEFAULT_MAX_STEPS } from '../engine/results.js';
import { EngineError } from '../engine/errors.js';
import type { Program } from '../engine/types.js';
import { mergeUnits, neededUnits, type UnitResults } from './merge.js';
import { type Split, type SplitOptions, splitSearch } from './split.js';

/** How the frontier is chosen (tests only; see SplitOptions). */
export type FrontierRule = Pick<SplitOptions, 'targetJobs' | 'maxDepth'>;
import { exploreSubtree, splitKindOf } from './subtree.js';

/** The split of the search these options ask for, or undefined when it is not split. */
export function splitFor(make: () => Program, o: ExploreOptions, rule: FrontierRule = {}): Split | undefined {
  const kind = splitKindOf(make, o);
  if (kind === undefined) return undefined;
  return splitSearch(make, { kind, maxSteps: o.maxSteps ?? DEFAULT_MAX_STEPS, audit: o.audit ?? true, collectFinalStates: o.collectFinalStates, ...rule });
}

/** Options a job runs under: the search's, less what belongs to the whole (progress, budget). */
export function jobOptions(o: ExploreOptions): ExploreOptions {
  const { onProgress: _p, resume: _r, onExecution: _e, ...rest } = o;
  return rest;
}

/** The split search, its jobs run one after another on this thread. */
export function exploreSplit(make: () => Program, o: ExploreOptions = {}, rule: FrontierRule = {}): ExploreResult {
  const split = splitFor(make, o, rule);
  if (!split) throw new EngineError(`strategy ${o.strategy ?? 'dpor'} with these options is not split`);
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const results: (ExploreResult | undefined)[] = [];
  let timedOut = false;
  for (let i = 0; i < split.units.length; i++) {
    if (i >= neededUnits(split, results)) break;
    const u = split.units[i]!;
    if (!('job' in u)) continue;
    if (o.shouldStop?.()) break;
    const left = o.timeLimitMs === undefined ? undefined : o.timeLimitMs - (now() - t0);
    if (left !== undefined && left <= 0) {
      timedOut = true;
      break;
    }
    const r = exploreSubtree(make, u.job, { ...jobOptions(o), ...(left === undefined ? {} : { timeLimitMs: left }) });
    results[i] = r;
  }
  const cut = timedOut || (o.timeLimitMs !== undefined && results.some((r) => r?.verdict === 'bounded')) ? `time limit ${Math.round(o.timeLimitMs! / 1000)} s` : undefined;
  return mergeUnits(split, results as UnitResults, { ...(cut ? { cut } : {}), threads: make().threads.map((t) => t.name), elapsedMs: now() - t0, collectFinalStates: o.collectFinalStates });
}
