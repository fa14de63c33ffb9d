// The state table's operations for sharing states between the jobs of a split search
// (src/parallel/waves.ts): a read-only base, the union of finished jobs, the entries a
// checkpoint keeps, and the table in shared memory a pool worker reads in place.
import { describe, expect, it } from 'vitest';
import { FRESH, StateCache } from '../../src/engine/state-cache.js';

const f = (lo: number, hi: number) => ({ lo, hi });

describe('the state table', () => {
  it('takes a state from its base with the sleep set stored there, and narrows only its own copy', () => {
    const base = new StateCache();
    expect(base.visit(f(1, 2), 0b110)).toBe(FRESH);
    const job = new StateCache(Infinity, base);
    // Stored in the base with {1, 2} asleep: the job, arriving with {2} asleep, explores thread 1.
    expect(job.visit(f(1, 2), 0b100)).toBe(0b110);
    expect(job.visit(f(1, 2), 0b100)).toBe(0b100);
    expect(base.find(f(1, 2))).toBe(0b110);
    // Copies from the base are not states the job discovered.
    expect(job.visit(f(3, 4), 0)).toBe(FRESH);
    expect([job.size, job.discovered, job.stats().states]).toEqual([2, 1, 1]);
  });

  it('unites tables keeping, for a state in both, the threads asleep in both', () => {
    const a = new StateCache();
    const b = new StateCache();
    a.visit(f(1, 1), 0b011);
    b.visit(f(1, 1), 0b110);
    b.visit(f(5, 6), 0b001);
    const u = new StateCache();
    u.absorb(a);
    u.absorbEntries(b.entries());
    expect(u.size).toBe(2);
    expect(u.find(f(1, 1))).toBe(0b010);
    expect(u.find(f(5, 6))).toBe(0b001);
    expect(u.find(f(7, 7))).toBe(FRESH);
  });

  it('is read in place from shared memory, and refuses entry lists that do not add up', () => {
    const t = new StateCache();
    for (let i = 1; i <= 5000; i++) t.visit(f(i, i * 7), i & 3);
    const view = StateCache.over(t.shared());
    expect(view.size).toBe(5000);
    for (const i of [1, 77, 4999, 5000]) expect(view.find(f(i, i * 7))).toBe(i & 3);
    expect(view.find(f(5001, 1))).toBe(FRESH);
    expect(() => new StateCache().absorbEntries(new Uint32Array(4))).toThrow(/triples/);
    expect(() => new StateCache().absorbEntries(new Uint32Array(3))).toThrow(/empty fingerprint/);
  });
});
