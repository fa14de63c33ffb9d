// The built-in models on a TSO machine (MMCHECK_MEMORY_MODEL=tso does the same from the command
// line): every variant shows what it declares. The models issue their page-table writes and
// atomics without a CPU, so those act on memory at once; what TSO changes is the CPUs' loads and
// stores through the TLB (buffered, forwarded), the serialising flushes and the IPIs.
import { afterAll, describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { builtinModels } from '../../models/index.js';
import { setDefaultMemoryModel } from '../../src/machine/index.js';

setDefaultMemoryModel('tso');
afterAll(() => setDefaultMemoryModel('sc'));

const CASES = builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name })));

describe('every built-in variant under TSO', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant} shows what it declares`, () => {
      const r = explore(c.model, { variant: c.variant, strategy: 'dpor', cache: true, collectFinalStates: true });
      expect([r.verdict, r.violation?.invariant, r.asExpected]).toEqual([r.verdict, r.violation?.invariant, true]);
      // It ran on store buffers: the machine's final state lists them.
      if (r.verdict === 'holds') expect(r.finalStates!.every((s) => /\\*"sb\\*":/.test(s))).toBe(true);
    }, 120_000);
  }
});
