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
    const r = exploreProgram(counter(false), { strategy: 'dfs' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-lost-update');
    expect(r.violation?.message).toBe('x = 1, expected 2');
    // t0 loads, t1 loads, …: the first interleaving in DFS order that loses one.
    expect(r.violation?.schedule).toEqual([0, 1, 0, 1]);
  });

  it('DPOR finds the lost update too', () => {
    const r = exploreProgram(counter(false), { strategy: 'dpor' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.invariant).toBe('no-lost-update');
  });

  it('CAS-retry increment holds, and DPOR explores fewer executions than DFS', () => {
    const dfs = exploreProgram(counter(true), { strategy: 'dfs' });
    const dpor = exploreProgram(counter(true), { strategy: 'dpor' });
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
      const r = exploreProgram(make, { strategy });
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
    const r = exploreProgram(make, { strategy: 'dpor', maxSteps: 50 });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.kind).toBe('step-bound');
    expect(r.violation?.schedule.length).toBe(50);
  });

  it('reports a model that throws as a violation, not a crash', () => {
    const make = (): Program => ({
      threads: [{ name: 'bad', body: function* () { yield { label: 'boom', footprint: [], run: () => { throw new Error('kaboom'); } }; } }],
      invariants: [],
    });
    const r = exploreProgram(make, {});
    expect(r.verdict).toBe('violated');
    expect(r.violation).toMatchObject({ kind: 'error', invariant: 'model-error', message: 'bad threw: kaboom', schedule: [0] });
  });

  it('iterative bounding returns the violation with the fewest preemptions', () => {
    const r = exploreProgram(counter(false), { strategy: 'bounded' });
    expect(r.verdict).toBe('violated');
    expect(r.violation?.preemptions).toBe(1);
    expect(r.violation?.schedule).toEqual([0, 1, 1, 0]);
  });

  it('replays a violation schedule to the same violation', () => {
    const r = exploreProgram(counter(false), { strategy: 'dfs' });
    const again = replaySchedule(counter(false), r.violation!.schedule);
    expect(again.failure?.invariant).toBe('no-lost-update');
    expect(again.trace.map((t) => t.label)).toEqual(r.violation!.trace.map((t) => t.label));
  });

  it('random and pct give the same result for the same seed, run after run', () => {
    for (const strategy of ['random', 'pct'] as const) {
      const a = exploreProgram(counter(false), { strategy, seed: '42', samples: 50 });
      const b = exploreProgram(counter(false), { strategy, seed: '42', samples: 50 });
      expect(a.verdict).toBe('violated');
      expect(b.violation?.schedule).toEqual(a.violation?.schedule);
      expect(b.executions).toBe(a.executions);
    }
  });
});
