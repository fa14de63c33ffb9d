// The checker checks itself: on random programs DPOR must reach exactly the final states and
// verdicts of plain DFS, never run more executions, and (lock-free) its executions per
// Mazurkiewicz trace is pinned so that a regression in optimality shows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dependence } from '../../src/engine/dependence.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { canonicalForm } from '../../src/engine/traces.js';
import type { Invariant } from '../../src/engine/types.js';
import { type Op, type Shared, toyProgram } from '../../src/testing/toy.js';
import { richOpArb, stepsOf } from './arbitraries.js';

const nVarsArb = fc.integer({ min: 1, max: 3 });

function opArb(nVars: number, withLocks: boolean): fc.Arbitrary<Op> {
  const x = fc.integer({ min: 0, max: nVars - 1 });
  const v = fc.integer({ min: 0, max: 2 });
  const simple: fc.Arbitrary<Op>[] = [
    x.map((x) => ({ kind: 'load', x }) as Op),
    fc.tuple(x, v).map(([x, v]) => ({ kind: 'store', x, v }) as Op),
    fc.tuple(x, v, v).map(([x, expect, v]) => ({ kind: 'cas', x, expect, v }) as Op),
  ];
  if (!withLocks) return fc.oneof(...simple);
  const locked = fc
    .tuple(fc.integer({ min: 0, max: 1 }), fc.array(fc.oneof(...simple), { minLength: 1, maxLength: 2 }))
    .map(([l, ops]) => ({ kind: 'locked', l, ops }) as Op);
  return fc.oneof(...simple, locked);
}

const steps = stepsOf;

function programArb(withLocks: boolean) {
  return nVarsArb.chain((nVars) =>
    fc
      .array(fc.array(opArb(nVars, withLocks), { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 4 })
      .filter((ts) => ts.reduce((n, t) => n + steps(t), 0) <= 9)
      .map((threads) => ({ nVars, threads })),
  );
}

/** A per-step invariant: x0 never equals a given value while x_last equals another. */
function forbidPair(a: number, b: number, watched: boolean) {
  return (s: Shared): Invariant[] => [
    {
      name: 'forbidden-pair',
      watch: watched ? ['x'] : undefined,
      check: () => (s.vars[0] === a && s.vars[s.vars.length - 1] === b && (a !== 0 || b !== 0) ? `x0=${a} with last=${b}` : null),
    },
  ];
}

describe('DPOR against DFS on random programs', () => {
  it('reaches the same final states and verdicts, with no more executions (with locks)', () => {
    fc.assert(
      fc.property(programArb(true), ({ nVars, threads }) => {
        const make = toyProgram(threads, nVars, 2);
        const dfs = exploreProgram(make, { cache: false, strategy: 'dfs', collectFinalStates: true });
        const dpor = exploreProgram(make, { cache: false, strategy: 'dpor', collectFinalStates: true });
        expect(dpor.verdict).toBe(dfs.verdict);
        expect(dpor.violation?.invariant).toBe(dfs.violation?.invariant);
        if (dfs.verdict === 'holds') expect(dpor.finalStates).toEqual(dfs.finalStates);
        expect(dpor.executions).toBeLessThanOrEqual(dfs.executions);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('agrees with DFS when steps wait on flags (awaits) and actors may stay blocked', () => {
    const awaitArb = (nVars: number) =>
      fc.tuple(fc.integer({ min: 0, max: nVars - 1 }), fc.integer({ min: 0, max: 2 })).map(([x, v]) => ({ kind: 'await', x, v }) as Op);
    const arb = nVarsArb.chain((nVars) =>
      fc
        .tuple(
          fc.array(fc.array(fc.oneof(opArb(nVars, true), awaitArb(nVars)), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }),
          fc.integer({ min: 0, max: 1 }),
        )
        .filter(([ts]) => ts.reduce((n, t) => n + steps(t), 0) <= 9)
        .map(([threads, actors]) => ({ nVars, threads, actors })),
    );
    fc.assert(
      fc.property(arb, ({ nVars, threads, actors }) => {
        const make = toyProgram(threads, nVars, 2, () => [], actors);
        const dfs = exploreProgram(make, { cache: false, strategy: 'dfs', collectFinalStates: true });
        const dpor = exploreProgram(make, { cache: false, strategy: 'dpor', collectFinalStates: true });
        expect(dpor.verdict).toBe(dfs.verdict);
        if (dfs.verdict === 'holds') expect(dpor.finalStates).toEqual(dfs.finalStates);
        expect(dpor.executions).toBeLessThanOrEqual(dfs.executions);
      }),
      { numRuns: 1000, seed: 5 },
    );
  });

  it('agrees with DFS on programs with nested locks, waits, actors, assume, assert and dynamic footprints', () => {
    const arb = nVarsArb.chain((nVars) =>
      fc
        .tuple(fc.array(fc.array(richOpArb(nVars), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), fc.boolean())
        .filter(([ts]) => ts.reduce((n, t) => n + steps(t), 0) <= 9)
        .map(([threads, actors, perStep]) => ({ nVars, threads, actors: Math.min(actors, threads.length), perStep })),
    );
    let blockedSeen = 0;
    fc.assert(
      fc.property(arb, ({ nVars, threads, actors, perStep }) => {
        const invariants = perStep ? forbidPair(2, 1, true) : () => [];
        const make = toyProgram(threads, nVars, 2, invariants, actors);
        // Keep exploring past violations and deadlocks, so every outcome is compared.
        const outcomes = (strategy: 'dfs' | 'dpor') => {
          const seen = new Set<string>();
          const r = exploreProgram(make, { cache: false, strategy, collectFinalStates: true, accept: () => false, onExecution: (_e, exec) => seen.add(exec.failure ? `${exec.failure.invariant}` : 'complete') });
          return { r, seen: [...seen].sort() };
        };
        const dfs = outcomes('dfs');
        const dpor = outcomes('dpor');
        expect(dpor.r.finalStates).toEqual(dfs.r.finalStates);
        expect(dpor.seen).toEqual(dfs.seen);
        expect(dpor.r.executions).toBeLessThanOrEqual(dfs.r.executions);
        // A blocked execution is never counted as complete; if DFS saw one, DPOR explored one.
        expect(dpor.r.blocked > 0).toBe(dfs.r.blocked > 0);
        blockedSeen += dfs.r.blocked;
      }),
      { numRuns: 1000, seed: 9 },
    );
    expect(blockedSeen).toBeGreaterThan(0);
  });

  it('iterative preemption bounding agrees with DFS, and its violations have the fewest preemptions', () => {
    fc.assert(
      fc.property(programArb(true), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), ({ nVars, threads }, a, b) => {
        const make = toyProgram(threads, nVars, 2, forbidPair(a, b, true));
        const dfs = exploreProgram(make, { cache: false, strategy: 'dfs' });
        const bounded = exploreProgram(make, { cache: false, strategy: 'bounded', preemptionBound: 20 });
        expect(bounded.verdict).toBe(dfs.verdict);
        if (bounded.violation) {
          // No violation of the same kind exists with fewer preemptions.
          const fewer = exploreProgram(make, { cache: false, strategy: 'dfs', preemptionBound: bounded.violation.preemptions - 1 });
          if (bounded.violation.preemptions > 0) expect(fewer.verdict).not.toBe('violated');
        }
      }),
      { numRuns: 200, seed: 4 },
    );
  });

  it('finds the same per-step invariant violations as DFS', () => {
    fc.assert(
      fc.property(programArb(false), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), ({ nVars, threads }, a, b, watched) => {
        const make = toyProgram(threads, nVars, 0, forbidPair(a, b, watched));
        const dfs = exploreProgram(make, { cache: false, strategy: 'dfs' });
        const dpor = exploreProgram(make, { cache: false, strategy: 'dpor' });
        expect(dpor.verdict).toBe(dfs.verdict);
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  it('finds the same violations as DFS when several per-step invariants watch different variables', () => {
    // Several invariants, each forbidding one value of its own variable (one watches two). Only
    // the one under test may fail — the others read and watch as usual, so they still form their
    // own dependence groups — and DPOR must find its violation exactly when DFS does.
    // Mostly stores, so that values are transient: a state may exist in some orders only.
    const storeHeavy = (nVars: number) =>
      fc.oneof(
        { arbitrary: fc.tuple(fc.integer({ min: 0, max: nVars - 1 }), fc.integer({ min: 0, max: 2 })).map(([x, v]) => ({ kind: 'store', x, v }) as Op), weight: 4 },
        { arbitrary: fc.integer({ min: 0, max: nVars - 1 }).map((x) => ({ kind: 'load', x }) as Op), weight: 1 },
      );
    const arb = fc.integer({ min: 2, max: 3 }).chain((nVars) =>
      fc.tuple(
        fc.constant(nVars),
        fc.array(fc.array(storeHeavy(nVars), { minLength: 2, maxLength: 4 }), { minLength: 2, maxLength: 3 }).filter((ts) => ts.flat().length <= 9),
        fc.array(fc.tuple(fc.integer({ min: 0, max: nVars - 1 }), fc.integer({ min: 1, max: 2 })), { minLength: 2, maxLength: 3 }),
      ),
    );
    let violations = 0;
    fc.assert(
      fc.property(arb, ([nVars, threads, forbidden]) => {
        const ts = threads;
        // Invariants over two variables are the ones whose states only some orders of
        // independent writes pass through: they are what the dependence groups must keep.
        const pair = (a: number, b: number, v: number) => ({ watch: [`x${a}`, `x${b}`], bad: (s: Shared) => s.get(a) === v && s.get(b) === v });
        const checks = [
          ...forbidden.map(([x, v]) => ({ watch: [`x${x}`], bad: (s: Shared) => s.get(x) === v })),
          ...forbidden.map(([x, v]) => pair(x, (x + 1) % nVars, v)),
        ];
        for (let target = 0; target < checks.length; target++) {
          const make = toyProgram(ts, nVars, 0, (s) =>
            checks.map((c, i): Invariant => ({ name: `inv${i}`, watch: c.watch, check: () => (c.bad(s) && i === target ? 'bad state' : null) })),
          );
          const dfs = exploreProgram(make, { cache: false, strategy: 'dfs' });
          expect(exploreProgram(make, { cache: false, strategy: 'dpor' }).verdict).toBe(dfs.verdict);
          if (dfs.violation) violations++;
        }
      }),
      { numRuns: 300, seed: 12 },
    );
    expect(violations).toBeGreaterThan(50);
  });

  it('runs one execution per Mazurkiewicz trace on lock-free programs (ratio pinned)', () => {
    let dporTotal = 0;
    let traceTotal = 0;
    let worst = 1;
    fc.assert(
      fc.property(programArb(false), ({ nVars, threads }) => {
        const make = toyProgram(threads, nVars, 0);
        const dep = new Dependence([]);
        const forms = new Set<string>();
        exploreProgram(make, { cache: false, strategy: 'dfs', onExecution: (events) => forms.add(canonicalForm(events, dep)) });
        const dpor = exploreProgram(make, { cache: false, strategy: 'dpor' });
        expect(dpor.executions).toBeGreaterThanOrEqual(forms.size); // soundness: every trace covered
        dporTotal += dpor.executions;
        traceTotal += forms.size;
        worst = Math.max(worst, dpor.executions / forms.size);
      }),
      { numRuns: 300, seed: 3 },
    );
    const ratio = dporTotal / traceTotal;
    console.log(`DPOR executions / Mazurkiewicz traces: ${ratio.toFixed(3)} overall, worst ${worst.toFixed(2)} (${dporTotal}/${traceTotal})`);
    expect(ratio.toFixed(2)).toBe('1.00'); // optimal on every generated program so far
    expect(worst).toBe(1);
  });
});
