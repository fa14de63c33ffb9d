// Restoring a saved state at the branch point instead of re-running the prefix must change
// nothing but the work done: same executions, outcomes and final states, on random programs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NondeterminismError } from '../../src/engine/errors.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { type Program, perform, write } from '../../src/engine/types.js';
import { type Op, Shared, toyProgram } from '../../src/testing/toy.js';
import { richOpArb, stepsOf } from './arbitraries.js';

describe('state restore at the branch point', () => {
  it('changes nothing but the steps run (dfs and dpor, 400 random programs)', () => {
    const arb = fc.integer({ min: 1, max: 3 }).chain((nVars) =>
      fc
        .tuple(fc.array(fc.array(richOpArb(nVars, 1), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 1 }))
        .filter(([ts]) => ts.reduce((n, t) => n + stepsOf(t), 0) <= 10)
        .map(([threads, actors]) => ({ nVars, threads, actors })),
    );
    let restoredTotal = 0;
    fc.assert(
      fc.property(arb, ({ nVars, threads, actors }) => {
        const make = toyProgram(threads, nVars, 2, () => [], actors);
        for (const strategy of ['dfs', 'dpor'] as const) {
          const outcomes: string[][] = [[], []];
          const run = (restore: boolean, into: string[]) =>
            exploreProgram(make, { cache: false, strategy, restore, collectFinalStates: true, accept: () => false, onExecution: (events, exec) => into.push(`${events.map((e) => e.tid).join('')}:${exec.failure?.invariant ?? 'ok'}`) });
          const plain = run(false, outcomes[0]!);
          const fast = run(true, outcomes[1]!);
          expect(fast.finalStates).toEqual(plain.finalStates);
          expect(outcomes[1]).toEqual(outcomes[0]);
          expect({ e: fast.executions, b: fast.blocked, s: fast.sleepBlocked }).toEqual({ e: plain.executions, b: plain.blocked, s: plain.sleepBlocked });
          expect(fast.steps + fast.restoredSteps).toBe(plain.steps);
          expect(plain.restoredSteps).toBe(0);
          restoredTotal += fast.restoredSteps;
        }
      }),
      { numRuns: 400, seed: 11 },
    );
    expect(restoredTotal).toBeGreaterThan(0);
  });

  it('restores most prefix steps of a long search', () => {
    const threads: Op[][] = [0, 1, 2].map((t) => [{ kind: 'store', x: 0, v: t + 1 }, { kind: 'load', x: 1 }, { kind: 'store', x: 1, v: t + 1 }, { kind: 'load', x: 0 }]);
    const r = exploreProgram(toyProgram(threads, 2, 0), { cache: false, strategy: 'dfs' });
    expect(r.executions).toBe(34650);
    // Without restore every execution re-runs its whole prefix: steps = executions × 12.
    expect(r.steps + r.restoredSteps).toBe(34650 * 12);
    expect(r.restoredSteps / (r.steps + r.restoredSteps)).toBeGreaterThan(0.6);
  });

  it('a state that save/restore leaves out is caught by the re-run executions', () => {
    // The step's write to `hidden` is outside `state`: a restored execution sees the stale value.
    const make = (): Program => {
      const s = new Shared(1);
      let hidden = 0;
      const bump = { label: 'bump', footprint: [write('h')], run: () => ++hidden };
      return {
        threads: [0, 1, 2].map((i) => ({
          name: `t${i}`,
          body: function* () {
            const seen = yield* perform(bump);
            yield* perform(s.store(0, seen));
            yield* perform({ label: `after ${seen}`, footprint: [write('x0')], run: () => undefined });
          },
        })),
        invariants: [],
        state: { save: () => s.save(), restore: (x) => s.restore(x) },
      };
    };
    expect(() => exploreProgram(make, { cache: false, strategy: 'dfs', audit: false })).toThrowError(NondeterminismError);
    expect(() => exploreProgram(make, { cache: false, strategy: 'dfs', audit: false })).toThrowError(/must save and restore everything its steps change/);
    // The search over states re-runs far fewer prefixes (a budget of its steps), and still these.
    expect(() => exploreProgram(make, { cache: true, strategy: 'dfs', audit: false })).toThrowError(NondeterminismError);
  });
});
