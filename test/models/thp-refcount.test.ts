// thp-refcount: every variant shows what it declares, with exact execution counts (MODELS.md §5).
import { describe, expect, it } from 'vitest';
import { explore, expectationOf, type Params, resolveParams } from '../../src/index.js';
import { thpRefcount } from '../../models/thp-refcount.js';

const run = (variant: string, params: Params = {}, strategy: 'dpor' | 'dfs' = 'dpor', extra = {}) =>
  explore(thpRefcount, { variant, params, strategy, ...extra });

describe('thp-refcount: declared verdicts, DPOR with no bound, default parameters', () => {
  // Defaults: one tail, one CPU pinning it with get_user_pages_fast and releasing it with put_page,
  // no speculative getter, the split's caller drops its head pin afterwards.
  const cases: [variant: string, verdict: string, executions: number, invariant?: string][] = [
    ['no-compound-lock', 'violated', 17, 'no-free-while-referenced'],
    ['compound-lock', 'holds', 106],
    ['tail-mapcount', 'holds', 108],
    ['refcount-v2', 'holds', 23],
    ['v2-unfreeze-before-clear', 'violated', 136, 'no-free-while-referenced'],
  ];
  it('covers every variant', () => {
    expect(cases.map((c) => c[0])).toEqual(thpRefcount.variants.map((v) => v.name));
  });
  for (const [variant, verdict, executions, invariant] of cases) {
    it(`${variant}: ${verdict}${invariant ? ` ${invariant}` : ''} after ${executions} executions`, () => {
      const r = run(variant);
      expect(r.asExpected).toBe(true);
      expect(r.verdict).toBe(verdict);
      expect(r.violation?.invariant).toBe(invariant);
      expect(r.executions).toBe(executions);
    });
  }

  it('no-compound-lock: the head is freed while still mapped', () => {
    const r = run('no-compound-lock');
    expect(r.violation?.message).toBe('H freed while referenced: H: _count 0, expected 1 (held by map)');
  });
  it('v2-unfreeze-before-clear: put_page after a speculative get on a just-unfrozen tail drops the head', () => {
    const r = run('v2-unfreeze-before-clear');
    expect(r.violation?.message).toBe('H freed while referenced: H: _count 0, expected 1 (held by map)');
    const labels = r.violation!.trace.map((s) => `${s.thread}: ${s.label}`);
    const get = labels.findIndex((l) => l.startsWith('cpu2 spec: get_page_unless_zero'));
    const clear = labels.findIndex((l) => /__split_huge_page_tail: clear_bit\(6, page T1->flags\)/.test(l));
    expect(get).toBeGreaterThan(labels.findIndex((l) => /__split_huge_page_tail: atomic_inc\(page T1->_count\)/.test(l)));
    expect(get).toBeLessThan(clear);
  });
});

describe('thp-refcount: other parameters', () => {
  it('no-compound-lock, caller keeps its head pin: the head ends one too low at the end', () => {
    const r = run('no-compound-lock', { dropHeadPin: 0 });
    expect(r.violation?.invariant).toBe('refcount-consistent');
    expect(r.violation?.message).toBe('H: _count 1, expected 2 (held by caller, map)');
    expect(r.executions).toBe(7);
    expect(r.asExpected).toBe(true);
  });
  it("no-compound-lock, two tail puts race the split: the kernel's BUG_ON(page_count(head) <= 0) is reachable", () => {
    const r = run('no-compound-lock', { gup: 0, pinners: 2, dropHeadPin: 0 }, 'dpor', {
      accept: (f: { invariant: string }) => f.invariant === 'head-positive-during-split',
    });
    expect(r.violation?.invariant).toBe('head-positive-during-split');
    expect(r.violation?.message).toMatch(/^BUG_ON\(page_count\(head\) <= 0\) in the split: H: _count 0/);
    // 80 (was 31): DPOR now explores every choice along a path that ends at a failure the
    // filter passes over (the other invariant), since the steps after it never ran.
    expect(r.executions).toBe(80);
    expect(r.asExpected).toBe(true); // two tail puts: the variant names the BUG_ON too
  });
  it('compound-lock with a speculative get_page_unless_zero on a tail: the 2.6.38 bug fixed in 3.2 (tail pins moved to _mapcount)', () => {
    const r = run('compound-lock', { gup: 0, speculative: 2, dropHeadPin: 0 });
    expect(r.violation?.invariant).toBe('refcount-consistent');
    expect(r.violation?.message).toBe('H: _count 1, expected 2 (held by caller, map)');
    expect(r.executions).toBe(158);
    expect(r.asExpected).toBe(true);
  });
  it('refcount-v2 holds with a speculative getter on the tail (v2-unfreeze-before-clear does not)', () => {
    const r = run('refcount-v2', { speculative: 2 });
    expect(r.verdict).toBe('holds');
    expect(r.executions).toBe(716);
    expect(r.asExpected).toBe(true);
  });
  it('growth with a second tail', () => {
    expect(run('compound-lock', { tails: 2 }).executions).toBe(210);
    expect(run('refcount-v2', { tails: 2 }).executions).toBe(27);
  });
});

describe('thp-refcount: what a variant declares follows its parameters', () => {
  it('compound-lock --param speculative=2: the 2.6.38 speculative tail reference is a declared violation, not UNEXPECTED', () => {
    const r = run('compound-lock', { speculative: 2 });
    expect([r.verdict, r.violation?.invariant, r.asExpected]).toEqual(['violated', 'refcount-consistent', true]);
    expect(r.expected).toEqual({ violates: 'refcount-consistent', or: ['no-free-while-referenced'] });
    expect(run('compound-lock').expected).toBe('holds');
  });
  it('tail-mapcount (3.2) holds where compound-lock fails: the speculative get_page_unless_zero on a tail finds _count 0', () => {
    const params = { gup: 0, speculative: 2, dropHeadPin: 0 };
    const broken = run('compound-lock', params);
    const fixed = run('tail-mapcount', params);
    expect([broken.verdict, broken.violation?.invariant, broken.executions]).toEqual(['violated', 'refcount-consistent', 158]);
    expect([fixed.verdict, fixed.asExpected, fixed.executions]).toEqual(['holds', true, 4070]);
  });
  it('the declared expectation at the defaults is the one mmcheck list shows', () => {
    const defaults = resolveParams(thpRefcount);
    for (const v of thpRefcount.variants) expect(expectationOf(v, defaults)).toEqual(v.expect);
  });
  // DPOR (complete) at parameters that change the verdict: each shows what it declares there.
  const cases: [variant: string, params: Params, verdict: string][] = [
    ['no-compound-lock', { pinners: 0 }, 'holds'],
    ['no-compound-lock', { pinners: 0, speculative: 2 }, 'violated'],
    ['no-compound-lock', { pinners: 0, speculative: 2, dropHeadPin: 0 }, 'violated'],
    ['compound-lock', { speculative: 2, gup: 0 }, 'violated'],
    ['compound-lock', { speculative: 2, pinners: 0 }, 'holds'],
    ['v2-unfreeze-before-clear', { speculative: 1 }, 'holds'], // the getter on the head
    ['v2-unfreeze-before-clear', { dropHeadPin: 0 }, 'violated'],
    ['v2-unfreeze-before-clear', { pinners: 0 }, 'violated'],
  ];
  it.each(cases)('%s %o: %s, as declared', (variant, params, verdict) => {
    const r = run(variant, params);
    expect(r.verdict).toBe(verdict);
    expect(r.asExpected).toBe(true);
  });
});

describe('thp-refcount: DPOR against plain DFS', () => {
  const finals = (variant: string, params: Params, strategy: 'dpor' | 'dfs', maxExecutions?: number) =>
    run(variant, params, strategy, { collectFinalStates: true, maxExecutions });

  it('refcount-v2, a speculative getter on the tail racing the split: same final states', () => {
    const dpor = finals('refcount-v2', { pinners: 0, speculative: 2 }, 'dpor');
    const dfs = finals('refcount-v2', { pinners: 0, speculative: 2 }, 'dfs');
    expect([dpor.verdict, dfs.verdict]).toEqual(['holds', 'holds']);
    expect([dpor.executions, dfs.executions]).toEqual([25, 2696]);
    expect(dpor.finalStates).toEqual(dfs.finalStates);
    expect(dfs.finalStates!.length).toBeGreaterThan(1);
  });
  it('refcount-v2, a pin held before the run (split fails with -EBUSY or runs after the put): same final states', () => {
    const dpor = finals('refcount-v2', { gup: 0 }, 'dpor');
    const dfs = finals('refcount-v2', { gup: 0 }, 'dfs');
    expect([dpor.verdict, dfs.verdict]).toEqual(['holds', 'holds']);
    expect([dpor.executions, dfs.executions]).toEqual([3, 24]);
    expect(dpor.finalStates).toEqual(dfs.finalStates);
  });
  it('compound-lock (DFS does not finish): every final state DFS reaches in 2000 executions is one DPOR found', () => {
    const dpor = finals('compound-lock', { gup: 0 }, 'dpor');
    expect(dpor.verdict).toBe('holds');
    expect(dpor.executions).toBe(91);
    const dfs = finals('compound-lock', { gup: 0 }, 'dfs', 2000);
    expect(dfs.verdict).toBe('bounded');
    const seen = new Set(dpor.finalStates);
    expect(dfs.finalStates!.filter((s) => !seen.has(s))).toEqual([]);
  });
  it('DFS finds the buggy variants too', () => {
    const a = run('no-compound-lock', { gup: 0 }, 'dfs');
    expect([a.violation?.invariant, a.executions]).toEqual(['no-free-while-referenced', 3]);
    const b = run('v2-unfreeze-before-clear', { pinners: 0 }, 'dfs');
    expect([b.violation?.invariant, b.executions]).toEqual(['no-free-while-referenced', 1522]);
  });
});

describe('thp-refcount: the state the search over states stores', () => {
  it('ledgers that differ only in the order threads became busy or pages were freed save equally', async () => {
    const { RefLedger } = await import('../../properties/thp-refcount.js');
    const { Machine } = await import('../../src/machine/index.js');
    const m = new Machine({ cpus: 1 });
    const pages = [m.page(m.memory.allocFrame('H')), m.page(m.memory.allocFrame('T1'))];
    const a = new RefLedger(pages, ['H', 'T1'], 'tail-and-head');
    const b = new RefLedger(pages, ['H', 'T1'], 'tail-and-head');
    a.busy.add('cpu0'); a.busy.add('cpu1'); a.noteFreed('T1 (by cpu1)'); a.noteFreed('H (by cpu0)');
    b.busy.add('cpu1'); b.busy.add('cpu0'); b.noteFreed('H (by cpu0)'); b.noteFreed('T1 (by cpu1)');
    expect(a.save()).toEqual(b.save());
    a.busy.delete('cpu1');
    expect(a.save()).not.toEqual(b.save());
  });
});
