// A per-step invariant is checked again only after a step that writes a location it watches
// (execution.ts, checkInvariants; invariant-checks.ts): in the state before, it held, and it
// reads nothing else. These pin what is skipped, that nothing it could see is, and that an
// invariant whose answer changes without a watched write (plain JS bookkeeping) is caught.
import { ModelError } from '../../src/engine/errors.js';
import { Dependence } from '../../src/engine/dependence.js';
import { type EventRecord, Execution } from '../../src/engine/execution.js';
import { DporStrategy } from '../../src/engine/dpor.js';
import { InvariantChecks } from '../../src/engine/invariant-checks.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { replaySchedule } from '../../src/engine/replay.js';
import { type Access, type Invariant, type Program, perform, read, write } from '../../src/engine/types.js';
import { type Op, Shared, toyProgram } from '../../src/testing/toy.js';
import { counts, smallPrograms } from './arbitraries.js';

const strategies = ['dfs', 'dpor', 'bounded'] as const;

/** One thread: five stores to x0, a load of x1, a store to x1, a store to x0 (8 steps). */
const ops: Op[][] = [
  [
    ...[1, 2, 3, 4, 5].map((v): Op => ({ kind: 'store', x: 0, v })),
    { kind: 'load', x: 1 },
    { kind: 'store', x: 1, v: 1 },
    { kind: 'store', x: 0, v: 2 },
  ],
];

describe('per-step invariants and the writes they watch', () => {
  it('is checked in the initial state, after each step that writes what it watches, and at the end', () => {
    const counts = { x1: 0, all: 0 };
    const make = toyProgram(ops, 2, 0, (s) => [
      { name: 'x1-only', watch: ['x1'], check: () => (counts.x1++, s.get(1) > 5 ? 'x1 > 5' : null) },
      { name: 'anything', check: () => (counts.all++, s.get(0) > 5 ? 'x0 > 5' : null) },
    ]);
    for (const strategy of strategies) {
      counts.x1 = counts.all = 0;
      const r = exploreProgram(make, { strategy, cache: false });
      expect(r.verdict).toBe('holds');
      expect(r.executions).toBe(1);
      // x1-only: the initial state, after `store x1`, at the end (finish checks every invariant),
      // and its first two skipped checks (the sample: invariant-checks.ts), not the other five.
      expect(counts.x1).toBe(3 + 2);
      // Without a watch list an invariant may read anything: checked after every step.
      expect(counts.all).toBe(1 + 8 + 1);
      // The plain way, and with the audit off (which would not catch a read outside the watch).
      for (const o of [{ invariantChecks: 'every' }, { audit: false }] as const) {
        counts.x1 = 0;
        exploreProgram(make, { strategy, cache: false, ...o });
        expect(counts.x1).toBe(1 + 8 + 1);
      }
    }
  });

  it('checks after every step when the build watches other locations than the search was told', () => {
    // The groups are made once per search, from the probe build; a build whose watch lists
    // differ cannot use them (Dependence.describes), so it skips nothing.
    let checks = 0;
    const make = toyProgram(ops, 2, 0, () => [{ name: 'x1-small', watch: ['x1'], check: () => (checks++, null) }]);
    const run = (told: Invariant[]) => {
      checks = 0;
      const exec = new Execution(make, { maxSteps: 100, audit: true, invariantChecks: new InvariantChecks(new Dependence(told)) });
      while (exec.enabled().length > 0) exec.step(0);
      exec.finish();
      return checks;
    };
    const same: Invariant[] = [{ name: 'x1-small', watch: ['x1'], check: () => null }];
    const other: Invariant[] = [{ name: 'x1-small', watch: ['x9'], check: () => null }];
    expect(run(same)).toBe(3 + 2); // as in the first test: start, `store x1`, end, two samples
    expect(run(other)).toBe(1 + 8 + 1);
  });

  it('a skipped check that fails is a model error: the invariant read bookkeeping a step changed unseen', () => {
    // The step writes x1 and, in plain JS, a ledger the invariant reads; it watches only x0.
    const make = (): Program => {
      const s = new Shared(2, 0);
      let ledger = 0;
      const step = (v: number) => ({ label: `store x1; ledger = ${v}`, footprint: [{ loc: 'x1', write: true }], run: () => void ((ledger = v), s.get(1)) });
      return {
        threads: [{ name: 't', body: function* () { yield* perform(step(1)); yield* perform(step(0)); } }],
        invariants: [{ name: 'ledger-clear', watch: ['x0'], check: () => (s.get(0), ledger === 0 ? null : `ledger = ${ledger}`) }],
      };
    };
    for (const strategy of strategies) {
      expect(() => exploreProgram(make, { strategy, cache: false })).toThrowError(ModelError);
      expect(() => exploreProgram(make, { strategy, cache: false })).toThrowError(
        'invariant ledger-clear held before "t: store x1; ledger = 1" and fails after it ("ledger = 1"), yet the step writes no location it watches ("x0")',
      );
      // Checked after every step, the violation is reported as one.
      expect(exploreProgram(make, { strategy, cache: false, invariantChecks: 'every' }).violation?.invariant).toBe('ledger-clear');
    }
  });

  it('finds a violation at the step that writes what the invariant watches, after unwatched steps', () => {
    // x0 is written often and never watched; the bad value of x1 appears at t1's second store.
    const make = toyProgram(
      [
        [
          { kind: 'store', x: 0, v: 1 },
          { kind: 'store', x: 0, v: 2 },
          { kind: 'store', x: 0, v: 3 },
        ],
        [
          { kind: 'store', x: 1, v: 1 },
          { kind: 'store', x: 1, v: 7 },
          { kind: 'store', x: 1, v: 0 },
        ],
      ],
      2,
      0,
      (s) => [{ name: 'x1-below-5', watch: ['x1'], check: () => (s.get(1) < 5 ? null : `x1 = ${s.get(1)}`) }],
    );
    for (const strategy of strategies) {
      const r = exploreProgram(make, { strategy, cache: false });
      expect(r.violation?.invariant).toBe('x1-below-5');
      // The state is bad only between t1's second and third store: the violation is seen there.
      const schedule = r.violation!.schedule;
      const replayed = replaySchedule(make, schedule);
      expect(replayed.failure?.invariant).toBe('x1-below-5');
      expect(replayed.trace.at(-1)?.label).toBe('store x1=7');
    }
  });

  it('checks every invariant again after thread code that changed unaudited bookkeeping', () => {
    // Against the contract (an invariant should read only what it watches), a ledger in plain
    // JS changed between steps is still seen: the step before it counts as visible to all.
    const make = (): Program => {
      const s = new Shared(2, 0);
      let ledger = 0;
      const invariants: Invariant[] = [{ name: 'ledger-clear', watch: ['x0'], check: () => (s.get(0), ledger === 0 ? null : `ledger = ${ledger}`) }];
      return {
        threads: [
          {
            name: 't',
            body: function* () {
              yield* perform(s.store(1, 1));
              ledger = 1;
              yield* perform(s.store(1, 2));
            },
          },
        ],
        invariants,
        state: { save: () => ({ ledger }), restore: (v) => void (ledger = (v as { ledger: number }).ledger), unaudited: () => ledger },
      };
    };
    for (const strategy of strategies) {
      const r = exploreProgram(make, { strategy, cache: false });
      expect(r.violation?.invariant).toBe('ledger-clear');
      expect(r.violation?.schedule).toEqual([0]);
    }
  });

  it('finds a violation of a pair where replay, checking every step, finds it (two writers, one unwatched variable)', () => {
    // Two writers of x0 and x1 with an invariant over both; replaying each violation's schedule
    // (which checks every invariant after every step) agrees on where it fails.
    const make = toyProgram(
      [
        [
          { kind: 'store', x: 0, v: 1 },
          { kind: 'load', x: 2 },
          { kind: 'store', x: 0, v: 0 },
        ],
        [
          { kind: 'store', x: 2, v: 1 },
          { kind: 'store', x: 1, v: 1 },
          { kind: 'store', x: 1, v: 0 },
        ],
      ],
      3,
      0,
      (s) => [{ name: 'not-both', watch: ['x0', 'x1'], check: () => (s.get(0) === 1 && s.get(1) === 1 ? 'x0 = x1 = 1' : null) }],
    );
    for (const strategy of strategies) {
      const r = exploreProgram(make, { strategy, cache: false });
      expect(r.violation?.invariant).toBe('not-both');
      const replayed = replaySchedule(make, r.violation!.schedule);
      expect(replayed.failure?.invariant).toBe('not-both');
      expect(replayed.trace.length).toBe(r.violation!.schedule.length);
    }
  });

  it('gives every count and verdict of checking after every step, on random programs', () => {
    // Invariants watching one variable each (x0; the last), and one watching everything: most
    // steps write something one of them does not watch.
    const invariants = (s: Shared): Invariant[] => {
      const last = s.vars.length - 1;
      return [
        { name: 'x0-not-2', watch: ['x0'], check: () => (s.get(0) === 2 ? 'x0 = 2' : null) },
        { name: 'last-not-2-while-locked', watch: [`x${last}`, 'l'], check: () => (s.get(last) === 2 && last > 0 ? `x${last} = 2` : null) },
        { name: 'sum-below-4', check: () => (s.vars.reduce((a, b) => a + b, 0) >= 4 ? 'sum >= 4' : null) },
      ];
    };
    fc.assert(
      fc.property(smallPrograms, fc.constantFrom('dfs', 'dpor'), fc.boolean(), ({ nVars, threads, actors }, strategy, cache) => {
        const make = toyProgram(threads, nVars, 2, invariants, actors);
        const run = (invariantChecks: 'visible' | 'every') => counts(exploreProgram(make, { strategy, cache, invariantChecks, collectFinalStates: true }));
        expect(run('visible')).toEqual(run('every'));
      }),
      { numRuns: 300, seed: 1207 },
    );
  });
});

describe('the visibility kept between the invariant checks and DPOR', () => {
  it('answers for the array as it is now when a model changes one footprint array between steps', () => {
    const dep = new Dependence([{ name: 'i', watch: ['w:'], check: () => null }]);
    const fp: Access[] = [write('w:1')];
    expect(dep.stepVisible(fp)).toBe(1);
    expect(dep.takeVisible(fp)).toBe(1);
    fp[0] = write('other');
    expect(dep.writesVisible(fp)).toBe(0);
    expect(dep.takeVisible(fp)).toBe(0);
    dep.stepVisible(fp);
    fp[0] = write('w:2');
    dep.takeVisible([read('x')]);
    expect(dep.takeVisible(fp)).toBe(1);
  });

  it("forgets the answer for a step of DPOR's kept prefix, which takes none", () => {
    // A re-run prefix step is checked (stepVisible) but DPOR has its event already: the kept
    // answer must not serve a later step handed the same array, changed since.
    const dep = new Dependence([{ name: 'i', watch: ['w:'], check: () => null }]);
    const dpor = new DporStrategy(dep);
    const fp: Access[] = [write('w:1')];
    const exec = { events: { length: 0 }, threadCount: 1 } as unknown as Execution;
    const record: EventRecord = { tid: 0, label: 'a step', note: undefined, footprint: fp, conditional: false };
    dep.stepVisible(fp);
    dpor.afterStep(exec, record);
    fp[0] = write('other');
    expect(dep.takeVisible(fp)).toBe(0);
  });
});
