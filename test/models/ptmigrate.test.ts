// ptmigrate (MODELS.md §4): every buggy variant is caught with its invariant, every fixed one
// is explored exhaustively by DPOR with no violation; exact execution counts are pinned so a
// change in the model, the machine or the engine is visible.
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { ptmigrate } from '../../models/ptmigrate.js';

/** DPOR executions at the default parameters (cpus=1, pages=2, stores=1, reclaim=1, warm=0, psc=1). */
const DPOR_DEFAULT: Record<string, number> = {
  'no-delimbo': 6,
  delimbo: 668,
  'nonatomic-merge': 114,
  'clear-flush-copy': 52,
  'harvest-entry0-only': 59,
  'flag-cleared-before-flush': 36,
  'free-before-flush': 90,
  'reader-no-delimbo': 17,
};

describe('ptmigrate: every variant shows what it declares (DPOR, unbounded)', () => {
  for (const v of ptmigrate.variants) {
    it(`${v.name}: ${v.expect === 'holds' ? 'holds' : `violates ${v.expect.violates}`}`, () => {
      const r = explore(ptmigrate, { variant: v.name, strategy: 'dpor' });
      if (v.expect === 'holds') {
        expect(r.verdict).toBe('holds');
        expect(r.violation).toBeUndefined();
      } else {
        expect(r.verdict).toBe('violated');
        expect(r.violation?.invariant).toBe(v.expect.violates);
      }
      expect(r.asExpected).toBe(true);
      expect(r.executions).toBe(DPOR_DEFAULT[v.name]);
    });
  }
});

describe('ptmigrate: the counterexamples read as the bug', () => {
  const run = (variant: string, params = {}) => {
    const r = explore(ptmigrate, { variant, strategy: 'dpor', params });
    const labels = r.violation!.trace.map((s) => `${s.label} ${s.note ?? ''}`);
    return { r, labels };
  };

  it('no-delimbo: D set in O after the copy, reclaim drops the page as clean', () => {
    const { r, labels } = run('no-delimbo');
    expect(r.violation!.message).toMatch(/dropped D1 as clean .* memory holds 2 and the backing store 0/);
    const dirtyInO = labels.findIndex((l) => /set D in O\[1\]/.test(l));
    const copied = labels.findIndex((l) => /copy O\[1\] → N\[1\]/.test(l));
    expect(copied).toBeGreaterThanOrEqual(0);
    expect(dirtyInO).toBeGreaterThan(copied);
    expect(labels.at(-1)).toMatch(/clean \(N\[1\]\) → drop without write-back .*DATA LOST/);
  });

  it('no-delimbo also loses the bit when the writer starts with D=0 entries cached from O', () => {
    const r = explore(ptmigrate, { variant: 'no-delimbo', strategy: 'dpor', params: { warm: 1 } });
    expect(r.violation?.invariant).toBe('no-lost-dirty-bit');
  });

  it('harvest-entry0-only: entry 1 is never harvested', () => {
    const { labels } = run('harvest-entry0-only');
    expect(labels.some((l) => /update_new_page_and_free i=1: harvest A\|D of O\[0\]/.test(l))).toBe(true);
    expect(labels.some((l) => /harvest A\|D of O\[1\]/.test(l))).toBe(false);
  });

  it('free-before-flush: the hardware sets D in the freed O', () => {
    const { r } = run('free-before-flush');
    expect(r.violation!.message).toMatch(/O\[\d\] written after its pte page was freed: .* by cpu0 \(hardware D update\)/);
  });
});

describe('ptmigrate: DFS and cross-checks on small instances', () => {
  const small = { pages: 1, reclaim: 0 };

  for (const [variant, dfsCount] of [
    ['delimbo', 385],
    ['clear-flush-copy', 76],
  ] as const) {
    it(`${variant} (pages=1, reclaim=0): DFS explores ${dfsCount} executions; DPOR reaches the same final states`, () => {
      const dfs = explore(ptmigrate, { variant, strategy: 'dfs', params: small, collectFinalStates: true });
      const dpor = explore(ptmigrate, { variant, strategy: 'dpor', params: small, collectFinalStates: true });
      expect(dfs.verdict).toBe('holds');
      expect(dpor.verdict).toBe('holds');
      expect(dfs.executions).toBe(dfsCount);
      expect(dpor.executions).toBeLessThan(dfs.executions);
      expect(dpor.finalStates).toEqual(dfs.finalStates);
    });
  }
});
