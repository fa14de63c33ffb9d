// Kept generators (rewind.ts, Ahead): a thread a rewind took back runs its kept `stable` steps
// while it receives the same results again, and is its old generator again once it has received
// them all — for a program that declares `pureThreads` and its unaudited state. It must change
// nothing but the generators resumed: the same executions, states, outcomes and final states as
// bringing every thread back from the start; never in place of thread code that wrote the
// model's bookkeeping; and a false `stable` claim about `run` is caught.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { ModelError } from '../../src/engine/errors.js';
import { type Program, type Step, footprintOf, perform, read, write } from '../../src/engine/types.js';
import { stableStep } from '../../src/machine/step.js';
import { explore } from '../../src/index.js';
import type { Params } from '../../src/model.js';
import { builtinModels } from '../../models/index.js';
import { setDefaultMemoryModel } from '../../src/machine/index.js';
import { Shared, toyProgram } from '../../src/testing/toy.js';
import { counts, forbidPair, mapSteps, smallPrograms } from './arbitraries.js';

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

  it('explore what the full replay explores with no kept run checked, beside steps that are not stable (300 random programs)', () => {
    // Every kept run goes on from its kept step (none is run beside a fresh one); the threads'
    // first steps and every third op are not stable, so threads are brought back between kept runs.
    let kept = 0;
    const ran = new WeakSet<Step>();
    fc.assert(
      fc.property(smallPrograms, fc.boolean(), ({ nVars, threads, actors, perStep }, inSteps) => {
        const base = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors, inSteps, { pure: true });
        const make = mapSteps(base, (step, n) => {
          const enabled = step.enabled ? { enabled: () => step.enabled!() } : {};
          // A step object run a second time is a kept one.
          const w: Step = n % 3 === 0 || step.stable !== true
            ? { label: step.label, footprint: () => footprintOf(step), run: () => step.run(), ...enabled }
            : { label: step.label, footprint: step.footprint, stable: true, ...enabled, run: () => (ran.has(w) ? kept++ : ran.add(w), step.run()) };
          return w;
        });
        for (const strategy of ['dfs', 'dpor'] as const) {
          for (const cache of [false, true]) {
            const o = { strategy, cache, collectFinalStates: true, accept: cache ? undefined : () => false } as const;
            const full = counts(exploreProgram(make, { ...o, replay: 'full' }));
            expect(counts(exploreProgram(make, { ...o, replay: 'lazy', keptCheck: 'never' }))).toEqual(full);
          }
        }
      }),
      { numRuns: 300, seed: 43 },
    );
    // Kept runs happen (the full replay runs no step object twice).
    expect(kept).toBeGreaterThan(1000);
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

  it('keep where a thread is when a kept run brings it back to a step that cannot wait (found by review)', () => {
    // A's code writes bookkeeping before the branch point (so it comes back the safe way, from
    // the start), then a kept stable step, then a step whose footprint is a function.
    const make = (): Program => {
      const s = new Shared(3);
      const seen: number[] = [];
      let lastSeen: number[] | undefined;
      const st = <T>(x: Step<T>): Step<T> => ({ ...x, stable: true });
      const A = function* () {
        const v = (yield st(s.load(0))) as number;
        seen.push(v);
        yield st(s.store(1, 1));
        yield { label: 'r x2', footprint: () => [read('x2')], run: () => s.get(2) };
        yield st(s.store(2, 5));
      };
      const B = (i: number) =>
        function* () {
          yield st(s.store(0, 2 + i));
          yield st(s.load(1));
        };
      return {
        threads: [{ name: 'A', body: A }, { name: 'B1', body: B(1) }, { name: 'B0', body: B(0) }],
        invariants: [],
        pureThreads: true,
        finalState: () => `${s.state()}|${seen.join(',')}`,
        state: {
          unaudited: () => (lastSeen !== undefined && lastSeen.length === seen.length && lastSeen.every((x, i) => x === seen[i]) ? lastSeen : (lastSeen = seen.slice())),
          save: () => ({ sh: s.save(), seen: seen.slice() }),
          restore: (v) => {
            const x = v as { sh: ReturnType<Shared['save']>; seen: number[] };
            s.restore(x.sh);
            seen.length = 0;
            seen.push(...x.seen);
          },
        },
      };
    };
    for (const cache of [false, true]) {
      for (const keptCheck of ['never', 'sampled'] as const) {
        const o = { strategy: 'dpor', cache, audit: false, collectFinalStates: true } as const;
        expect(counts(exploreProgram(make, { ...o, replay: 'lazy', keptCheck }))).toEqual(counts(exploreProgram(make, { ...o, replay: 'full' })));
      }
    }
  });

  it('give a kept step that notes only on some runs no note from its run before (found by review)', () => {
    const make = (): Program => {
      const s = new Shared(3);
      const A = function* () {
        yield { ...s.load(2), stable: true };
        // Writes x1 := 1; notes only when x1 was 0 (its result does not depend on it).
        yield stableStep('set x1', [read('x1'), write('x1')], (say) => {
          if (s.get(1) === 0) say('first');
          s.store(1, 1).run();
          return 7;
        });
        yield { ...s.store(0, 1), stable: true };
      };
      const B = function* () {
        yield { ...s.store(1, 1), stable: true };
        yield { ...s.load(0), stable: true };
      };
      return {
        threads: [{ name: 'A', body: A }, { name: 'B', body: B }],
        invariants: [],
        pureThreads: true,
        finalState: () => s.state(),
        state: { unaudited: () => null, save: () => s.save(), restore: (v) => s.restore(v as ReturnType<Shared['save']>) },
      };
    };
    for (const strategy of ['dpor', 'dfs'] as const) {
      for (const cache of [true, false]) {
        for (const keptCheck of ['every', 'never'] as const) {
          const o = { strategy, cache, collectFinalStates: true } as const;
          expect(counts(exploreProgram(make, { ...o, replay: 'lazy', keptCheck }))).toEqual(counts(exploreProgram(make, { ...o, replay: 'full' })));
        }
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

// Every built-in model with `pureThreads` declared (only ptmigrate declares it): the machine's
// steps are stable, and thread code that names a frame between steps (vmap) is seen
// (Machine.unaudited) and runs again. Found by review: with frame names left out, vmap
// explored 221 states where there are 167.
describe('kept generators on every built-in model, each declaring pureThreads', () => {
  for (const model of builtinModels) {
    it(`${model.name}: every variant explores what the full replay explores`, () => {
      const pure = { ...model, build: (v: string, p: Params) => ({ ...model.build(v, p), pureThreads: true }) };
      for (const v of model.variants) {
        // Past every failure (accept): the variants that violate are explored to the end too.
        const o = { variant: v.name, strategy: 'dpor', cache: true, collectFinalStates: true, accept: () => false } as const;
        const full = explore(model, { ...o, replay: 'full' });
        const lazy = explore(pure, { ...o, replay: 'lazy', keptCheck: 'never' });
        expect({ variant: v.name, ...counts(lazy) }).toEqual({ variant: v.name, ...counts(full) });
      }
    }, 120_000);
  }
});

describe('the models that declare pureThreads (cpa, vmap, ptmigrate), beyond their defaults', () => {
  // Their threads' labels and branches must follow from the results they receive: checked here
  // on parameters the default run does not use, and under TSO, with every kept run checked
  // against the step the thread yields again, the counterexample's labels and notes included.
  const configs: Record<string, Params[]> = { cpa: [{ forks: 1, psc: 1 }], vmap: [{ slots: 2 }, { pat: 1 }, { vmRam: 1 }], ptmigrate: [{ pages: 3 }] };
  const key = (r: ReturnType<typeof explore>) => ({ ...counts(r), trace: r.violation?.trace.map((t) => `${t.thread}: ${t.label} | ${t.note ?? ''}`) });
  for (const [name, paramSets] of Object.entries(configs)) {
    it(`${name}: every variant explores and reports what the full replay does, under SC and TSO`, () => {
      const model = builtinModels.find((m) => m.name === name)!;
      for (const memoryModel of ['sc', 'tso'] as const) {
        setDefaultMemoryModel(memoryModel);
        try {
          for (const v of model.variants) {
            for (const params of paramSets) {
              const o = { variant: v.name, params, cache: true, maxExecutions: 2000, collectFinalStates: true } as const;
              const what = { variant: v.name, params, memoryModel };
              expect({ ...what, ...key(explore(model, { ...o, keptCheck: 'every' })) }).toEqual({ ...what, ...key(explore(model, { ...o, replay: 'full' })) });
            }
          }
        } finally {
          setDefaultMemoryModel('sc');
        }
      }
    }, 120_000);
  }
});
