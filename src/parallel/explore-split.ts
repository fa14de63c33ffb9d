// The split search in one thread: split, every job in unit order (wave after wave, sharing the
// states explored: waves.ts), merge. What `--workers 1` runs, and what the pool's result must
// equal for every other worker count.
import type { ExploreOptions, ExploreResult } from '../engine/explore.js';
import { DEFAULT_MAX_STEPS } from '../engine/results.js';
import { EngineError } from '../engine/errors.js';
import type { Program } from '../engine/types.js';
import { mergeUnits, neededUnits, type UnitResults } from './merge.js';
import { type Split, type SplitOptions, type SubtreeJob, splitSearch } from './split.js';
import { exploreSubtree, splitKindOf } from './subtree.js';
import { ExploredStates, wavesOf } from './waves.js';

/** How the frontier is chosen (tests only; see SplitOptions). */
export type FrontierRule = Pick<SplitOptions, 'targetJobs' | 'maxDepth'>;

/** The split of the search these options ask for, or undefined when it is not split. */
export function splitFor(make: () => Program, o: ExploreOptions, rule: FrontierRule = {}): Split | undefined {
  const kind = splitKindOf(make, o);
  if (kind === undefined) return undefined;
  return splitSearch(make, { kind, maxSteps: o.maxSteps ?? DEFAULT_MAX_STEPS, audit: o.audit ?? true, collectFinalStates: o.collectFinalStates, ...rule });
}

/** Options a job runs under: the search's, less what belongs to the whole (progress, budget). */
export function jobOptions(o: ExploreOptions): ExploreOptions {
  const { onProgress: _p, resume: _r, onExecution: _e, explored: _x, ...rest } = o;
  return rest;
}

/** The split search, its jobs run one after another on this thread. `share` (default true):
 * jobs of later waves look up the states earlier waves explored (waves.ts). */
export function exploreSplit(make: () => Program, o: ExploreOptions = {}, rule: FrontierRule = {}, share = true): ExploreResult {
  const split = splitFor(make, o, rule);
  if (!split) throw new EngineError(`strategy ${o.strategy ?? 'dpor'} with these options is not split`);
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const results: (ExploreResult | undefined)[] = [];
  const explored = new ExploredStates(o.maxCacheBytes);
  let timedOut = false;
  run: for (const wave of wavesOf(split, share)) {
    const found: Uint32Array[] = [];
    for (const i of wave) {
      if (i >= neededUnits(split, results)) break run;
      if (o.shouldStop?.()) break run;
      const left = o.timeLimitMs === undefined ? undefined : o.timeLimitMs - (now() - t0);
      if (left !== undefined && left <= 0) {
        timedOut = true;
        break run;
      }
      const job = exploreSubtree(make, jobAt(split, i), { ...jobOptions(o), ...(left === undefined ? {} : { timeLimitMs: left }), explored: explored.table });
      results[i] = job.result;
      if (job.states) found.push(job.states);
    }
    for (const s of found) explored.add(s);
  }
  const cut = timedOut || (o.timeLimitMs !== undefined && results.some((r) => r?.verdict === 'bounded')) ? `time limit ${Math.round(o.timeLimitMs! / 1000)} s` : undefined;
  return mergeUnits(split, results as UnitResults, { ...(cut ? { cut } : {}), threads: make().threads.map((t) => t.name), elapsedMs: now() - t0, collectFinalStates: o.collectFinalStates });
}

/** The job of unit `i` (a wave lists jobs only). */
export function jobAt(split: Split, i: number): SubtreeJob {
  const u = split.units[i]!;
  if (!('job' in u)) throw new EngineError(`unit ${i + 1} of the split is a leaf, not a job`);
  return u.job;
}
