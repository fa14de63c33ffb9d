// The split search on every built-in variant: the verdict each variant declares, and, where it
// holds, exactly the final states of the unsplit search over states (dpor and dfs with the
// cache) — the split changes how the work is cut, never what is reachable.
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { bindModel, meetsExpectation } from '../../src/model.js';
import { exploreSplit, splitFor } from '../../src/parallel/explore-split.js';

const CASES = builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name })));

describe('the split search on every built-in variant', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant}`, () => {
      const b = bindModel(c.model, c.variant, {}, undefined);
      for (const strategy of ['dpor', 'dfs'] as const) {
        const o = { strategy, cache: true, maxSteps: b.maxSteps, collectFinalStates: true };
        const plain = exploreProgram(b.make, o);
        const split = exploreSplit(b.make, o);
        expect(split.strategy).toBe(plain.strategy);
        expect(meetsExpectation(b.variant.expect, split.verdict, split.violation?.invariant)).toBe(true);
        expect(split.verdict).toBe(plain.verdict);
        if (plain.verdict === 'holds') expect(split.finalStates).toEqual(plain.finalStates);
        // The default frontier cut the search into jobs, not only leaves above it.
        expect(splitFor(b.make, o)!.units.some((u) => 'job' in u)).toBe(true);
      }
    }, 120_000);
  }
});
