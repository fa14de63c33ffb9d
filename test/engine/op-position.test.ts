// Step.opPosition: an operation made by scopedOp may say, at one of its steps, that what it does
// from there depends on a key alone. `at(key, op)` then makes the pair the thread's position, so
// the state cache merges states that differ only in how the operation got there. It must merge
// those and nothing else: never for an operation nested inside the body (whose caller may keep
// what it returns), never a pair with a plain key.
import { describe, expect, it } from 'vitest';
import { Execution } from '../../src/engine/execution.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { type Program, type Step, type ThreadBody, at, perform, scopedOp } from '../../src/engine/types.js';
import { Shared } from '../../src/testing/toy.js';

/** t1 sets x0 to 1 and back to 0; t0 runs `body(s)` under at(). */
function program(body: (s: Shared) => Generator<Step, unknown, unknown>, wrap = true): () => Program {
  return () => {
    const s = new Shared(3);
    return {
      threads: [
        {
          name: 't0',
          body: function* (): ThreadBody {
            yield* wrap ? at('t0', body(s)) : body(s);
          },
        },
        {
          name: 't1',
          body: function* (): ThreadBody {
            yield* perform(s.store(0, 1));
            yield* perform(s.store(0, 0));
            yield* perform(s.store(2, 1));
          },
        },
      ],
      invariants: [],
      state: { save: () => s.save(), restore: (x) => s.restore(x as ReturnType<Shared['save']>) },
      finalState: () => s.save().values.join(','),
    };
  };
}

/** An operation that loads x0 (0 or 1, by the interleaving) and then stores 1 into x1 — a last
 * step that does not depend on what it loaded, and says so when `say` is set. */
const loadThenStore = (s: Shared, say: boolean) =>
  scopedOp(function* (scope) {
    yield* perform(s.load(0));
    const tail = s.store(1, 1);
    yield* perform(say ? { ...tail, opPosition: { scope, key: 'store x1' } } : tail);
    return 7;
  });

const run = (make: () => Program, cache: boolean) => exploreProgram(make, { strategy: 'dfs', cache, collectFinalStates: true });

describe('an operation that says where it is (Step.opPosition)', () => {
  it('merges the states its histories reach at that step, under at()', () => {
    const said = run(program((s) => loadThenStore(s, true)), true);
    const unsaid = run(program((s) => loadThenStore(s, false)), true);
    const stateless = run(program((s) => loadThenStore(s, false)), false);
    expect(said.verdict).toBe('holds');
    expect(said.finalStates).toEqual(stateless.finalStates);
    expect(unsaid.finalStates).toEqual(stateless.finalStates);
    // t0 pending at its store, t1 done: reached having loaded 0 or 1, one state now.
    expect(said.cache!.states).toBeLessThan(unsaid.cache!.states);
  });

  it('marks the step with the pair only when the operation is at()`s very body', () => {
    const s = new Shared(3);
    const direct = at('k', loadThenStore(s, true));
    expect((direct.next().value as Step).position).toBe('k');
    const tail = direct.next(0).value as Step;
    expect(tail.position).toBe('k');
    expect(tail.positionInOp).toBe('store x1');
    // The same operation called inside another body: its caller keeps what it returns.
    const nested = at(
      'k',
      (function* () {
        const r = yield* loadThenStore(s, true);
        yield* perform(s.store(2, r));
      })(),
    );
    nested.next();
    const inner = nested.next(0).value as Step;
    expect(inner.position).toBeUndefined();
    expect(inner.positionInOp).toBeUndefined();
  });

  it('means nothing for an operation nested inside the body, whose caller keeps what it loaded', () => {
    // The caller stores what the operation loaded: merging at the operation's last step would
    // lose the final state with x2 = 1 stored by t0.
    const nestedBody = (say: boolean) => (s: Shared) =>
      (function* () {
        const r = (yield* scopedOp(function* (scope) {
          const v = yield* perform(s.load(0));
          yield* perform({ ...s.store(1, 1), ...(say ? { opPosition: { scope, key: 'store x1' } } : {}) });
          return v;
        })) as number;
        yield* perform(s.store(2, r + 5));
      })();
    const stateless = run(program(nestedBody(false)), false);
    const said = run(program(nestedBody(true)), true);
    expect(stateless.finalStates!.length).toBeGreaterThan(1);
    expect(said.finalStates).toEqual(stateless.finalStates);
  });

  it('means nothing without at()', () => {
    const stateless = run(program((s) => loadThenStore(s, true), false), false);
    const cached = run(program((s) => loadThenStore(s, true), false), true);
    const unsaid = run(program((s) => loadThenStore(s, false), false), true);
    expect(cached.finalStates).toEqual(stateless.finalStates);
    expect(cached.cache!.states).toBe(unsaid.cache!.states);
  });

  it('is never a plain key: at("k › store x1") is another position', () => {
    // A pair read as the plain key it looks like would merge a thread inside an operation with
    // one at a position of its own code.
    const make = (plain: boolean) => (): Program => {
      const s = new Shared(3);
      const body = plain
        ? function* (): ThreadBody {
            yield* perform(s.load(0));
            yield* at('k › store x1', perform(s.store(1, 1)));
          }
        : function* (): ThreadBody {
            yield* at('k', loadThenStore(s, true));
          };
      return { threads: [{ name: 't0', body }], invariants: [], state: { save: () => s.save(), restore: (x) => s.restore(x as ReturnType<Shared['save']>) } };
    };
    const chainAfterLoad = (plain: boolean) => {
      const x = new Execution(make(plain), { maxSteps: 10, positions: true });
      x.step(0);
      expect(x.pending(0)!.position).toBe(plain ? 'k › store x1' : 'k');
      return x.chains![0];
    };
    expect(chainAfterLoad(false)).not.toEqual(chainAfterLoad(true));
  });
});
