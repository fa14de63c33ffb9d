// The split search (src/parallel) against the plain searches on random programs of the toy
// language (locks, waits, assume, assert, memoryless actors, per-step invariants): the same
// verdicts and final states as stateless DFS whatever the frontier, the very executions of DFS
// when the jobs run DFS, and a merged result that does not depend on the order the jobs finish
// in, nor on how the units are dealt to shards.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram, type ExploreOptions, type ExploreResult } from '../../src/engine/explore.js';
import type { Program } from '../../src/engine/types.js';
import { type FrontierRule, exploreSplit, jobOptions, splitFor } from '../../src/parallel/explore-split.js';
import { mergeUnits } from '../../src/parallel/merge.js';
import { owns } from '../../src/parallel/shard.js';
import { exploreSubtree } from '../../src/parallel/subtree.js';
import { toyProgram } from '../../src/testing/toy.js';
import { forbidPair, smallPrograms as programs } from '../engine/arbitraries.js';


/** Frontiers from the root alone to deeper than most of these programs go. */
const rules: readonly FrontierRule[] = [{ targetJobs: 1 }, { targetJobs: 3 }, { targetJobs: 12 }, {}];

const SEARCHES: readonly ExploreOptions[] = [
  { strategy: 'dfs', cache: false },
  { strategy: 'dpor', cache: false },
  { strategy: 'dpor', cache: true },
  { strategy: 'dfs', cache: true },
];

/** A result as it is compared across runs: everything but time. */
const timeless = (r: ExploreResult) => ({ ...r, elapsedMs: 0 });

/** The split search with its jobs run in `order` (each position an index into the units). */
function inOrder(make: () => Program, o: ExploreOptions, rule: FrontierRule, order: (n: number) => number[], owned?: (i: number) => boolean): ExploreResult {
  const split = splitFor(make, o, rule)!;
  const results: (ExploreResult | undefined)[] = [];
  for (const i of order(split.units.length)) {
    const u = split.units[i]!;
    if ('job' in u && (owned?.(i) ?? true)) results[i] = exploreSubtree(make, u.job, jobOptions(o)).result;
  }
  return mergeUnits(split, results, { threads: make().threads.map((t) => t.name), elapsedMs: 0, collectFinalStates: o.collectFinalStates });
}

describe('the split search against the plain searches', () => {
  it('gives the verdicts and final states of stateless DFS, for every search and frontier, shared states or not (300 random programs)', () => {
    let jobs = 0;
    const stored = { shared: 0, own: 0 };
    fc.assert(
      fc.property(programs, fc.constantFrom(...rules), ({ nVars, threads, actors, perStep }, rule) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        const dfs = exploreProgram(make, { strategy: 'dfs', cache: false, collectFinalStates: true });
        for (const o of SEARCHES) {
          // Jobs of later waves looking up the states earlier waves explored, and not.
          for (const share of [true, false]) {
            const split = exploreSplit(make, { ...o, collectFinalStates: true }, rule, share);
            expect(split.verdict).toBe(dfs.verdict);
            if (dfs.verdict === 'holds') expect(split.finalStates).toEqual(dfs.finalStates);
            stored[share ? 'shared' : 'own'] += split.cache?.states ?? 0;
          }
          jobs += splitFor(make, o, rule)!.units.filter((u) => 'job' in u).length;
        }
      }),
      { numRuns: 300, seed: 14 },
    );
    // The frontiers did cut programs into subtrees (not only leaves above them).
    expect(jobs).toBeGreaterThan(1000);
    // And later waves did look states up in what earlier waves explored (so the checks above
    // cover pruning by a shared state, not only jobs that never met one).
    expect(stored.shared).toBeLessThan(stored.own);
  });

  it('with DFS jobs runs exactly the executions of DFS and reports the violation DFS finds first (300 random programs)', () => {
    fc.assert(
      fc.property(programs, fc.constantFrom(...rules), ({ nVars, threads, actors, perStep }, rule) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        const dfs = exploreProgram(make, { strategy: 'dfs', cache: false });
        const split = exploreSplit(make, { strategy: 'dfs', cache: false }, rule);
        // Units go in schedule order, as DFS goes: the same executions, up to the same first failure.
        expect([split.executions, split.blocked, split.steps + split.restoredSteps]).toEqual([dfs.executions, dfs.blocked, dfs.steps + dfs.restoredSteps]);
        expect(split.violation?.schedule).toEqual(dfs.violation?.schedule);
      }),
      { numRuns: 300, seed: 15 },
    );
  });

  it('merges to the same result whatever order the jobs finish in and however units are dealt to shards (200 random programs)', () => {
    const permutations = fc.infiniteStream(fc.nat()).map((stream) => (n: number) => {
      // A deterministic shuffle drawn by fast-check: the finishing order of some worker pool.
      const order = Array.from({ length: n }, (_, i) => i);
      const it = stream[Symbol.iterator]();
      for (let i = n - 1; i > 0; i--) {
        const j = it.next().value! % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order;
    });
    fc.assert(
      fc.property(programs, fc.constantFrom(...rules), fc.constantFrom(...SEARCHES), permutations, ({ nVars, threads, actors, perStep }, rule, o, shuffle) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        const search = { ...o, collectFinalStates: true };
        const straight = timeless(inOrder(make, search, rule, (n) => Array.from({ length: n }, (_, i) => i)));
        expect(timeless(inOrder(make, search, rule, shuffle))).toEqual(straight);
        for (const n of [2, 3]) {
          // Each shard runs its own units; merge sees every unit once, from whichever shard.
          const shards = Array.from({ length: n }, (_, k) => (i: number) => owns({ k: k + 1, n }, i));
          expect(timeless(inOrder(make, search, rule, shuffle, (i) => shards.some((s) => s(i))))).toEqual(straight);
        }
        // Jobs that do not share the states they explored (shards, --no-share-cache).
        expect(straight).toEqual(timeless(exploreSplit(make, search, rule, false)));
      }),
      { numRuns: 200, seed: 16 },
    );
  });
});
