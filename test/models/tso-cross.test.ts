// The built-in models under TSO, searched three ways: the default stateful search must give every
// variant the verdict (and, when it holds, the final states) of the stateless DPOR; state restore
// must find what re-running prefixes finds; and for the small variants that hold, the plain
// search over states (dfs with the cache) reaches the same final states. This checks the
// footprints of the operations a CPU issues through its store buffer (buffered stores, forwarded
// loads, locked steps) on the real models. Three variants whose stateless search runs 60,000+
// executions under TSO (cpa fixed, thp-refcount compound-lock and tail-mapcount) are left to
// test/machine/tso-models.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { builtinModels } from '../../models/index.js';
import { sameFinding } from './same-finding.js';
import { setDefaultMemoryModel } from '../../src/machine/index.js';

setDefaultMemoryModel('tso');
afterAll(() => setDefaultMemoryModel('sc'));

const LARGE = new Set(['cpa fixed', 'thp-refcount compound-lock', 'thp-refcount tail-mapcount']);
const CASES = builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name }))).filter((c) => !LARGE.has(`${c.model.name} ${c.variant}`));

describe('under TSO the stateful, stateless and restoring searches agree on every built-in model', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant}`, () => {
      const o = { variant: c.variant, collectFinalStates: true } as const;
      const stateful = explore(c.model, { ...o, strategy: 'dpor', cache: true });
      const restored = explore(c.model, { ...o, strategy: 'dpor', cache: false, restore: true });
      const rerun = explore(c.model, { ...o, strategy: 'dpor', cache: false, restore: false });
      expect(stateful.asExpected).toBe(true);
      sameFinding(stateful, restored);
      expect([restored.executions, restored.finalStates, restored.violation]).toEqual([rerun.executions, rerun.finalStates, rerun.violation]);
      if (stateful.verdict !== 'holds') return;
      expect(stateful.finalStates).toEqual(restored.finalStates);
      const dfs = explore(c.model, { ...o, strategy: 'dfs', cache: true });
      expect(dfs.finalStates).toEqual(stateful.finalStates);
    }, 120_000);
  }
});
