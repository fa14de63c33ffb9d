// A restored execution brings a thread's generator back only when the thread steps again
// (Execution.rewind, bringBack). It must change nothing but the work done: the same executions,
// states, outcomes and final states as bringing every thread back at once from the initial
// state ('full'), on random programs, on every built-in model, and on models whose thread code
// keeps bookkeeping in plain JS between steps (which a thread brought back alone would redo).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { ExploreResult } from '../../src/engine/results.js';
import { type Program, perform, write } from '../../src/engine/types.js';
import { explore } from '../../src/index.js';
import { Shared, toyProgram } from '../../src/testing/toy.js';
import { builtinModels } from '../../models/index.js';
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

describe('lazy replay', () => {
  it('explores exactly what the full replay explores (dfs, dpor, with and without states; 300 random programs)', () => {
    fc.assert(
      fc.property(smallPrograms, ({ nVars, threads, actors, perStep }) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        for (const strategy of ['dfs', 'dpor'] as const) {
          for (const cache of [false, true]) {
            const o = { strategy, cache, collectFinalStates: true, accept: cache ? undefined : () => false } as const;
            expect(counts(exploreProgram(make, { ...o, replay: 'lazy' }))).toEqual(counts(exploreProgram(make, { ...o, replay: 'full' })));
          }
        }
      }),
      { numRuns: 300, seed: 29 },
    );
  });

  it('resumes far fewer thread generators than the full replay on a long search', () => {
    let yielded = 0;
    const base = toyProgram(
      [0, 1, 2].map((t) => [{ kind: 'store', x: 0, v: t + 1 }, { kind: 'load', x: 1 }, { kind: 'store', x: 1, v: t + 1 }, { kind: 'load', x: 0 }]),
      2,
      0,
    );
    // Every step a thread's code yields, run or fed back, is counted.
    const make = (): Program => {
      const p = base();
      return {
        ...p,
        threads: p.threads.map((t) => ({
          ...t,
          body: function* () {
            const g = t.body();
            let r = g.next();
            while (!r.done) {
              yielded++;
              r = g.next(yield r.value);
            }
          },
        })),
      };
    };
    const run = (replay: 'lazy' | 'full') => {
      yielded = 0;
      const r = exploreProgram(make, { strategy: 'dfs', cache: true, replay });
      return { r: counts(r), yielded };
    };
    const full = run('full');
    const lazy = run('lazy');
    expect(lazy.r).toEqual(full.r);
    expect(lazy.r.states).toBeGreaterThan(100);
    expect(lazy.yielded).toBeLessThan(full.yielded * 0.7); // 11,852 against 21,338 when written
  });

  it('brings back, the safe way, threads whose code reads bookkeeping another thread keeps between steps', () => {
    // A ledger in plain JS (declared state): each thread's code appends to it after a step and
    // labels its next step by what it finds there — a thread brought back alone, in a later
    // state, would find another ledger and yield another step.
    const make = (): Program => {
      const s = new Shared(2);
      const ledger: number[] = [];
      const thread = (me: number) =>
        function* () {
          for (let i = 0; i < 2; i++) {
            const v = yield* perform(s.load(i));
            ledger.push(me * 10 + (v as number));
            yield* perform({ label: `store after ${ledger.length} entries`, footprint: [write(`x${1 - i}`)], run: () => s.store(1 - i, me + 1).run() });
          }
        };
      return {
        threads: [0, 1, 2].map((me) => ({ name: `t${me}`, body: thread(me) })),
        invariants: [{ name: 'ledger-short', watch: [], check: () => (ledger.length > 6 ? 'ledger too long' : null) }],
        state: {
          save: () => [s.save(), ledger.slice()],
          restore: (x) => {
            const [sv, l] = x as [unknown, number[]];
            s.restore(sv as ReturnType<Shared['save']>);
            ledger.length = 0;
            ledger.push(...l);
          },
        },
        finalState: () => `${s.vars.join(',')}|${ledger.length}`,
      };
    };
    for (const cache of [false, true]) {
      const o = { strategy: 'dpor', cache, collectFinalStates: true, audit: false } as const;
      const full = exploreProgram(make, { ...o, replay: 'full' });
      const lazy = exploreProgram(make, { ...o, replay: 'lazy' });
      expect(full.verdict).toBe('holds');
      expect(counts(lazy)).toEqual(counts(full));
    }
  });
});

describe('lazy replay on the built-in models', () => {
  for (const model of builtinModels) {
    it(`${model.name}: every variant explores what the full replay explores`, () => {
      for (const v of model.variants) {
        const o = { variant: v.name, strategy: 'dpor', collectFinalStates: true } as const;
        const full = explore(model, { ...o, replay: 'full' });
        const lazy = explore(model, { ...o, replay: 'lazy' });
        expect({ variant: v.name, ...counts(lazy) }).toEqual({ variant: v.name, ...counts(full) });
      }
    }, 120_000);
  }
});
