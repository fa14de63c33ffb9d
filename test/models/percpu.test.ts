// percpu (MODELS.md §6): both variants explored with DPOR to the end show what they declare,
// with pinned execution counts; every invariant is reachable without module_mutex; DPOR and
// DFS agree on a configuration small enough for DFS (two loaders on one CPU).
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { explore, resolveParams } from '../../src/index.js';
import percpu from '../../models/percpu.js';

describe('percpu: every variant shows what it declares (DPOR, no bound)', () => {
  it('module-mutex holds: the two loaders are serialised (2 orders)', () => {
    const r = explore(percpu, { variant: 'module-mutex' });
    expect(r).toMatchObject({ verdict: 'holds', executions: 2, asExpected: true });
  });

  it('no-module-mutex: both loaders see the same high-water mark and map page 1 twice', () => {
    const r = explore(percpu, { variant: 'no-module-mutex' });
    expect(r).toMatchObject({ verdict: 'violated', executions: 8, asExpected: true });
    expect(r.violation?.invariant).toBe('mapped-once');
    expect(r.violation?.message).toBe('cpu1: percpu_pte_alloc(0x9000) finds PC1[1] = P1 RW A D NX already mapped: BUG()');
  });

  it('three CPUs and three loaders: the 3! lock orders', () => {
    const r = explore(percpu, { variant: 'module-mutex', params: { cpus: 3, modules: 3 } });
    expect(r).toMatchObject({ verdict: 'holds', executions: 6, sleepBlocked: 1 });
  });
});

describe('percpu: the same race breaks every invariant', () => {
  const without = (...names: string[]) => {
    const params = resolveParams(percpu, {});
    return exploreProgram(() => {
      const p = percpu.build('no-module-mutex', params);
      return { ...p, invariants: p.invariants.filter((i) => !names.includes(i.name)) };
    });
  };
  it('the high-water mark moves down when the smaller loader stores last', () => {
    const r = without('mapped-once');
    expect(r.violation?.invariant).toBe('high-water-covers-loaded');
    expect(r.violation?.message).toBe("cpu1's high-water mark moved down: percpu_allocated 0xb000 → 0xa000");
    expect(r.executions).toBe(15);
  });
  it("a module's init reads a copy the other loader's mapping replaced", () => {
    const r = without('mapped-once', 'high-water-covers-loaded');
    expect(r.violation?.invariant).toBe('initialised-before-use');
    expect(r.violation?.message).toBe("M0's init on cpu0: per_cpu(var, 0) at 0x5000 reads 0, not its initial value 11");
    expect(r.executions).toBe(26);
  });
});

describe('percpu: DFS', () => {
  it('DPOR and DFS reach the same final states (module-mutex, two loaders on one CPU)', () => {
    const params = resolveParams(percpu, { cpus: 1 });
    const make = () => percpu.build('module-mutex', params);
    const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true });
    const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true });
    expect(dfs).toMatchObject({ verdict: 'holds', executions: 272 });
    expect(dpor).toMatchObject({ verdict: 'holds', executions: 40 });
    expect(dpor.finalStates).toEqual(dfs.finalStates);
  });
});
