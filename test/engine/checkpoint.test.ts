import { describe, expect, it } from 'vitest';
import { exploreProgram, type ExploreOptions, type StrategyName } from '../../src/engine/explore.js';
import { type Op, toyProgram } from '../../src/testing/toy.js';

const threads: Op[][] = [0, 1, 2].map((t) => [
  { kind: 'store', x: 0, v: t + 1 },
  { kind: 'load', x: 1 },
  { kind: 'store', x: 1, v: t + 1 },
  { kind: 'load', x: 0 },
]);
const make = toyProgram(threads, 2, 0);
const lost = toyProgram([[{ kind: 'inc', x: 0 }], [{ kind: 'inc', x: 0 }], [{ kind: 'inc', x: 0 }]], 1, 0, (s) => [
  { name: 'sum', atEnd: true, check: () => (s.vars[0] === 3 ? null : `x=${s.vars[0]}`) },
]);

/** Interrupts every `every` executions and resumes from the checkpoint until done. */
function interrupted(mk: typeof make, o: ExploreOptions, every: number) {
  let polls = 0;
  let r = exploreProgram(mk, { ...o, shouldStop: () => ++polls % every === 0 });
  let resumes = 0;
  while (r.verdict === 'interrupted') {
    expect(r.checkpoint).toBeDefined();
    const saved = JSON.parse(JSON.stringify(r.checkpoint)); // as written to and read from a file
    r = exploreProgram(mk, { ...o, resume: saved, shouldStop: () => ++polls % every === 0 });
    resumes++;
  }
  return { r, resumes };
}

describe('checkpoint and resume', () => {
  const runs: [StrategyName, boolean][] = [['dpor', false], ['dfs', false], ['random', false], ['pct', false], ['dpor', true], ['dfs', true]];
  it.each(runs)('%s (state cache %s) ends with the same result as an uninterrupted run', (strategy, cache) => {
    const o: ExploreOptions = { strategy, cache, seed: '5', samples: 300 };
    const whole = exploreProgram(make, o);
    const { r, resumes } = interrupted(make, o, Math.ceil(whole.executions / 8));
    expect(resumes).toBeGreaterThan(2);
    expect(r.verdict).toBe(whole.verdict);
    expect(r.executions).toBe(whole.executions);
    // A resumed run re-runs the prefix of its first execution (no saved state to restore yet),
    // so run and restored steps split differently; together they are the same.
    expect(r.steps + r.restoredSteps).toBe(whole.steps + whole.restoredSteps);
    expect(r.cache).toEqual(whole.cache);
    if (cache) expect(r.cache?.states).toBeGreaterThan(0);
  });

  it('finds the same violation after resuming', () => {
    for (const [strategy, cache] of runs.filter(([s]) => s === 'dpor' || s === 'dfs')) {
      const whole = exploreProgram(lost, { cache, strategy });
      const { r } = interrupted(lost, { strategy, cache }, 2);
      expect(r.violation?.schedule).toEqual(whole.violation?.schedule);
      expect(r.executions).toBe(whole.executions);
    }
  });

  it.each(runs.filter(([s]) => s === 'dpor' || s === 'dfs'))('%s (state cache %s) refuses a saved position that does not fit the program (not a quiet "holds")', (strategy, cache) => {
    let polls = 0;
    const r = exploreProgram(make, { cache, strategy, shouldStop: () => ++polls > 5 });
    expect(r.verdict).toBe('interrupted');
    // Same thread count, but the third thread waits at its start: the saved path cannot run here.
    const other = toyProgram([threads[0]!, threads[1]!, [{ kind: 'await', x: 1, v: 7 }, ...threads[2]!]], 2, 0);
    expect(() => exploreProgram(other, { cache, strategy, resume: r.checkpoint })).toThrow(/checkpoint's .* position does not fit this program/);
    // A program with the same enabled threads but other steps is refused too (dpor saves footprints).
    if (strategy === 'dpor') {
      const relabelled = toyProgram(threads.map((t) => [{ kind: 'load', x: 0 } as Op, ...t]), 2, 0);
      expect(() => exploreProgram(relabelled, { cache, strategy, resume: r.checkpoint })).toThrow(/does not fit this program/);
    }
  });

  it('resumes a search over states saved with its threads to explore in either order, and refuses any other', () => {
    const o: ExploreOptions = { strategy: 'dpor', cache: true };
    const whole = exploreProgram(make, o);
    let polls = 0;
    const mid = exploreProgram(make, { ...o, shouldStop: () => ++polls > whole.executions / 2 });
    expect(mid.verdict).toBe('interrupted');
    type SavedNode = { todo: number[]; index: number };
    const saved = JSON.parse(JSON.stringify(mid.checkpoint)) as { state: { nodes: SavedNode[] } };
    const wide = saved.state.nodes.find((n) => n.todo.length >= 3);
    expect(wide).toBeDefined();
    // This build explores the last declared thread first (explorationOrder)...
    expect(wide!.todo).toEqual([...wide!.todo].sort((a, b) => b - a));
    // ...builds before it saved the first first. A node at its last thread, written that way
    // (the same thread now, the others after it, to be explored again: more work, never less),
    // resumes to the same verdict and states.
    const older = JSON.parse(JSON.stringify(saved)) as typeof saved;
    let rewritten = 0;
    for (const n of older.state.nodes) {
      if (n.todo.length < 2 || n.index !== n.todo.length - 1) continue;
      n.todo.reverse();
      n.index = 0;
      rewritten++;
    }
    expect(rewritten).toBeGreaterThan(0);
    const r = exploreProgram(make, { ...o, resume: older as never });
    expect([r.verdict, r.cache?.states]).toEqual([whole.verdict, whole.cache?.states]);
    const scrambled = JSON.parse(JSON.stringify(saved)) as typeof saved;
    const w = scrambled.state.nodes.find((n) => n.todo.length >= 3)!;
    w.todo = [w.todo[1]!, w.todo[0]!, ...w.todo.slice(2)];
    expect(() => exploreProgram(make, { ...o, resume: scrambled as never })).toThrow(/todo must be distinct thread ids in decreasing order/);
  });

  it('refuses a checkpoint of another strategy', () => {
    const r = exploreProgram(make, { cache: false, strategy: 'dfs', shouldStop: () => true });
    expect(() => exploreProgram(make, { cache: false, strategy: 'dpor', resume: r.checkpoint })).toThrow('checkpoint is for strategy dfs, not dpor');
  });
});
