// The stateless search saves the state before each step so that the next execution can start
// at its branch point (driver.ts). After the 2^i-th execution the next one re-runs its prefix
// instead (the cursor's recheck), so that execution saves nothing: a search that ends in its
// first execution (a violation found at once) saved a state before every step for nothing.
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program } from '../../src/engine/types.js';
import { type Op, toyProgram } from '../../src/testing/toy.js';

/** `make`'s programs, with their `state.save` calls counted in `saves.n`. */
function counting(make: () => Program, saves: { n: number }): () => Program {
  return () => {
    const p = make();
    const st = p.state!;
    return { ...p, state: { ...st, save: () => (saves.n++, st.save()) } };
  };
}

const store = (x: number, v: number): Op => ({ kind: 'store', x, v });

describe('state saves in the stateless search', () => {
  it('a search that ends in its first execution saves no state', () => {
    const saves = { n: 0 };
    // The lowest thread goes first and breaks its own assertion: one execution, a violation.
    const prog = counting(toyProgram([[store(0, 5), { kind: 'assertNot', x: 0, v: 5 }], [store(1, 1), store(1, 2)]], 2, 0), saves);
    const r = exploreProgram(prog, { strategy: 'dpor', cache: false });
    expect(r.verdict).toBe('violated');
    expect(r.executions).toBe(1);
    expect(saves.n).toBe(0);
  });

  it('a longer search still saves and restores, but not in the executions before a re-run', () => {
    const threads: Op[][] = [[store(0, 1), store(1, 1)], [store(1, 2), store(0, 2)], [store(0, 3)]];
    const saves = { n: 0 };
    const r = exploreProgram(counting(toyProgram(threads, 2, 0), saves), { strategy: 'dpor', cache: false });
    const plain = exploreProgram(toyProgram(threads, 2, 0), { strategy: 'dpor', cache: false, restore: false });
    expect(r.verdict).toBe('holds');
    expect(r.executions).toBe(plain.executions);
    expect(r.steps + r.restoredSteps).toBe(plain.steps);
    expect(r.restoredSteps).toBeGreaterThan(0);
    // Executions 1, 2, 4, 8, … save nothing: fewer saves than steps run plus one per execution.
    expect(saves.n).toBeGreaterThan(0);
    expect(saves.n).toBeLessThan(r.steps + r.executions);
  });
});
