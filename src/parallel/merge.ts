// Merging the parts of a split search (split.ts) into the one result a search reports. The
// order is the units' — the schedules' lexicographic order — never the order they finished in,
// so the result is the same for every worker count and every shard split:
// - The first unit, in that order, that found a violation decides the verdict and the
//   counterexample (minimised afterwards, as always); the counts are those of the units up to
//   and including it. The units after it need not run (the coordinator stops handing them out
//   once every unit before it has finished).
// - Otherwise counts are sums, the depth a maximum, final states a union; states stored are
//   summed over the jobs' caches (a state two jobs reach is counted by each).
import type { CacheReport, ExploreResult, Violation } from '../engine/explore.js';
import type { Split } from './split.js';

/** A unit's result: a job's ExploreResult, or undefined for a leaf or a job that never ran. */
export type UnitResults = readonly (ExploreResult | undefined)[];

/** Index of the unit whose violation the search reports; -1: none (so far). */
export function decidingUnit(split: Split, results: UnitResults): number {
  for (let i = 0; i < split.units.length; i++) {
    const u = split.units[i]!;
    if ('leaf' in u ? u.leaf.outcome === 'violated' : results[i]?.verdict === 'violated') return i;
  }
  return -1;
}

/** The units that must have finished for the result to be known: all, or those up to the first violation. */
export function neededUnits(split: Split, results: UnitResults): number {
  const d = decidingUnit(split, results);
  return d < 0 ? split.units.length : d + 1;
}

/** `cut`: the time limit ran out — jobs cut short or never started make the result "bounded" by it. */
export function mergeUnits(split: Split, results: UnitResults, o: { threads: readonly string[]; elapsedMs: number; collectFinalStates?: boolean; cut?: string }): ExploreResult {
  const upTo = neededUnits(split, results);
  let executions = 0;
  let blocked = 0;
  let sleepBlocked = 0;
  let steps = 0;
  let restoredSteps = 0;
  let maxDepth = 0;
  let violation: Violation | undefined;
  let stopped: 'interrupted' | 'bounded' | undefined;
  let cut: string | undefined;
  let cache: CacheReport | undefined;
  let revisits = 0;
  let stateless: string | undefined;
  const states = new Set<string>();
  // A watch prefix is untouched only if no step anywhere touched it: above the frontier, and in every job.
  let warnings: Set<string> | undefined = new Set(split.warnings);
  for (let i = 0; i < upTo; i++) {
    const u = split.units[i]!;
    if ('leaf' in u) {
      const l = u.leaf;
      if (l.outcome === 'sleep-blocked') sleepBlocked++;
      else if (l.outcome === 'revisit') revisits++;
      else if (l.outcome === 'blocked') blocked++;
      else executions++;
      steps += l.steps;
      maxDepth = Math.max(maxDepth, l.steps);
      if (l.violation) violation = l.violation;
      if (l.finalState !== undefined) states.add(l.finalState);
      continue;
    }
    const r = results[i];
    if (r === undefined) {
      stopped = o.cut ? (stopped ?? 'bounded') : 'interrupted';
      continue;
    }
    executions += r.executions;
    blocked += r.blocked;
    sleepBlocked += r.sleepBlocked;
    steps += r.steps;
    restoredSteps += r.restoredSteps;
    maxDepth = Math.max(maxDepth, r.maxDepth);
    stateless ??= r.stateless;
    if (r.cache) cache = addCache(cache, r.cache);
    for (const s of r.finalStates ?? []) states.add(s);
    if (r.verdict === 'violated') violation = r.violation;
    else if (r.verdict === 'interrupted') stopped = 'interrupted';
    else if (r.verdict === 'bounded' && stopped === undefined) {
      stopped = 'bounded';
      cut ??= r.cut;
    }
    warnings = r.verdict === 'holds' && r.executions + r.blocked > 0 ? intersect(warnings, r.warnings ?? []) : warnings;
  }
  if (cache || split.states > 0) cache = addCache(cache, { states: split.states, bytes: 0, mode: 'hash-compact', collisionProbability: 0, revisits });
  if (o.cut && stopped === 'bounded') cut = o.cut;
  const verdict = violation ? 'violated' : stopped ?? 'holds';
  const kept = verdict === 'holds' && executions + blocked > 0 ? [...(warnings ?? [])] : [];
  return {
    verdict,
    strategy: split.kind,
    executions,
    blocked,
    sleepBlocked,
    steps,
    restoredSteps,
    maxDepth,
    elapsedMs: o.elapsedMs,
    ...(cache ? { cache } : {}),
    ...(stateless ? { stateless } : {}),
    violation,
    cut: verdict === 'bounded' ? cut : undefined,
    finalStates: o.collectFinalStates ? [...states].sort() : undefined,
    ...(kept.length ? { warnings: kept } : {}),
    threads: o.threads,
  };
}

function intersect(a: Set<string> | undefined, b: readonly string[]): Set<string> {
  const keep = new Set(b);
  return new Set([...(a ?? [])].filter((w) => keep.has(w)));
}

/** Per job caches side by side: states and bytes add up; the collision bounds add (a union bound). */
function addCache(a: CacheReport | undefined, b: CacheReport): CacheReport {
  if (!a) return { ...b };
  return {
    states: a.states + b.states,
    bytes: a.bytes + b.bytes,
    mode: a.mode === 'bitstate' || b.mode === 'bitstate' ? 'bitstate' : 'hash-compact',
    collisionProbability: Math.min(1, a.collisionProbability + b.collisionProbability),
    revisits: a.revisits + b.revisits,
  };
}
