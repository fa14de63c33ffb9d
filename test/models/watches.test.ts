// Every watch prefix of every built-in invariant names a location some step touches: a prefix
// that names nothing (a typo, a renamed location) would leave its invariant unordered against
// every write, and partial-order reduction could skip each state it should see.
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { resolveParams } from '../../src/model.js';
import { checkWatches } from '../../src/index.js';

describe('built-in watch lists', () => {
  for (const m of builtinModels) {
    // The variants that hold, explored fully: their verdict is the one a dead watch would make
    // wrong. (A buggy variant stops at its first violation, before it touches everything.)
    it.each(m.variants.filter((v) => v.expect === 'holds').map((v) => v.name))(`${m.name} %s: every watch prefix matches a location a step touches or its invariant reads`, (variant) => {
      const params = resolveParams(m, {});
      const touched = checkWatches(() => m.build(variant, params), { strategy: 'dpor', maxExecutions: Infinity, maxSteps: m.maxSteps });
      expect(touched.size).toBeGreaterThan(0);
    });
  }
});
