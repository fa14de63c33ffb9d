// Kept generators (rewind.ts, Ahead): a thread a rewind took back runs its kept `stable` steps
// while it receives the same results again, and is its old generator again once it has received
// them all — for a program that declares `pureThreads` and its unaudited state. It must change
// nothing but the generators resumed: the same executions, states, outcomes and final states as
// bringing every thread back from the start; never in place of thread code that wrote the
// model's bookkeeping; and a false `stable` claim about `run` is caught.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { ExploreResult } from '../../src/engine/results.js';
import { ModelError } from '../../src/engine/errors.js';
import { type Program, perform, write } from '../../src/engine/types.js';
import { Shared, toyProgram } from '../../src/testing/toy.js';
import { forbidPair, smallPrograms } from './arbitraries.js';

const counts = (r: ExploreResult) => ({
  verdict: r.verdict,
  invariant: r.violation?.invariant,
  schedule: r.violation?.schedule,
  executions: r.executions,
  blocked: r.blocked,
  sleepBlocked: r.sleepBlocked,
  steps: r.steps,
  restoredSteps: r.restoredSteps,
  states: r.cache?.states,
  revisits: r.cache?.revisits,
  finalStates: r.finalStates,
});

/** `make`'s program with every generator its threads start counted in `made.n`. */
function counted(make: () => Program, made: { n: number }): () => Program {
  return () => {
    const p = make();
    return { ...p, threads: p.threads.map((t) => ({ ...t, body: () => (made.n++, t.body()) })) };
  };
}

describe('kept generators', () => {
  it('explore what the full replay explores (dfs, dpor, with and without states; 300 random programs)', () => {
    fc.assert(
      fc.property(smallPrograms, fc.boolean(), ({ nVars, threads, actors, perStep }, inSteps) => {
        // Reads recorded in the steps, or by thread code between steps (bookkeeping: its kept
        // steps never run in place of that code).
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors, inSteps, { pure: true });
        for (const strategy of ['dfs', 'dpor'] as const) {
          for (const cache of [false, true]) {
            const o = { strategy, cache, collectFinalStates: true, accept: cache ? undefined : () => false } as const;
            expect(counts(exploreProgram(make, { ...o, replay: 'lazy' }))).toEqual(counts(exploreProgram(make, { ...o, replay: 'full' })));
          }
        }
      }),
      { numRuns: 300, seed: 41 },
    );
  });

  it('resume fewer generators than bringing each thread back (and change nothing else)', () => {
    const threads = [0, 1, 2].map((t) => [
      { kind: 'store', x: 0, v: t + 1 },
      { kind: 'load', x: 1 },
      { kind: 'store', x: 1, v: t + 1 },
      { kind: 'load', x: 0 },
    ] as const);
    const run = (pure: boolean) => {
      const made = { n: 0 };
      const r = exploreProgram(counted(toyProgram(threads.map((t) => [...t]), 2, 0, () => [], 0, true, { pure }), made), { strategy: 'dpor', cache: true });
      return { r: counts(r), made: made.n };
    };
    const kept = run(true);
    const brought = run(false);
    expect(kept.r).toEqual(brought.r);
    expect(kept.r.states).toBeGreaterThan(100);
    expect(kept.made).toBeLessThan(brought.made * 0.5);
  });

  it('never run in place of thread code that wrote the bookkeeping', () => {
    // Each thread's code appends what it loaded to `seen` (declared state) after the load: a
    // kept load run in place of that code would leave it out of the final states.
    // (Found by the property above when the check was left out: each load's value was missing.)
    const make = toyProgram([[{ kind: 'load', x: 0 }], [{ kind: 'load', x: 0 }], [{ kind: 'store', x: 0, v: 0 }]], 2, 0, () => [], 0, false, { pure: true });
    for (const strategy of ['dfs', 'dpor'] as const) {
      for (const cache of [false, true]) {
        const o = { strategy, cache, collectFinalStates: true } as const;
        const full = exploreProgram(make, { ...o, replay: 'full' });
        expect(full.finalStates).toEqual(['[0,0]|[[0],[0],[]]']);
        expect(counts(exploreProgram(make, { ...o, replay: 'lazy' }))).toEqual(counts(full));
      }
    }
  });

  it('catch a step that says it is stable but whose run reads a local its thread changes after it', () => {
    // t0 writes x[d] and flips d after each write: a kept write run in place of the step its
    // thread yields again writes the other variable. Its footprint names both, so only the
    // check of kept runs can tell.
    const make = (): Program => {
      const s = new Shared(3);
      const t0 = function* () {
        let d = 0;
        for (const v of [2, 1, 5]) {
          yield* perform({ label: `write ${v}`, footprint: [write('x0'), write('x1')], run: () => s.store(d, v).run(), stable: true });
          d = 1 - d;
        }
      };
      const t1 = function* () {
        yield* perform(s.store(0, 4));
        yield* perform(s.store(2, 5));
      };
      return {
        threads: [{ name: 't0', body: t0 }, { name: 't1', body: t1 }],
        invariants: [],
        pureThreads: true,
        state: { save: () => s.save(), restore: (x) => s.restore(x as ReturnType<Shared['save']>), unaudited: () => null },
        finalState: () => s.save().values.join(','),
      };
    };
    const o = { strategy: 'dfs', cache: false, audit: false } as const;
    expect(() => exploreProgram(make, o)).toThrow(ModelError);
    expect(() => exploreProgram(make, o)).toThrow(/says it is stable.*left another state: its run reads a variable of the thread's code/);
    // Without pureThreads the thread is brought back to step, and the search holds.
    expect(exploreProgram(() => ({ ...make(), pureThreads: false }), o).verdict).toBe('holds');
  });
});
