// change_page_attr: every buggy variant is caught by the invariant it names, every fixed one
// holds after an exhaustive search; execution counts are pinned so a change to the model, the
// machine or the engine shows up here.
import { describe, expect, it } from 'vitest';
import { cpa } from '../../models/cpa.js';
import { explore } from '../../src/index.js';

// DPOR, default parameters (2 callers, cpu2 with pgd_alloc, 4 ptes per table, targeted speculation).
const DPOR_COUNTS: Record<string, number> = {
  fixed: 361,
  'no-recheck': 26,
  'no-flush-after-split': 17,
  'no-final-flush': 2,
  'no-cache-flush': 1,
  'pgd-lock-irqs-off': 1,
};

describe('cpa model', () => {
  it('documents every invariant its program checks', () => {
    const program = cpa.build('fixed', { callers: 2, ptes: 4, speculation: 1, forks: 1, psc: 0 });
    const documented = cpa.invariants.map((i) => i.name);
    for (const inv of program.invariants) expect(documented).toContain(inv.name);
  });

  it.each(cpa.variants.map((v) => [v.name, v]))('%s: DPOR shows what the variant declares', (name, v) => {
    const r = explore(cpa, { variant: name, strategy: 'dpor' });
    if (v.expect === 'holds') {
      expect(r.verdict).toBe('holds');
    } else {
      expect(r.verdict).toBe('violated');
      expect(r.violation?.invariant).toBe(v.expect.violates);
    }
    expect(r.asExpected).toBe(true);
    expect(r.executions).toBe(DPOR_COUNTS[name]);
  });

  it('no-recheck: the second split overwrites the first one, its change, and leaks its pte page', () => {
    const r = explore(cpa, { variant: 'no-recheck' });
    expect(r.violation?.message).toMatch(/set_memory_ro\(0x0\) on cpu0 returned, but P1\[0\] is D0 RW/);
    expect(r.violation?.message).toMatch(/pte page P0 is allocated but no pmd points to it \(leaked\)/);
  });

  it('no-flush-after-split: cpu2 holds a 2M RW and a 4K RO translation of page 0', () => {
    const r = explore(cpa, { variant: 'no-flush-after-split' });
    expect(r.violation?.message).toMatch(/cpu2 holds two translations of 0x0 that disagree \(RO vs RW\)/);
  });

  it('pgd-lock-irqs-off: cpu0 waits for acks under pgd_lock while cpu2 spins on it with interrupts off', () => {
    const r = explore(cpa, { variant: 'pgd-lock-irqs-off' });
    expect(r.violation?.message).toMatch(/cpu0 at "__split_large_page: flush_tlb_all: wait for acks"/);
    expect(r.violation?.message).toMatch(/cpu2 at "pgd_alloc: spin_lock\(pgd_lock\)"/);
  });

  it('fixed holds with the paging-structure cache and the machine\'s general speculation (one caller)', () => {
    const r = explore(cpa, { variant: 'fixed', params: { callers: 1, speculation: 2, psc: 1 } });
    expect(r.verdict).toBe('holds');
    expect(r.executions).toBe(33);
  });

  // DFS: the buggy variants it finds in a few seconds (no-recheck needs both callers, and DFS
  // does not finish that space), then a DPOR/DFS cross-check of final states on the fixed code
  // with one caller.
  it.each([
    ['no-cache-flush', {}, 1],
    ['pgd-lock-irqs-off', {}, 1],
    ['no-final-flush', { callers: 1, forks: 0, ptes: 2 }, 11],
    ['no-flush-after-split', { callers: 1, forks: 0, ptes: 2 }, 282],
  ] as const)('%s: DFS finds the same violation (%j)', (variant, params, count) => {
    const dfs = explore(cpa, { variant, params, strategy: 'dfs' });
    const dpor = explore(cpa, { variant, params, strategy: 'dpor' });
    expect(dfs.asExpected).toBe(true);
    expect(dpor.asExpected).toBe(true);
    expect(dfs.violation?.invariant).toBe(dpor.violation?.invariant);
    expect(dfs.executions).toBe(count);
  });

  it('fixed, one caller: DPOR and DFS reach the same final states', () => {
    const params = { callers: 1, forks: 0, speculation: 0, ptes: 2 };
    const dpor = explore(cpa, { variant: 'fixed', params, strategy: 'dpor', collectFinalStates: true });
    const dfs = explore(cpa, { variant: 'fixed', params, strategy: 'dfs', collectFinalStates: true });
    expect(dpor.verdict).toBe('holds');
    expect(dfs.verdict).toBe('holds');
    expect(dpor.finalStates).toEqual(dfs.finalStates);
    expect(dpor.finalStates).toHaveLength(2); // cpu2's load used the 2M entry, or a 4K one
    expect([dpor.executions, dfs.executions]).toEqual([5, 7212]);
  });
});
