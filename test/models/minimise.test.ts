// Counterexample minimisation (src/trace/minimise.ts): the fewest preemptions, proven or said
// not to be, and its state cache cutting off nothing a plain preemption-bounded DFS would find.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { DfsStrategy } from '../../src/engine/dfs.js';
import { run } from '../../src/engine/driver.js';
import { bindModel, explore, replaySchedule } from '../../src/index.js';
import { type Op, toyProgram } from '../../src/testing/toy.js';
import { CachingBoundedDfs, NOT_PLAIN, canonical, minimise, minimiseCounterexample } from '../../src/trace/minimise.js';
import { richOpArb } from '../engine/arbitraries.js';

const variant = (model: string, name: string) => bindModel(builtinModels.find((m) => m.name === model)!, name);

describe('minimisation: fewest preemptions', () => {
  it('cpa no-recheck: DPOR finds 2 preemptions, minimisation proves 1 is the fewest (the committed trace had 2)', () => {
    const b = variant('cpa', 'no-recheck');
    const found = explore(b.model, { variant: 'no-recheck' }).violation!;
    expect(found.preemptions).toBe(2);
    const { violation, minimality } = minimiseCounterexample(b.make, found, { maxSteps: b.maxSteps });
    expect(violation.invariant).toBe('no-lost-attribute-change');
    expect(violation.preemptions).toBe(1);
    expect(minimality.fewestPreemptions).toBe(true);
    expect(minimality.stoppedEarly).toBeUndefined();
    expect(replaySchedule(b.make, violation.schedule, { maxSteps: b.maxSteps }).failure?.invariant).toBe('no-lost-attribute-change');
  });

  it('a budget that runs out is said, in the result and in the message a trace records, never passed over', () => {
    const b = variant('cpa', 'no-recheck');
    const found = explore(b.model, { variant: 'no-recheck' }).violation!;
    const { violation, minimality } = minimiseCounterexample(b.make, found, { maxSteps: b.maxSteps, budgetPerBound: 5 });
    expect(minimality.fewestPreemptions).toBe(false);
    expect(minimality.stoppedEarly).toBe('preemption bound 0: 5 executions spent before its search finished');
    expect(violation.preemptions).toBe(2);
    const v = minimise(b.make, found, { maxSteps: b.maxSteps, budgetPerBound: 5 });
    expect(v.message).toMatch(/\[minimisation stopped early \(preemption bound 0: 5 executions spent before its search finished\): a counterexample with fewer than 2 preemptions may exist\]$/);
    const proven = minimise(b.make, found, { maxSteps: b.maxSteps });
    expect(proven.message).not.toMatch(/minimisation stopped early/);
  });

  it('a time limit that runs out is said too', () => {
    const b = variant('cpa', 'pgd-lock-irqs-off');
    const found = explore(b.model, { variant: 'pgd-lock-irqs-off' }).violation!;
    let ticks = 0;
    const { minimality } = minimiseCounterexample(b.make, found, { maxSteps: b.maxSteps, timeLimitMs: 3, now: () => ticks++ });
    expect(minimality.fewestPreemptions).toBe(false);
    expect(minimality.stoppedEarly).toMatch(/^preemption bound 0: /);
  });

  it.each([
    ['thp-refcount', 'no-compound-lock', 3, 1],
    ['ptmigrate', 'nonatomic-merge', 5, 1],
    ['vmap', 'reuse-before-flush', 2, 1],
    ['percpu', 'no-module-mutex', 2, 1],
  ])('%s %s: from %i preemptions to %i, the same as the stateless search finds', (model, name, before, after) => {
    const b = variant(model, name);
    const found = explore(b.model, { variant: name }).violation!;
    expect(found.preemptions).toBe(before);
    const { violation, minimality } = minimiseCounterexample(b.make, found, { maxSteps: b.maxSteps });
    expect([violation.preemptions, minimality.fewestPreemptions]).toEqual([after, true]);
    // Plain DFS at each bound below finds no counterexample of the same invariant; at `after` it does.
    for (let bound = 0; bound <= after; bound++) {
      const r = run(b.make, new DfsStrategy(bound), { maxSteps: b.maxSteps, accept: (f) => f.invariant === found.invariant });
      expect(r.violation !== undefined).toBe(bound === after);
    }
  });
});

describe('minimisation: the state cache', () => {
  it('finds a failure within a preemption bound exactly when plain preemption-bounded DFS does (random programs)', () => {
    const nVars = 2;
    fc.assert(
      fc.property(fc.array(fc.array(richOpArb(nVars, 1), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), (threads: Op[][], bound) => {
        // Failures: an assertion, a deadlock, and a per-step invariant over x0.
        const make = toyProgram(threads, nVars, 2, (s) => [{ name: 'x0-not-2', watch: ['x0'], check: () => (s.get(0) === 2 ? 'x0 is 2' : null) }]);
        const plain = run(make, new DfsStrategy(bound), { maxSteps: 200 });
        const r = run(make, new CachingBoundedDfs(bound), { maxSteps: 200 });
        // The first failure each meets may differ (the cache skips subtrees), not whether one exists.
        expect(r.violation !== undefined).toBe(plain.violation !== undefined);
        if (r.violation) expect(r.violation.preemptions).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});

describe('minimisation: how a saved state is spelt in its cache key', () => {
  it('tells apart values JSON would conflate (undefined, null, NaN, -0, Maps, Sets, absent keys)', () => {
    const pairs: [unknown, unknown][] = [
      [[undefined], [null]],
      [{ a: undefined }, {}],
      [[Number.NaN], [null]],
      [[-0], [0]],
      [new Map([[1, 2]]), {}],
      [new Set([1]), [1]],
      [{ a: 1, b: 2 }, { a: '1', b: 2 }],
    ];
    for (const [a, b] of pairs) expect(canonical(a)).not.toBe(canonical(b));
    expect(canonical({ x: [1, 'y', true, null] })).toBe(canonical({ x: [1, 'y', true, null] }));
  });
  it('refuses a class instance or a function, which could hide state (the schedule is then not cached)', () => {
    class Hidden {
      constructor(readonly secret: number) {}
    }
    for (const v of [new Hidden(1), { f: () => 1 }]) {
      let thrown: unknown;
      try {
        canonical(v);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBe(NOT_PLAIN);
    }
  });
});
