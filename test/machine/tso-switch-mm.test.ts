// examples/switch-mm-flush.ts: CVE-2016-2069 (fixed by Linux 71b3c126e611) needs x86-TSO — a
// flusher's pte store still in its store buffer while it reads mm_cpumask, and a page walk that
// reads memory — so the missing smp_mb() is a bug under TSO and invisible under SC; the fix and
// the serialising load_cr3 hold under both.
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { bindModel } from '../../src/model.js';
import { model } from '../../src/testing/matchers.js';
import switchMm from '../../examples/switch-mm-flush.js';

describe('switch_mm vs a remote flusher (CVE-2016-2069)', () => {
  it('without the flusher\'s smp_mb a CPU keeps a writable TLB entry no IPI flushed (TSO)', async () => {
    await expect(model(switchMm, 'no-smp-mb')).toViolate('no-stale-tlb-after-flush');
  });
  it('the same program is safe on an SC machine: the bug is store buffering', async () => {
    await expect(model(switchMm, 'no-smp-mb', { params: { tso: 0 } })).toHold();
  });
  it.each(['fixed', 'plain-cpumask-store'])('%s holds under TSO and SC', async (variant) => {
    await expect(model(switchMm, variant)).toHold();
    await expect(model(switchMm, variant, { params: { tso: 0 } })).toHold();
  });
  it('DPOR and DFS agree on every variant under TSO', () => {
    for (const v of switchMm.variants) {
      const make = bindModel(switchMm, v.name).make;
      const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true, accept: () => false });
      const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true, accept: () => false });
      expect([v.name, dpor.finalStates]).toEqual([v.name, dfs.finalStates]);
    }
  });
});
