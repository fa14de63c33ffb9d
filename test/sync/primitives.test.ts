// The user-model primitives: what each one does, the footprint it declares, and the audit's
// answers to the mistakes they exist to prevent.
import { describe, expect, it } from 'vitest';
import { FootprintError } from '../../src/engine/audit.js';
import { ModelError } from '../../src/engine/errors.js';
import lostUpdate from '../../examples/lost-update.js';
import { Execution } from '../../src/engine/execution.js';
import {
  ASSERTION,
  type Program,
  SharedState,
  type Step,
  assert,
  type ThreadBody,
  assume,
  checkWatches,
  explore,
  exploreProgram,
  perform,
  read,
  unmatchedWatches,
  waitUntil,
  write,
} from '../../src/index.js';

const single = (body: (s: SharedState) => () => ThreadBody) => (): Program => {
  const s = new SharedState();
  return { threads: [{ name: 't', body: body(s) }], invariants: [], finalState: () => s.finalState() };
};

/** Runs a one-thread program to its end and returns the execution. */
function runAlone(make: () => Program): Execution {
  const e = new Execution(make, 100);
  while (e.enabled().length > 0) e.step(0);
  e.finish();
  return e;
}

describe('shared variables', () => {
  it('load, store, exchange, fetchAdd and cas return and leave what their names say', () => {
    const seen: unknown[] = [];
    const e = runAlone(() => {
      const s = new SharedState();
      const x = s.variable('x', 5);
      return {
        threads: [{ name: 't', body: function* () {
          seen.push(yield* x.load()); // 5
          yield* x.store(7);
          seen.push(yield* x.exchange(9)); // 7
          seen.push(yield* x.fetchAdd(3)); // 9 → 12
          seen.push(yield* x.cas(0, 1)); // false: x is 12
          seen.push(yield* x.cas(12, 20)); // true
          seen.push(yield* x.load()); // 20
        } }],
        invariants: [],
        finalState: () => s.finalState(),
      };
    });
    expect(e.failure).toBeNull();
    expect(seen).toEqual([5, 7, 9, false, true, 20]);
    expect(e.finalState()).toBe('x=20');
    expect(e.events.map((ev) => ev.label)).toEqual(['load x', 'store x := 7', 'exchange x := 9', 'fetch_add x += 3', 'cas x: 0 → 1', 'cas x: 12 → 20', 'load x']);
  });

  it('a failing cas only reads: its footprint is made in the state it runs in', () => {
    const e = new Execution(single((s) => {
      const x = s.variable('x', 1);
      return function* () {
        yield* x.cas(0, 5);
        yield* x.cas(1, 5);
      };
    }), 100);
    expect(e.pendingFootprint(0)).toEqual([read('var:x')]);
    e.step(0);
    expect(e.pendingFootprint(0)).toEqual([write('var:x')]);
  });

  it('mints one location per name: a second variable or mutex with a taken name is an error', () => {
    const s = new SharedState();
    const x = s.variable('x', 0);
    expect(x.loc).toBe('var:x');
    expect(() => s.variable('x', 1)).toThrow(/var:x is already taken/);
    s.mutex('m');
    expect(() => s.mutex('m')).toThrow(/lock:m is already taken/);
  });
});

describe('mutex', () => {
  const make = (locked: boolean) => (): Program => {
    const s = new SharedState();
    const n = s.variable('n', 0);
    const m = s.mutex('m');
    function* inc(): ThreadBody {
      if (locked) yield* m.lock();
      const v = yield* n.load();
      yield* n.store(v + 1);
      if (locked) yield* m.unlock();
    }
    return {
      threads: [{ name: 'a', body: inc }, { name: 'b', body: inc }],
      invariants: [{ name: 'two', atEnd: true, check: () => (n.value === 2 ? null : `n = ${n.value}`) }],
      finalState: () => s.finalState(),
    };
  };

  it('lock is disabled while another thread holds it', () => {
    const e = new Execution(make(true), 100);
    e.step(0); // a takes m
    expect(e.isEnabled(1)).toBe(false);
    e.step(0);
    e.step(0);
    e.step(0); // a unlocks
    expect(e.isEnabled(1)).toBe(true);
  });

  it('keeps the increments apart (both strategies), and without it one is lost', () => {
    for (const strategy of ['dpor', 'dfs'] as const) {
      expect(exploreProgram(make(true), { strategy }).verdict).toBe('holds');
      const r = exploreProgram(make(false), { strategy });
      expect(r.violation?.invariant).toBe('two');
    }
  });
});

describe('SharedState.state', () => {
  it('lets the engine restore branch points: same results as re-running prefixes, fewer steps run', () => {
    const make = (withState: boolean) => (): Program => {
      const s = new SharedState();
      const n = s.variable('n', 0);
      const m = s.mutex('m');
      const flag = s.variable('flag', false);
      function* inc(): ThreadBody {
        yield* m.lock('t');
        const v = yield* n.load();
        yield* n.store(v + 1);
        yield* m.unlock();
        yield* flag.cas(false, true);
      }
      return {
        threads: [{ name: 'a', body: inc }, { name: 'b', body: inc }, { name: 'c', body: inc }],
        invariants: [{ name: 'three', atEnd: true, check: () => (n.value === 3 ? null : `n = ${n.value}`) }],
        finalState: () => s.finalState(),
        ...(withState ? { state: s.state } : {}),
      };
    };
    for (const strategy of ['dpor', 'dfs'] as const) {
      const plain = exploreProgram(make(false), { strategy, collectFinalStates: true });
      const restored = exploreProgram(make(true), { strategy, collectFinalStates: true });
      expect([restored.verdict, restored.executions, restored.finalStates]).toEqual([plain.verdict, plain.executions, plain.finalStates]);
      expect(restored.restoredSteps).toBeGreaterThan(0);
    }
  });
});

describe('assume, assert, waitUntil', () => {
  // Two writers race to set x; the reader assumes it saw 2, then asserts it sees 2 again.
  const race = (assertion: (v: number) => boolean) => (): Program => {
    const s = new SharedState();
    const x = s.variable('x', 0);
    return {
      threads: [
        { name: 'w1', body: function* () { yield* x.store(1); } },
        { name: 'w2', body: function* () { yield* x.store(2); } },
        { name: 'r', body: function* () {
          const v = yield* x.load();
          yield* assume(v === 2, 'r saw 2');
          const again = yield* x.load();
          yield* assert(assertion(again), `x is still 2 (is ${again})`);
        } },
      ],
      invariants: [],
      finalState: () => s.finalState(),
    };
  };

  it('assume blocks the executions where it is false: neither complete nor violated', () => {
    // An at-end invariant that fails whenever the reader did not see 2: it may only be checked
    // on executions whose assumption held, so the search must still hold.
    const guarded = (): Program => {
      const p = race(() => true)();
      let seen = -1;
      const threads = p.threads.map((t) => (t.name !== 'r' ? t : { ...t, body: function* () {
        const body = t.body();
        let r = body.next();
        while (!r.done) {
          const got: unknown = yield r.value;
          if (r.value.label === 'load x' && seen === -1) seen = got as number;
          r = body.next(got);
        }
      } }));
      return { ...p, threads, invariants: [{ name: 'saw-2', atEnd: true, check: () => (seen === 2 ? null : `r saw ${seen}`) }] };
    };
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = exploreProgram(guarded, { strategy });
      expect(r.verdict).toBe('holds');
      expect(r.blocked).toBeGreaterThan(0);
      expect(r.executions).toBeGreaterThan(0);
    }
  });

  it('a false assert fails the execution with the assertion invariant (dpor and dfs)', () => {
    for (const strategy of ['dpor', 'dfs'] as const) {
      const r = exploreProgram(race((v) => v === 2), { strategy });
      expect(r.violation?.invariant).toBe(ASSERTION);
      expect(r.violation?.message).toBe('assertion failed: x is still 2 (is 1)');
    }
  });

  it('a passing assert touches nothing', () => {
    const e = new Execution(single((s) => function* () { yield* assert(true, 'fine'); }), 10);
    expect(e.pendingFootprint(0)).toEqual([]);
  });

  it('waitUntil is enabled only once its condition holds; a condition that never holds is a deadlock', () => {
    const make = (setFlag: boolean) => (): Program => {
      const s = new SharedState();
      const flag = s.variable('flag', false);
      const data = s.variable('data', 0);
      return {
        threads: [
          { name: 'producer', body: function* () { yield* data.store(42); if (setFlag) yield* flag.store(true); } },
          { name: 'consumer', body: function* () {
            yield* waitUntil('flag', [flag], () => flag.value);
            yield* assert((yield* data.load()) === 42, 'data is published before the flag');
          } },
        ],
        invariants: [],
      };
    };
    const e = new Execution(make(true), 100);
    expect(e.isEnabled(1)).toBe(false);
    e.step(0);
    e.step(0);
    expect(e.isEnabled(1)).toBe(true);
    expect(exploreProgram(make(true), { strategy: 'dfs' }).verdict).toBe('holds');
    const stuck = exploreProgram(make(false), { strategy: 'dpor' });
    expect(stuck.violation?.kind).toBe('deadlock');
    expect(stuck.violation?.message).toMatch(/consumer at "wait until flag"/);
  });

  it('a waitUntil condition that reads a variable it did not list is a FootprintError', () => {
    const make = single((s) => {
      const a = s.variable('a', 1);
      const b = s.variable('b', 1);
      return function* () { yield* waitUntil('a and b', [a], () => a.value === 1 && b.value === 1); };
    });
    expect(() => exploreProgram(make)).toThrow(/the enabled condition of "t: wait until a and b" reads var:b/);
  });
});

describe('the audit catches what DPOR would get wrong', () => {
  // The reader's own step reads x but declares nothing: DPOR thinks it commutes with the store.
  const undeclared = (): Program => {
    const s = new SharedState();
    const x = s.variable('x', 0);
    let seen = -1;
    return {
      threads: [
        { name: 'writer', body: function* () { yield* x.store(1); } },
        { name: 'reader', body: function* () { yield* perform({ label: 'peek x', footprint: [], run: () => void (seen = x.value) }); } },
      ],
      invariants: [{ name: 'reader-saw-1', atEnd: true, check: () => (seen === 1 ? null : `reader saw ${seen}`) }],
    };
  };

  it('(a) a reader step that omits a read is a FootprintError naming the step and the location', () => {
    expect(() => exploreProgram(undeclared, { strategy: 'dpor' })).toThrow(FootprintError);
    expect(() => exploreProgram(undeclared, { strategy: 'dpor' })).toThrow('step "reader: peek x" reads var:x, which is not in its footprint');
    // Without the audit DPOR answers wrongly (1 execution, "holds"); DFS finds the violation.
    const blind = exploreProgram(undeclared, { strategy: 'dpor', audit: false });
    expect([blind.verdict, blind.executions]).toEqual(['holds', 1]);
    expect(exploreProgram(undeclared, { strategy: 'dfs', audit: false }).verdict).toBe('violated');
  });

  const misspelt = (watch: string) => (): Program => {
    const s = new SharedState();
    const x = s.variable('x', 0);
    return {
      threads: [
        { name: 'a', body: function* () { yield* x.store(1); yield* x.store(0); } },
        { name: 'b', body: function* () { yield* x.load(); } },
      ],
      invariants: [{ name: 'x-stays-0', watch: [watch], check: () => (x.value === 0 ? null : 'x became 1') }],
    };
  };

  it('(b) an invariant reading var:x with watch ["var:X"] is a FootprintError', () => {
    expect(() => exploreProgram(misspelt('var:X'))).toThrow('invariant x-stays-0 reads var:x, which its watch list ("var:X") does not cover');
    expect(exploreProgram(misspelt('var:x')).violation?.invariant).toBe('x-stays-0');
  });

  it('a watch prefix that matches no location any step touched is an error (checkWatches)', () => {
    const make = (): Program => ({ ...misspelt('var:x')(), invariants: [{ name: 'never-read', watch: ['var:X'], check: () => null }] });
    expect(() => checkWatches(make)).toThrow('invariant never-read watches "var:X", which matches no location any step touched');
    expect([...checkWatches(misspelt('var:x'), { strategy: 'dpor' })]).toEqual(['var:x']);
    expect(unmatchedWatches([{ name: 'i', watch: ['var:x', 'tlb:'], check: () => null }], ['var:x'])).toEqual([{ invariant: 'i', prefix: 'tlb:' }]);
  });

  it('(c) the lost-update example on these primitives: plain is violated under dpor and dfs, the fixes hold', () => {
    for (const strategy of ['dpor', 'dfs'] as const) {
      for (const v of lostUpdate.variants) {
        const r = explore(lostUpdate, { variant: v.name, strategy });
        expect(r.asExpected, `${v.name} ${strategy}`).toBe(true);
        if (v.name === 'plain') expect(r.violation?.message).toBe('stats.tx is 1 after 2 increments');
      }
    }
  });

  it('(d) `yield` where `yield*` was meant is a ModelError that says so', () => {
    const make = single((s) => {
      const x = s.variable('x', 0);
      return function* () {
        yield x.load() as unknown as Step; // the generator, not its step
      };
    });
    expect(() => exploreProgram(make)).toThrow(ModelError);
    expect(() => exploreProgram(make)).toThrow(/yielded a generator, not a Step — did you write `yield` where `yield\*` was meant/);
  });
});
