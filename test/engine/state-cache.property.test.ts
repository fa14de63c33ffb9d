// The state cache (stateful.ts) must change nothing but the work done: against the stateless
// DFS, the same final states, the same outcomes (violations, deadlocks, blocked executions) and
// the same verdicts, on random programs; sleep sets must cut transitions, never states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram, type ExploreOptions } from '../../src/engine/explore.js';
import { type Invariant, type Program, perform, read, write } from '../../src/engine/types.js';
import { fingerprint, stateFingerprint } from '../../src/engine/fingerprint.js';
import { type Op, type Shared, toyProgram } from '../../src/testing/toy.js';
import { forbidPair, smallPrograms as programs } from './arbitraries.js';


/** Explores past every failure, so every outcome is compared. */
function outcomes(make: () => Program, o: ExploreOptions) {
  const seen = new Set<string>();
  const r = exploreProgram(make, { ...o, collectFinalStates: true, accept: () => false, onExecution: (_e, exec) => seen.add(exec.failure ? exec.failure.invariant : exec.blocked !== null ? 'blocked' : 'complete') });
  return { r, seen: [...seen].sort() };
}

describe('state cache against stateless DFS', () => {
  it('reaches the same final states and outcomes when the search goes on past failures (1000 random programs)', () => {
    let pruned = 0;
    fc.assert(
      fc.property(programs, ({ nVars, threads, actors, perStep }) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        const dfs = outcomes(make, { strategy: 'dfs', cache: false });
        // dpor with an accept filter keeps no sleep sets (stateful.ts): both are the plain search.
        for (const strategy of ['dfs', 'dpor'] as const) {
          const cached = outcomes(make, { strategy, cache: true });
          expect(cached.r.finalStates).toEqual(dfs.r.finalStates);
          expect(cached.seen).toEqual(dfs.seen);
          expect(cached.r.steps).toBeLessThanOrEqual(dfs.r.steps + dfs.r.restoredSteps);
          pruned += cached.r.cache!.revisits;
        }
      }),
      { numRuns: 1000, seed: 21 },
    );
    expect(pruned).toBeGreaterThan(1000);
  });

  it('with sleep sets visits every state the plain search visits, in fewer steps (1000 random programs)', () => {
    const steps = { cached: 0, stateful: 0 };
    let held = 0;
    fc.assert(
      fc.property(programs, ({ nVars, threads, actors, perStep }) => {
        const make = toyProgram(threads, nVars, 2, perStep ? forbidPair : () => [], actors);
        const dfs = exploreProgram(make, { strategy: 'dfs', cache: false, collectFinalStates: true });
        const cached = exploreProgram(make, { strategy: 'dfs', cache: true, collectFinalStates: true });
        const stateful = exploreProgram(make, { strategy: 'dpor', cache: true, collectFinalStates: true });
        expect(stateful.strategy).toBe('stateful');
        for (const r of [cached, stateful]) {
          expect(r.verdict).toBe(dfs.verdict);
          if (dfs.verdict === 'holds') expect(r.finalStates).toEqual(dfs.finalStates);
        }
        if (dfs.verdict !== 'holds') return;
        held++;
        // Sleep sets cut transitions, not states. (A revisit with fewer threads asleep than the
        // first visit explores those again, so one program may take a step more; over many,
        // sleep sets take far fewer.)
        expect(stateful.cache!.states).toBe(cached.cache!.states);
        steps.cached += cached.steps;
        steps.stateful += stateful.steps;
      }),
      { numRuns: 1000, seed: 23 },
    );
    expect(held).toBeGreaterThan(300);
    expect(steps.stateful).toBeLessThan(0.9 * steps.cached);
  });

  it('stops at the first violation with the same verdict as DFS (per-step and final invariants)', () => {
    let violated = 0;
    fc.assert(
      fc.property(programs, ({ nVars, threads, actors, perStep }) => {
        const inv = (s: Shared): Invariant[] => [...(perStep ? forbidPair(s) : []), { name: 'sum-small', atEnd: true, check: () => (s.vars.reduce((a, b) => a + b, 0) > 3 ? 'sum > 3' : null) }];
        const make = toyProgram(threads, nVars, 2, inv, actors);
        const dfs = exploreProgram(make, { strategy: 'dfs', cache: false });
        for (const strategy of ['dfs', 'dpor'] as const) {
          const r = exploreProgram(make, { strategy, cache: true });
          expect(r.verdict).toBe(dfs.verdict);
          expect(r.violation === undefined).toBe(dfs.violation === undefined);
        }
        if (dfs.violation) violated++;
      }),
      { numRuns: 400, seed: 22 },
    );
    expect(violated).toBeGreaterThan(50);
  });

  it('finds an invariant violated only in a state reached by a second path (thread-local state differs)', () => {
    // t0 reads x into a local, then both paths write z: the shared state after that is the same
    // whichever order t1's store and t0's load took, but t0's local differs. Its later store of
    // the local is what the invariant sees; the search takes the harmless order first (the last
    // declared thread first, explorationOrder).
    const make = (): Program => {
      const v = { x: 0, y: -1, z: 0 };
      const at = <T,>(label: string, fp: { loc: string; write: boolean }[], run: () => T) => ({ label, footprint: fp, run });
      return {
        threads: [
          {
            name: 't0',
            body: function* () {
              const r = yield* perform(at('r = x', [read('x')], () => v.x));
              yield* perform(at('z = 5', [write('z')], () => void (v.z = 5)));
              yield* perform(at(`y = r`, [write('y')], () => void (v.y = r)));
            },
          },
          { name: 't1', body: function* () { yield* perform(at('x = 1', [write('x')], () => void (v.x = 1))); } },
        ],
        invariants: [{ name: 'y-saw-x', atEnd: true, check: () => (v.y === 0 ? 't0 read x before t1 wrote it' : null) }],
        state: { save: () => ({ ...v }), restore: (s) => void Object.assign(v, s as typeof v) },
      };
    };
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = exploreProgram(make, { strategy, cache: true, audit: false });
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe('y-saw-x');
      expect(r.violation?.schedule).toEqual([0, 1, 0, 0]);
      // The harmless order ran first: the violation is not the first execution's.
      expect(r.executions).toBeGreaterThan(1);
    }
  });

  it('keeps exploring, uncached, a state whose thread received a result that is not data', () => {
    const threads: Op[][] = [[{ kind: 'store', x: 0, v: 1 }, { kind: 'load', x: 1 }], [{ kind: 'store', x: 1, v: 1 }, { kind: 'load', x: 0 }]];
    const base = toyProgram(threads, 2, 0);
    const opaque = (): Program => {
      const p = base();
      // A thread whose first step returns a function: its position cannot be fingerprinted.
      const first = p.threads[0]!;
      return {
        ...p,
        threads: [{ name: 'fn', body: function* () { const f = yield* perform({ label: 'get f', footprint: [read('q')], run: () => () => 1 }); void f; yield* first.body(); } }, ...p.threads.slice(1)],
      };
    };
    const dfs = exploreProgram(opaque, { strategy: 'dfs', cache: false, collectFinalStates: true });
    const cached = exploreProgram(opaque, { strategy: 'dpor', cache: true, collectFinalStates: true });
    expect(cached.finalStates).toEqual(dfs.finalStates);
    expect(cached.cache?.revisits).toBe(0);
  });

  it('past its memory budget turns into a bit array and says the verdict is probabilistic', () => {
    const threads: Op[][] = [0, 1, 2].map((t) => [{ kind: 'store', x: 0, v: t + 1 }, { kind: 'load', x: 1 }, { kind: 'store', x: 1, v: t + 1 }, { kind: 'load', x: 0 }]);
    const make = toyProgram(threads, 2, 0);
    const exact = exploreProgram(make, { strategy: 'dpor', cache: true, collectFinalStates: true });
    expect(exact.cache?.mode).toBe('hash-compact');
    const bits = exploreProgram(make, { strategy: 'dpor', cache: true, collectFinalStates: true, maxCacheBytes: 60_000 });
    expect(bits.verdict).toBe('holds');
    expect(bits.cache?.mode).toBe('bitstate');
    expect(bits.cache?.collisionProbability).toBeGreaterThan(0);
    expect(bits.finalStates).toEqual(exact.finalStates);
  });
});

describe('memoryless threads', () => {
  it('are placed by their pending step, so states that differ in how often they ran are one', () => {
    // A producer posts work three times, another thread throws the queue away once; a handler
    // takes one item whenever there is any (an IPI handler's shape). How many it took is not
    // part of what it does next, and the shared state does not say it either.
    const make = (memoryless: boolean) => (): Program => {
      const v = { queued: 0 };
      const post = { label: 'post', footprint: [write('q')], run: () => void v.queued++ };
      const drop = { label: 'drop all', footprint: [write('q')], run: () => void (v.queued = 0) };
      const take = { label: 'take one', footprint: [write('q')], enabled: () => v.queued > 0, run: () => void v.queued-- };
      return {
        threads: [
          { name: 'p0', body: function* () { yield* perform(post); yield* perform(post); yield* perform(post); } },
          { name: 'p1', body: function* () { yield* perform(drop); } },
          { name: 'handler', actor: true, memoryless, body: function* () { for (;;) yield* perform(take); } },
        ],
        invariants: [{ name: 'all-taken', atEnd: true, check: () => (v.queued === 0 ? null : `${v.queued} left`) }],
        finalState: () => JSON.stringify(v),
        state: { save: () => ({ ...v }), restore: (s) => void Object.assign(v, s as typeof v) },
      };
    };
    const dfs = exploreProgram(make(true), { strategy: 'dfs', audit: false, collectFinalStates: true });
    const counted = exploreProgram(make(false), { strategy: 'dpor', cache: true, audit: false, collectFinalStates: true });
    const merged = exploreProgram(make(true), { strategy: 'dpor', cache: true, audit: false, collectFinalStates: true });
    expect(merged.verdict).toBe(dfs.verdict);
    expect(merged.finalStates).toEqual(dfs.finalStates);
    expect(counted.finalStates).toEqual(dfs.finalStates);
    expect(merged.cache!.states).toBeLessThan(counted.cache!.states);
  });
});

describe('finished threads', () => {
  it('are in one place whatever results they received, so equal ends are one state', () => {
    // A reads x and finishes; B writes x. A's two histories (read 0, read 1) end in the same
    // shared state with both threads done: init, A, B, A·B and B·A merge into 4 states.
    const make = (): Program => {
      const v = { x: 0 };
      return {
        threads: [
          { name: 'a', body: function* () { yield* perform({ label: 'read x', footprint: [read('x')], run: () => v.x }); } },
          { name: 'b', body: function* () { yield* perform({ label: 'x = 1', footprint: [write('x')], run: () => void (v.x = 1) }); } },
        ],
        invariants: [],
        finalState: () => JSON.stringify(v),
        state: { save: () => ({ ...v }), restore: (s) => void Object.assign(v, s as typeof v) },
      };
    };
    const r = exploreProgram(make, { strategy: 'dfs', cache: true, audit: false, collectFinalStates: true });
    expect(r.verdict).toBe('holds');
    expect(r.cache!.states).toBe(4);
    expect(r.finalStates).toEqual(exploreProgram(make, { strategy: 'dfs', audit: false, collectFinalStates: true }).finalStates);
  });
});

describe('cycles', () => {
  it('an execution that returns to a state on its own path is a step-bound failure, as without the cache', () => {
    // A memoryless actor toggles a flag forever; a thread sets another once. Stateless search
    // runs into the step bound; the search over states sees the state come round again.
    const make = (): Program => {
      const v = { flag: 0, done: 0 };
      return {
        threads: [
          // Declared first, so explored last (explorationOrder): the cycle begins after step 1.
          { name: 'toggler', actor: true, memoryless: true, body: function* () { for (;;) yield* perform({ label: 'flag ^= 1', footprint: [write('f')], run: () => void (v.flag ^= 1) }); } },
          { name: 't', body: function* () { yield* perform({ label: 'done = 1', footprint: [write('d')], run: () => void (v.done = 1) }); } },
        ],
        invariants: [],
        state: { save: () => ({ ...v }), restore: (s) => void Object.assign(v, s as typeof v) },
      };
    };
    const stateless = exploreProgram(make, { strategy: 'dfs', audit: false, maxSteps: 50 });
    expect(stateless.violation?.kind).toBe('step-bound');
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = exploreProgram(make, { strategy, cache: true, audit: false, maxSteps: 50 });
      expect(r.violation?.kind).toBe('step-bound');
      expect(r.violation?.message).toMatch(/the state after step 3 is the state after step 1: the steps between can repeat forever/);
      expect(r.violation?.schedule.length).toBeLessThan(50);
    }
  });
});

describe('fingerprints', () => {
  it('tell nesting, types and order apart, and equal data alike', () => {
    const f = (v: unknown) => { const h = fingerprint(v); return `${h.lo}:${h.hi}`; };
    expect(f([1, [2]])).not.toBe(f([[1], 2]));
    expect(f(['1'])).not.toBe(f([1]));
    expect(f([null])).not.toBe(f([undefined]));
    expect(f({ a: 1, b: 2 })).toBe(f({ a: 1, b: 2 }));
    expect(f([0.5, 'x', { k: [true] }])).toBe(f([0.5, 'x', { k: [true] }]));
    expect(f([1, 2])).not.toBe(f([2, 1]));
    expect(() => fingerprint([() => 1])).toThrow(/not data/);
  });

  it('hash an object alike whatever objects with the same first key came before (key hashes kept per shape)', () => {
    const f = (v: unknown) => { const h = fingerprint(v); return `${h.lo}:${h.hi}`; };
    // Keys no other test uses, so the first pass meets every shape cold. Shapes that share a
    // first key, in both orders, and one nested in a value of its own first key.
    const objects = [
      { shapeA: 1, shapeB: [2], shapeC: 'x' },
      { shapeA: 1, shapeC: 'x', shapeB: [2] },
      { shapeA: { shapeA: 1, shapeD: 2 }, shapeB: 3 },
      { shapeA: 1 },
      { shapeA: 1, shapeB: [2], shapeC: 'x', shapeE: null },
    ];
    const cold = objects.map(f);
    const warm = [...objects].reverse().map(f).reverse();
    expect(warm).toEqual(cold);
    // Objects that differ in a key's name only, behind a shared first key, differ.
    expect(f({ shapeA: 1, shapeF: 2 })).not.toBe(f({ shapeA: 1, shapeG: 2 }));
    expect(f({ shapeA: 1, shapeB: [2], shapeH: 'x' })).not.toBe(cold[0]);
    // The same entries in another order are another value (as they always were: keys in order).
    expect(cold[0]).not.toBe(cold[1]);
    // And each equals a copy made afresh (no hash kept on it).
    expect(objects.map((o) => f(JSON.parse(JSON.stringify(o))))).toEqual(cold);
  });

  it('of a sequence of saved states sharing parts equal those of fresh copies (hashes remembered by place)', () => {
    // Saved states as a search produces them: each the one before with one part replaced (a
    // new object), the other parts the same objects, and now and then an older state again (a
    // rewind). Long lists (16+ items) keep their hash on themselves too.
    type Part = { irq: boolean; tlb: number[]; words: number[] };
    const part = fc.record({ irq: fc.boolean(), tlb: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), words: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 15, maxLength: 17 }) });
    fc.assert(
      fc.property(fc.array(part, { minLength: 3, maxLength: 3 }), fc.array(fc.tuple(fc.nat(2), part, fc.nat(5)), { minLength: 1, maxLength: 30 }), (first, changes) => {
        const states: Part[][] = [first];
        for (const [at, p, back] of changes) {
          const from = states[Math.max(0, states.length - 1 - back)]!;
          const next = [...from];
          next[at] = p;
          states.push(next);
          if (back % 2 === 0) states.push(from); // an earlier state's very objects again
        }
        const chains = [{ lo: 1, hi: 2 }];
        const saved = states.map((st) => [st, { n: st.length }]);
        const hashes = saved.map((x) => stateFingerprint(x, chains));
        // Copies share no object with anything hashed before: every place is hashed afresh.
        const fresh = saved.map((x) => stateFingerprint(JSON.parse(JSON.stringify(x)) as unknown, chains));
        expect(hashes).toEqual(fresh);
        expect(new Set(hashes.map((h) => `${h.lo}:${h.hi}`)).size).toBe(new Set(saved.map((x) => JSON.stringify(x))).size);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});

// ProgramState.hash: a program state that hashes itself mixes values through a StateHasher
// whose encoding is prefix-free for each kind of value, so no two different streams of numbers
// (or of strings and absent strings) mix the same words — here without the list lengths the
// machine's hash adds. (A saved shape fixes which kind each place holds.)
describe('StateHasher', () => {
  type V = number | string | undefined;
  const state = { hash: (saved: unknown, h: import('../../src/engine/fingerprint.js').StateHasher) => { for (const x of saved as V[]) (typeof x === 'number' ? h.num(x) : h.str(x)); } };
  const hashOf = (xs: V[]) => { const r = stateFingerprint(xs, [], state); return `${r.lo}:${r.hi}`; };
  const key = (xs: V[]) => JSON.stringify(xs.map((x) => (x === undefined ? ['u'] : typeof x === 'number' ? ['n', Object.is(x, -0) ? '-0' : x] : ['s', x])));
  const distinct = (streams: V[][]) => {
    const byHash = new Map<string, string>();
    for (const xs of streams) {
      const h = hashOf(xs);
      const k = key(xs);
      if (byHash.has(h)) expect(byHash.get(h)).toBe(k);
      byHash.set(h, k);
    }
  };
  const numbers = fc.oneof(fc.constantFrom<V>(13, 1, 0, -1), fc.integer(), fc.double({ noNaN: true }));
  const strings = fc.oneof(fc.constantFrom<V>(undefined, '', 'a'), fc.string({ maxLength: 3 }));

  it('mixes different streams of numbers into different fingerprints', () => {
    fc.assert(fc.property(fc.array(fc.array(numbers, { maxLength: 5 }), { minLength: 2, maxLength: 6 }), distinct), { numRuns: 500, seed: 11 });
    // What a careless encoding would mix: the mark as an integer, and the words a float is written as.
    const cases: V[][] = [[13], [13, 0], [13, 1], [1.5], [0], [0, 0], [13, 0, 1073217536], [13, 1, 0, 1073217536]];
    expect(new Set(cases.map(hashOf)).size).toBe(cases.length);
  });

  it('mixes different streams of strings and absent strings into different fingerprints', () => {
    fc.assert(fc.property(fc.array(fc.array(strings, { maxLength: 5 }), { minLength: 2, maxLength: 6 }), distinct), { numRuns: 500, seed: 12 });
    const cases: V[][] = [[undefined], [''], ['a'], [undefined, undefined], [undefined, 'a'], ['a', undefined]];
    expect(new Set(cases.map(hashOf)).size).toBe(cases.length);
  });
});
