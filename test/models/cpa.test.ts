// change_page_attr: every buggy variant is caught by the invariant it names, every fixed one
// holds after an exhaustive search; execution counts are pinned so a change to the model, the
// machine or the engine shows up here.
import { describe, expect, it } from 'vitest';
import { cpa } from '../../models/cpa.js';
import { type ModelResult, explore, resolveParams } from '../../src/index.js';

// Each default-parameter DPOR run is done once and shared by the tests that read it.
const runs = new Map<string, ModelResult>();
const dpor = (variant: string): ModelResult => {
  if (!runs.has(variant)) runs.set(variant, explore(cpa, { variant, strategy: 'dpor' }));
  return runs.get(variant)!;
};

// DPOR, default parameters (2 callers, targeted speculation, no pgd_alloc; 4 ptes per table).
// A change in these numbers is a change in the model, the machine's footprints or the engine.
// Before the per-step invariants watched what they read (the access audit rejects `watch: []`
// for invariants that read page tables and TLBs) these were 641, 33, 19, 2, 1 and 61; with one
// dependence chain for the writes all invariants watch together, 8559, 352, 208, 11, 1, 1319.
// Now each invariant orders only the writes it watches (engine/dependence.ts).
const DPOR_COUNTS: Record<string, number> = {
  fixed: 6351,
  'no-recheck': 240,
  'no-flush-after-split': 134,
  'no-final-flush': 9,
  'no-cache-flush': 1,
  'pgd-lock-irqs-off': 985,
};

describe('cpa model', () => {
  it('documents every invariant its program checks', () => {
    const program = cpa.build('fixed', { callers: 2, speculation: 1, forks: 0, psc: 0 });
    const documented = cpa.invariants.map((i) => i.name);
    for (const inv of program.invariants) expect(documented).toContain(inv.name);
  });

  it.each(cpa.variants.map((v) => [v.name, v]))('%s: DPOR shows what the variant declares', (name, v) => {
    const r = dpor(name);
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
    const r = dpor('no-recheck');
    expect(r.violation?.message).toMatch(/set_memory_ro\(0x0\) on cpu0 returned, but P1\[0\] is D0 RW/);
    expect(r.violation?.message).toMatch(/pte page P0 is allocated but no pmd points to it \(leaked\)/);
  });

  it('no-flush-after-split: cpu2 holds a 2M RW and a 4K RO translation of page 0', () => {
    const r = dpor('no-flush-after-split');
    expect(r.violation?.message).toMatch(/cpu2 holds two translations of 0x0 that disagree \(RO vs RW\)/);
  });

  it('pgd-lock-irqs-off: cpu0 waits for acks under pgd_lock while cpu1 spins on it with interrupts off', () => {
    const r = dpor('pgd-lock-irqs-off');
    expect(r.violation?.message).toMatch(/cpu0 at "__split_large_page: flush_tlb_all: wait for acks"/);
    expect(r.violation?.message).toMatch(/cpu1 at "try_preserve_large_page: spin_lock\(pgd_lock\)/);
    const cpu1 = r.violation!.trace.filter((s) => s.thread === 'cpu1').map((s) => s.label);
    expect(cpu1.at(-1)).toBe('try_preserve_large_page: local_irq_save'); // spinning with interrupts off
  });

  it('fixed holds with the paging-structure cache and the machine\'s general speculation (one caller)', () => {
    const r = explore(cpa, { variant: 'fixed', params: { callers: 1, speculation: 2, psc: 1 } });
    expect(r.verdict).toBe('holds');
    expect(r.executions).toBe(44); // 33 with `watch: []`, 58 with one chain for all watched writes (see DPOR_COUNTS)
  });

  // DFS: the buggy variants it finds in a few seconds (no-recheck needs both callers, and DFS
  // does not get through that space: > 50,000 executions), then a DPOR/DFS cross-check of final states on the fixed code
  // with one caller.
  it.each([
    ['no-cache-flush', {}, 1],
    ['pgd-lock-irqs-off', { callers: 1, forks: 1 }, 1],
    ['no-final-flush', { callers: 1 }, 11],
    ['no-flush-after-split', { callers: 1 }, 234],
  ] as const)('%s: DFS finds the same violation (%j)', (variant, params, count) => {
    const dfs = explore(cpa, { variant, params, strategy: 'dfs' });
    const reduced = explore(cpa, { variant, params, strategy: 'dpor' });
    expect(dfs.asExpected).toBe(true);
    expect(reduced.asExpected).toBe(true);
    expect(dfs.violation?.invariant).toBe(reduced.violation?.invariant);
    expect(dfs.executions).toBe(count);
  });

  it('has no ptes parameter: more small pages changed no interleaving (the same executions at 2 to 8)', () => {
    expect(Object.keys(cpa.params)).not.toContain('ptes');
    expect(() => resolveParams(cpa, { ptes: 4 })).toThrow(/unknown parameter "ptes" for model cpa \(parameters: callers, speculation, forks, psc\)/);
  });

  it('fixed, one caller: DPOR and DFS reach the same final states', () => {
    const params = { callers: 1, speculation: 0 };
    const reduced = explore(cpa, { variant: 'fixed', params, strategy: 'dpor', collectFinalStates: true });
    const dfs = explore(cpa, { variant: 'fixed', params, strategy: 'dfs', collectFinalStates: true });
    expect(reduced.verdict).toBe('holds');
    expect(dfs.verdict).toBe('holds');
    expect(reduced.finalStates).toEqual(dfs.finalStates);
    expect(reduced.finalStates).toHaveLength(2); // cpu2's load used the 2M entry, or a 4K one
    expect([reduced.executions, dfs.executions]).toEqual([6, 4512]); // DPOR: 5 with `watch: []`, 7 with one chain for all watched writes
  });
});
