// Issue 9: each way a model could talk the engine into a wrong "holds" is now either a clear
// model error or the violation it used to hide.
import { describe, expect, it } from 'vitest';
import { FootprintError } from '../../src/engine/audit.js';
import { ModelError, NondeterminismError } from '../../src/engine/errors.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { replaySchedule } from '../../src/engine/replay.js';
import { type Program, type Step, type ThreadBody, perform, read, write } from '../../src/engine/types.js';
import { noteRead, noteWrite } from '../../src/engine/audit.js';
import { type Op, Shared, toyProgram } from '../../src/testing/toy.js';

const exhaustive = ['dfs', 'dpor'] as const;

describe('one cursor: a model that is not deterministic is a model error', () => {
  /** Each build flips a counter kept outside the program: the second run of a prefix differs. */
  function leakyModel(leak: 'label' | 'lock'): () => Program {
    let builds = 0;
    return () => {
      builds++;
      const s = new Shared(1, 1);
      const odd = builds % 2 === 1;
      function* t0(): ThreadBody {
        if (leak === 'label') yield* perform(odd ? s.store(0, 1) : s.store(0, 2));
        else yield* perform(s.store(0, 1));
        yield* perform(s.load(0));
      }
      function* t1(): ThreadBody {
        yield* perform(s.load(0));
      }
      function* holder(): ThreadBody {
        // On every other build a third thread is already holding the lock t0 needs next.
        if (!odd) yield* perform(s.lock(0, 2));
      }
      const threads = [{ name: 't0', body: t0 }, { name: 't1', body: t1 }];
      if (leak === 'lock') {
        return {
          threads: [
            { name: 't0', body: function* () { yield* perform(s.lock(0, 0)); yield* perform(s.unlock(0)); } },
            { name: 't1', body: function* () { yield* perform(s.lock(0, 1)); yield* perform(s.unlock(0)); } },
            { name: 'h', body: holder, actor: true },
          ],
          invariants: [],
        };
      }
      return { threads, invariants: [] };
    };
  }

  for (const strategy of exhaustive) {
    it(`${strategy}: a step that changes between runs of the same schedule is reported with both versions`, () => {
      expect(() => exploreProgram(leakyModel('label'), { strategy })).toThrowError(NondeterminismError);
      expect(() => exploreProgram(leakyModel('label'), { strategy })).toThrowError(/not deterministic: on the same schedule, at the start (step 1 was `t0: store x0=\d`, now it is `t0: store x0=\d`|thread 0's first step was `t0: store x0=\d` \[w x0\], now it is `t0: store x0=\d`)/);
    });
    it(`${strategy}: a prefix whose threads are no longer enabled is reported, not run`, () => {
      expect(() => exploreProgram(leakyModel('lock'), { strategy })).toThrowError(/not deterministic.*(threads able to run were|thread 2's first step was)/);
    });
  }

  it('a nondeterministic model is a ModelError (CLI exit 2), not an internal error', () => {
    expect(() => exploreProgram(leakyModel('label'), { strategy: 'dfs' })).toThrowError(ModelError);
  });
});

describe('checked footprints', () => {
  /** A reader whose step forgets to declare the read of x: DPOR used to say "holds". */
  function undeclaredRead(declare: boolean): () => Program {
    return () => {
      const s = new Shared(1);
      const check: Step<number> = { label: 'read x0', footprint: declare ? [read('x0')] : [], run: () => s.get(0) };
      let seen = -1;
      return {
        threads: [
          { name: 'writer', body: function* () { yield* perform(s.store(0, 1)); } },
          { name: 'reader', body: function* () { seen = yield* perform(check); } },
        ],
        invariants: [{ name: 'reader-sees-write', atEnd: true, check: () => (seen === 1 ? null : `reader saw ${seen}`) }],
      };
    };
  }

  it('a step that reads a location its footprint omits is a FootprintError naming the step and the location', () => {
    expect(() => exploreProgram(undeclaredRead(false), { strategy: 'dpor' })).toThrowError(FootprintError);
    expect(() => exploreProgram(undeclaredRead(false), { strategy: 'dpor' })).toThrowError('step "reader: read x0" reads x0, which is not in its footprint');
  });

  it('declared, the same reader is found violated by DPOR and DFS', () => {
    for (const strategy of exhaustive) expect(exploreProgram(undeclaredRead(true), { strategy }).violation?.invariant).toBe('reader-sees-write');
  });

  it('with the audit off, the undeclared read makes DPOR answer wrongly (what the audit protects)', () => {
    expect(exploreProgram(undeclaredRead(false), { strategy: 'dpor', audit: false }).verdict).toBe('holds');
    expect(exploreProgram(undeclaredRead(false), { strategy: 'dfs', audit: false }).verdict).toBe('violated');
  });

  it('a per-step invariant reading outside its misspelt watch is a FootprintError', () => {
    const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }, { kind: 'store', x: 0, v: 0 }], [{ kind: 'load', x: 0 }]], 1, 0, (s) => [
      { name: 'x-stays-0', watch: ['X'], check: () => (s.get(0) === 1 ? 'x0 = 1' : null) },
    ]);
    expect(() => exploreProgram(make, { strategy: 'dpor' })).toThrowError('invariant x-stays-0 reads x0, which its watch list ("X") does not cover; add it to watch');
  });

  it('an invariant that reads outside its watch only in a late state, after many states of the same reads, is a FootprintError', () => {
    // The audit skips reads an earlier check already found within the watch list, in the same
    // order (execution.ts, readOutsideWatch): a new read after them must still be looked at.
    const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }, { kind: 'store', x: 0, v: 2 }, { kind: 'store', x: 0, v: 3 }], [{ kind: 'load', x: 0 }, { kind: 'load', x: 0 }]], 2, 0, (s) => [
      { name: 'x0-below-4', watch: ['x0'], check: () => (s.get(0) === 3 && s.get(1) === 0 ? null : null) },
    ]);
    expect(() => exploreProgram(make, { strategy: 'dfs' })).toThrowError('invariant x0-below-4 reads x1, which its watch list ("x0") does not cover; add it to watch');
  });

  it('a watch prefix that names no location is reported with the result', () => {
    // The invariant reads nothing while the state is fine, so the audit cannot see that its
    // watch is misspelt: the search reports it.
    const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }], [{ kind: 'load', x: 0 }]], 1, 0, (s) => [
      { name: 'flag-stays-clear', watch: ['var:flag'], check: () => null },
      { name: 'x-known', watch: ['x'], check: () => (s.get(0) > 5 ? 'x0 > 5' : null) },
    ]);
    for (const strategy of exhaustive) {
      expect(exploreProgram(make, { strategy }).warnings).toEqual([
        'invariant flag-stays-clear watches "var:flag", which matches no location any step touched or the invariant read (misspelt, stale, or unused in this configuration?)',
      ]);
    }
  });

  it("a watch prefix that only the invariant's own reads match is not reported", () => {
    // No step touches x1; the invariant reads it in every state, which counts as a match.
    const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }], [{ kind: 'load', x: 0 }]], 2, 0, (s) => [
      { name: 'x1-stays-0', watch: ['x1'], check: () => (s.get(1) !== 0 ? 'x1 changed' : null) },
    ]);
    for (const strategy of exhaustive) expect(exploreProgram(make, { strategy }).warnings).toBeUndefined();
  });

  it("a watch prefix that only a step's footprint matches is not reported", () => {
    // The invariant never reads x1; a step writes it (the steps' footprints are matched at the
    // end of each execution, not as the steps run).
    const make = toyProgram([[{ kind: 'store', x: 1, v: 1 }], [{ kind: 'load', x: 0 }]], 2, 0, (s) => [
      { name: 'x0-stays-0', watch: ['x0', 'x1'], check: () => (s.get(0) !== 0 ? 'x0 changed' : null) },
    ]);
    for (const strategy of exhaustive) expect(exploreProgram(make, { strategy }).warnings).toBeUndefined();
  });

  it('a write the footprint declares only as a read is reported', () => {
    const make = (): Program => ({
      threads: [{ name: 't', body: function* () { yield* perform({ label: 'sneaky', footprint: [read('x')], run: () => noteWrite('x') }); } }],
      invariants: [],
    });
    expect(() => exploreProgram(make)).toThrowError('step "t: sneaky" writes x, which its footprint declares only as read');
  });

  it('an enabled condition reading an undeclared location is reported', () => {
    const make = (): Program => ({
      threads: [{ name: 't', body: function* () { yield* perform({ label: 'wait', footprint: [read('a')], enabled: () => (noteRead('b'), true), run: () => undefined }); } }],
      invariants: [],
    });
    expect(() => exploreProgram(make)).toThrowError('the enabled condition of "t: wait" reads b, which is not in its footprint');
  });

  it('thread code touching shared state between steps is reported', () => {
    const make = (): Program => {
      const s = new Shared(1);
      return { threads: [{ name: 't', body: function* () { yield* perform(s.store(0, 1)); if (s.get(0) === 1) yield* perform(s.load(0)); } }], invariants: [] };
    };
    expect(() => exploreProgram(make)).toThrowError('thread t reads x0 between steps (after "store x0=1")');
  });
});

describe('a thread that yields something that is not a Step', () => {
  it('`yield` where `yield*` was meant names the fix', () => {
    const s = new Shared(1);
    const make = (): Program => ({
      threads: [{ name: 'cpu0', body: function* () { yield perform(s.load(0)) as unknown as Step; } }],
      invariants: [],
    });
    expect(() => exploreProgram(make)).toThrowError(ModelError);
    expect(() => exploreProgram(make)).toThrowError('thread cpu0 yielded a generator, not a Step — did you write `yield` where `yield*` was meant');
  });
  it('yielding a number is reported too', () => {
    const make = (): Program => ({ threads: [{ name: 't', body: function* () { yield 42 as unknown as Step; } }], invariants: [] });
    expect(() => exploreProgram(make)).toThrowError('thread t yielded a number, not a Step');
  });
});

describe('snapshots are copied', () => {
  it('a model that returns its live state shows each step as it was', () => {
    const make = (): Program => {
      const drops: number[] = [];
      return {
        threads: [{ name: 't', body: function* () { for (let i = 1; i <= 2; i++) yield* perform({ label: `drop ${i}`, footprint: [write('d')], run: () => void drops.push(i) }); } }],
        invariants: [],
        snapshot: () => ({ drops }),
      };
    };
    const r = replaySchedule(make, [0, 0], { audit: false });
    expect(r.snapshots).toEqual([{ drops: [] }, { drops: [1] }, { drops: [1, 2] }]);
  });
});

describe('blocked steps still pending at the end (DPOR used to miss these)', () => {
  it('a thread storing x and an actor that waits for x == 0 after its own step: the assertion is reached', () => {
    // t0: x0 := 1.  actor: x1 := 1; await x0 == 0; assert x1 != 1.
    const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }], [{ kind: 'store', x: 1, v: 1 }, { kind: 'await', x: 0, v: 0 }, { kind: 'assertNot', x: 1, v: 1 }]], 2, 0, () => [], 1);
    for (const strategy of exhaustive) expect(exploreProgram(make, { strategy }).violation?.invariant).toBe('assert');
  });

  it('two actors taking mutexes in opposite orders: the assertion behind the inversion is reached', () => {
    // A: lock l0, lock l1, assert x0 != 1.  B: lock l1, lock l0, x0 := 1.
    const a: Op[] = [{ kind: 'locked', l: 0, ops: [{ kind: 'locked', l: 1, ops: [{ kind: 'assertNot', x: 0, v: 1 }] }] }];
    const b: Op[] = [{ kind: 'locked', l: 1, ops: [{ kind: 'locked', l: 0, ops: [{ kind: 'store', x: 0, v: 1 }] }] }];
    const make = toyProgram([a, b], 1, 2, () => [], 2);
    for (const strategy of exhaustive) expect(exploreProgram(make, { strategy }).violation?.invariant).toBe('assert');
  });

  it('ordinary threads in the same inversion: DPOR explores both complete executions and the deadlock', () => {
    const a: Op[] = [{ kind: 'locked', l: 0, ops: [{ kind: 'locked', l: 1, ops: [{ kind: 'load', x: 0 }] }] }];
    const b: Op[] = [{ kind: 'locked', l: 1, ops: [{ kind: 'locked', l: 0, ops: [{ kind: 'store', x: 0, v: 1 }] }] }];
    const make = toyProgram([a, b], 1, 2);
    const count = (strategy: 'dfs' | 'dpor') => {
      const kinds = new Set<string>();
      const r = exploreProgram(make, { strategy, collectFinalStates: true, accept: () => false, onExecution: (_e, exec) => kinds.add(exec.failure?.kind ?? 'complete') });
      return { states: r.finalStates, kinds: [...kinds].sort() };
    };
    expect(count('dpor')).toEqual(count('dfs'));
    expect(count('dpor').kinds).toEqual(['complete', 'deadlock']);
    expect(count('dpor').states).toHaveLength(2);
  });
});

describe('assume', () => {
  // t0: x0 := 1.   t1: assume x0 == 1; x1 := 1.
  const make = toyProgram([[{ kind: 'store', x: 0, v: 1 }], [{ kind: 'assume', x: 0, v: 1 }, { kind: 'store', x: 1, v: 1 }]], 2, 0);

  it('an execution whose assumption fails is blocked: neither complete nor a violation', () => {
    for (const strategy of exhaustive) {
      const r = exploreProgram(make, { strategy, collectFinalStates: true });
      expect(r).toMatchObject({ verdict: 'holds', executions: 1, blocked: 1 });
      expect(r.finalStates).toEqual(['[1,1]|[[],[]]']);
    }
  });

  it('a blocked execution is not a deadlock, and at-end invariants are not checked on it', () => {
    const strict = toyProgram([[{ kind: 'assume', x: 0, v: 1 }]], 1, 0, (s) => [{ name: 'never', atEnd: true, check: () => `x0 = ${s.get(0)}` }]);
    expect(exploreProgram(strict, { strategy: 'dfs' })).toMatchObject({ verdict: 'holds', executions: 0, blocked: 1 });
  });
});
