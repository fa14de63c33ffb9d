import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { replaySchedule } from '../../src/engine/replay.js';
import { type Program, type ThreadBody, perform, read, write } from '../../src/engine/types.js';
import { Shared, toyProgram } from '../../src/testing/toy.js';

/** Two threads each add 1 to x (after recording their own start in a private variable);
 * the invariant at the end wants 2. */
function counter(atomic: boolean): () => Program {
  return () => {
    const s = new Shared(3);
    function* incr(me: number): ThreadBody {
      if (atomic) yield* perform(s.store(1 + me, 1)); // independent of the other thread
      if (!atomic) {
        const v = yield* perform(s.load(0));
        yield* perform(s.store(0, v + 1));
        return;
      }
      for (;;) {
        const v = yield* perform(s.load(0));
        if (yield* perform(s.cas(0, v, v + 1))) return;
      }
    }
    return {
      threads: [{ name: 't0', body: () => incr(0) }, { name: 't1', body: () => incr(1) }],
      invariants: [{ name: 'no-lost-update', atEnd: true, check: () => (s.vars[0] === 2 ? null : `x = ${s.vars[0]}, expected 2`) }],
      finalState: () => s.state(),
    };
  };
}

describe('known answers', () => {
  it('DFS finds the lost update of two non-atomic increments', () => {
    const r = exploreProgram(counter(false), { cache: false, strategy: 'dfs' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-lost-update');
    expect(r.violation?.message).toBe('x = 1, expected 2');
    // t0 loads, t1 loads, …: the first interleaving in DFS order that loses one.
    expect(r.violation?.schedule).toEqual([0, 1, 0, 1]);
  });

  it('DPOR finds the lost update too', () => {
    const r = exploreProgram(counter(false), { cache: false, strategy: 'dpor' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-lost-update');
  });

  it('CAS-retry increment holds, and DPOR explores fewer executions than DFS', () => {
    const dfs = exploreProgram(counter(true), { cache: false, strategy: 'dfs' });
    const dpor = exploreProgram(counter(true), { cache: false, strategy: 'dpor' });
    expect(dfs.verdict).toBe('holds');
    expect(dpor.verdict).toBe('holds');
    expect(dfs.executions).toBe(20);
    expect(dpor.executions).toBe(4); // the loads commute: 4 Mazurkiewicz traces
    expect(dpor.executions).toBeLessThan(dfs.executions);
  });

  it('reports a lock-order inversion as a deadlock with its schedule', () => {
    const make = toyProgram(
      [
        [{ kind: 'locked', l: 0, ops: [{ kind: 'locked', l: 1, ops: [{ kind: 'store', x: 0, v: 1 }] }] }],
        [{ kind: 'locked', l: 1, ops: [{ kind: 'locked', l: 0, ops: [{ kind: 'store', x: 0, v: 2 }] }] }],
      ],
      1,
      2,
    );
    for (const strategy of ['dfs', 'dpor', 'bounded'] as const) {
      const r = exploreProgram(make, { cache: false, strategy });
      expect(r.verdict, strategy).toBe('violated');
      expect(r.violation?.kind).toBe('deadlock');
      expect(r.violation?.schedule).toEqual([0, 1]);
      expect(r.violation?.message).toBe('no thread can run: t0 at "lock l1", t1 at "lock l0"');
    }
  });

  it('reports a thread spinning on a flag nobody sets as exceeding the step bound', () => {
    const make = (): Program => {
      let flag = 0;
      function* spin(): ThreadBody {
        while ((yield* perform({ label: 'load flag', footprint: [read('flag')], run: () => flag })) === 0);
      }
      function* other(): ThreadBody {
        yield* perform({ label: 'store y', footprint: [write('y')], run: () => undefined });
      }
      return { threads: [{ name: 'spinner', body: spin }, { name: 'other', body: other }], invariants: [] };
    };
    const r = exploreProgram(make, { cache: false, strategy: 'dpor', maxSteps: 50 });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.kind).toBe('step-bound');
    expect(r.violation?.schedule.length).toBe(50);
  });

  it('reports a model that throws as a violation, not a crash', () => {
    const make = (): Program => ({
      threads: [{ name: 'bad', body: function* () { yield { label: 'boom', footprint: [], run: () => { throw new Error('kaboom'); } }; } }],
      invariants: [],
    });
    const r = exploreProgram(make, { cache: false });
    expect(r.verdict).toBe('violated');
    expect(r.violation).toMatchObject({ kind: 'error', invariant: 'model-error', message: 'bad threw: kaboom', schedule: [0] });
  });

  it('iterative bounding returns the violation with the fewest preemptions', () => {
    const r = exploreProgram(counter(false), { cache: false, strategy: 'bounded' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.preemptions).toBe(1);
    expect(r.violation?.schedule).toEqual([0, 1, 1, 0]);
  });

  it('replays a violation schedule to the same violation', () => {
    const r = exploreProgram(counter(false), { cache: false, strategy: 'dfs' });
    const again = replaySchedule(counter(false), r.violation!.schedule);
    expect(again.failure?.invariant).toBe('no-lost-update');
    expect(again.trace.map((t) => t.label)).toEqual(r.violation!.trace.map((t) => t.label));
  });

  it('random and pct give the same result for the same seed, run after run', () => {
    for (const strategy of ['random', 'pct'] as const) {
      const a = exploreProgram(counter(false), { cache: false, strategy, seed: '42', samples: 50 });
      const b = exploreProgram(counter(false), { cache: false, strategy, seed: '42', samples: 50 });
      expect(a.verdict).toBe('violated');
      expect(b.violation?.schedule).toEqual(a.violation?.schedule);
      expect(b.executions).toBe(a.executions);
    }
  });
});

describe('steps disabled for the rest of an execution', () => {
  /** thread0 writes x; an actor may act only while x is 0. If thread0 goes first, the actor
   * never runs — DPOR must still explore the actor going first. */
  const make = (): Program => {
    let x = 0;
    let y = 0;
    return {
      threads: [
        { name: 'writer', body: function* () { yield* perform({ label: 'x = 1', footprint: [write('x')], run: () => void (x = 1) }); } },
        {
          name: 'actor',
          actor: true,
          body: function* () {
            yield* perform({ label: 'y = 1 while x == 0', footprint: [read('x'), write('y')], enabled: () => x === 0, run: () => void (y = 1) });
          },
        },
      ],
      invariants: [],
      finalState: () => `x=${x} y=${y}`,
    };
  };

  it('DPOR reaches the states where the disabled step ran first, as DFS does', () => {
    const dfs = exploreProgram(make, { cache: false, strategy: 'dfs', collectFinalStates: true });
    const dpor = exploreProgram(make, { cache: false, strategy: 'dpor', collectFinalStates: true });
    expect(dfs.finalStates).toEqual(['x=1 y=0', 'x=1 y=1']);
    expect(dpor.finalStates).toEqual(dfs.finalStates);
  });
});

describe('a write ordered after a read only through a lock release/acquire', () => {
  // t0: x := 1; lock L; a := s; unlock L; lock P; unlock P
  // t1: if (x == 1) { lock P; s := 1; lock L; s := 0; unlock L; unlock P }
  // a = 1 needs t1's `lock P` before t0's: the race is between the two acquires, not between
  // t0's release and t1's acquire (which t0's release enabled).
  const make = (): Program => {
    let x = 0;
    let s = 0;
    let a = -1;
    const held: Record<string, boolean> = { L: false, P: false };
    const lock = (l: string) => perform({ label: `lock ${l}`, footprint: [write(l)], enabled: () => !held[l], run: () => void (held[l] = true) });
    const unlock = (l: string) => perform({ label: `unlock ${l}`, footprint: [write(l)], run: () => void (held[l] = false) });
    const set = (name: 'x' | 's', v: number) => perform({ label: `${name} := ${v}`, footprint: [write(name)], run: () => void (name === 'x' ? (x = v) : (s = v)) });
    return {
      threads: [
        {
          name: 't0',
          body: function* () {
            yield* set('x', 1);
            yield* lock('L');
            a = yield* perform({ label: 'a := s', footprint: [read('s'), write('a')], run: () => s });
            yield* unlock('L');
            yield* lock('P');
            yield* unlock('P');
          },
        },
        {
          name: 't1',
          body: function* () {
            if ((yield* perform({ label: 'read x', footprint: [read('x')], run: () => x })) !== 1) return;
            yield* lock('P');
            yield* set('s', 1);
            yield* lock('L');
            yield* set('s', 0);
            yield* unlock('L');
            yield* unlock('P');
          },
        },
      ],
      invariants: [],
      finalState: () => `a=${a}`,
    };
  };

  it('DPOR reaches a = 1 as DFS does', () => {
    const dfs = exploreProgram(make, { cache: false, strategy: 'dfs', collectFinalStates: true });
    const dpor = exploreProgram(make, { cache: false, strategy: 'dpor', collectFinalStates: true });
    expect(dfs.finalStates).toEqual(['a=0', 'a=1']);
    expect(dpor.finalStates).toEqual(dfs.finalStates);
    expect(dpor.executions).toBe(5);
  });
});

describe('progress inside a long execution', () => {
  it('reports a heartbeat while one execution runs 10,000 steps, not only when it ends', () => {
    const make = toyProgram([Array.from({ length: 10_000 }, () => ({ kind: 'load' as const, x: 0 }))], 1, 0);
    let clock = 0;
    const beats: number[] = [];
    const r = exploreProgram(make, { cache: false, strategy: 'dfs', maxSteps: 20_000, now: () => (clock += 1000), onProgress: (p) => beats.push(p.steps) });
    expect(r.executions).toBe(1);
    // Every 4096 steps (the fake clock passes a second at each reading): before the execution ended.
    expect(beats.filter((s) => s < 10_000)).toEqual([4096, 8192]);
  });

  it('reads the clock about once an execution, not at every step of an execution started from a saved state', () => {
    // Three threads on two shared variables: many executions, each rewound to its branch point.
    const thread = (t: number) => [
      { kind: 'store' as const, x: 0, v: t + 1 },
      { kind: 'load' as const, x: 1 },
      { kind: 'store' as const, x: 1, v: t + 1 },
      { kind: 'load' as const, x: 0 },
    ];
    const make = toyProgram([thread(0), thread(1), thread(2)], 2, 0);
    let readings = 0;
    const r = exploreProgram(make, { cache: false, strategy: 'dfs', now: () => ++readings, onProgress: () => {} });
    const executions = r.executions + r.blocked + r.sleepBlocked;
    expect(r.restoredSteps).toBeGreaterThan(0);
    // The loop reads it twice an execution (time limit aside), the heartbeat once every 4096 steps.
    expect(readings).toBeLessThanOrEqual(2 * executions + Math.ceil(r.steps / 4096) + 4);
    expect(r.steps).toBeGreaterThan(3 * executions);
  });
});
