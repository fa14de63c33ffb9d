// A variant's verdict must not depend on the strategy: whatever DPOR, iterative preemption
// bounding or PCT reports for a built-in variant is something the variant declares (issue 13:
// cpa pgd-lock-irqs-off under PCT seeds 2, 3, 7 and thp-refcount v2-unfreeze-before-clear under
// bounded search each reported an invariant their variant did not name). Small budgets keep
// this fast; a search cut short by its budget ("bounded") proves nothing either way and passes,
// so every budget here is one that reaches the violations those runs reported.
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { declaredViolations, explore, expectationText, type ModelExploreOptions, type ModelResult } from '../../src/index.js';

const SEARCHES: readonly [string, ModelExploreOptions][] = [
  ['dpor', { strategy: 'dpor', maxExecutions: 300 }],
  ['bounded', { strategy: 'bounded', maxExecutions: 200 }],
  ...['2', '3', '7'].map((seed): [string, ModelExploreOptions] => [`pct seed ${seed}`, { strategy: 'pct', seed, samples: 40 }]),
];

/** What went wrong with `r`, or null when its verdict is one its variant declares. */
function undeclared(r: ModelResult): string | null {
  if (r.verdict === 'violated') {
    const inv = r.violation!.invariant;
    return declaredViolations(r.expected).includes(inv) ? null : `violated ${inv}, declares ${expectationText(r.expected)}`;
  }
  if (r.verdict === 'holds' && r.expected !== 'holds') return `a complete search holds, declares ${expectationText(r.expected)}`;
  return null;
}

describe('every built-in variant: the verdict of each strategy is one the variant declares', () => {
  for (const m of builtinModels) {
    it(`${m.name}: ${m.variants.map((v) => v.name).join(', ')}`, () => {
      const wrong: string[] = [];
      const found = new Map<string, Set<string>>();
      for (const v of m.variants) {
        for (const [name, o] of SEARCHES) {
          const r = explore(m, { variant: v.name, ...o });
          const bad = undeclared(r);
          if (bad) wrong.push(`${v.name} under ${name}: ${bad}`);
          if (r.violation) (found.get(v.name) ?? found.set(v.name, new Set()).get(v.name)!).add(r.violation.invariant);
        }
      }
      expect(wrong).toEqual([]);
      // The budgets are big enough to matter: every buggy variant is caught by some search.
      const missed = m.variants.filter((v) => v.expect !== 'holds' && !found.has(v.name)).map((v) => v.name);
      expect(missed).toEqual([]);
    });
  }

  it('cpa pgd-lock-irqs-off names both bugs of v1 of the series: the deadlock and, unserialised, the conflicting translations', () => {
    const cpa = builtinModels.find((m) => m.name === 'cpa')!;
    const v = cpa.variants.find((x) => x.name === 'pgd-lock-irqs-off')!;
    expect(declaredViolations(v.expect)).toEqual(['deadlock', 'no-conflicting-translations']); // DPOR reports the deadlock (985 executions)
    const pct = explore(cpa, { variant: 'pgd-lock-irqs-off', strategy: 'pct', seed: '2', samples: 40 });
    expect([pct.violation?.invariant, pct.asExpected]).toEqual(['no-conflicting-translations', true]);
    expect(pct.violation?.message).toMatch(/^cpu2 holds two translations of 0x0 that disagree \(RO vs RW\)/);
  });

  it('thp-refcount v2-unfreeze-before-clear: a put on the frozen head is a count gone negative, not the 2.6.38 split BUG_ON', () => {
    const thp = builtinModels.find((m) => m.name === 'thp-refcount')!;
    const r = explore(thp, { variant: 'v2-unfreeze-before-clear', strategy: 'bounded', maxExecutions: 200 });
    expect(r.violation?.invariant).toBe('no-free-while-referenced');
    expect(r.violation?.message).toMatch(/^H: _count went negative/);
  });
});
