// vmap (MODELS.md §3): every variant explored with DPOR to the end shows what it declares,
// with pinned execution counts; DFS counts where DFS finishes in seconds; DPOR and DFS reach
// the same final states on a holding configuration small enough for DFS.
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import { explore, resolveParams } from '../../src/index.js';
import vmap from '../../models/vmap.js';

/** DPOR executions per variant at the default parameters (slots 1, lazyMax 1, nextVmap 1, pat 0, vmRam 0). */
const DPOR: Record<string, number> = {
  fixed: 278,
  'highmem-only-unmap-aliases': 10,
  'no-unmap-aliases': 10,
  'reuse-before-flush': 73,
  'rfc-no-purge-lock': 31,
  'eager-clear': 278,
  'eager-clear-no-unmap-aliases': 10,
  'vb-full-block-skipped': 1, // forces vmRam 1: the first schedule (cpu0 runs to the end first) shows it
};

describe('vmap: every variant shows what it declares (DPOR, no bound)', () => {
  for (const v of vmap.variants) {
    it(`${v.name}: ${v.expect === 'holds' ? 'holds' : `violates ${v.expect.violates}`}`, () => {
      const r = explore(vmap, { variant: v.name, strategy: 'dpor' });
      expect(r.asExpected).toBe(true);
      if (v.expect === 'holds') {
        expect(r.verdict).toBe('holds');
      } else {
        expect(r.verdict).toBe('violated');
        expect(r.violation?.invariant).toBe(v.expect.violates);
      }
      expect(r.executions).toBe(DPOR[v.name]);
    });
  }
});

describe('vmap scenarios', () => {
  it('the original Xen code pins a lowmem page that still has its lazy RW vmalloc pte', () => {
    // Minimised story: cpu0 vunmaps and frees A before cpu1 allocates it (nextVmap 0: no purge by cpu0).
    const r = explore(vmap, { variant: 'highmem-only-unmap-aliases', params: { nextVmap: 0 } });
    expect(r.violation?.message).toBe('page-table page A is pinned but still writable: pte VM[0] maps 0x4000→A RW; cpu0 TLB 0x4000→A RW');
  });

  it('after 64141da58724 the pte alias is gone but the lazy TLB entry is still writable', () => {
    const r = explore(vmap, { variant: 'eager-clear-no-unmap-aliases', params: { nextVmap: 0 } });
    expect(r.violation?.message).toBe('page-table page A is pinned but still writable: cpu0 TLB 0x4000→A RW');
  });

  it('reuse and the concurrent purge need cpu0 to map a second buffer', () => {
    expect(explore(vmap, { variant: 'reuse-before-flush', params: { nextVmap: 0 } })).toMatchObject({ verdict: 'holds', executions: 29 });
    expect(explore(vmap, { variant: 'rfc-no-purge-lock', params: { nextVmap: 0 } })).toMatchObject({ verdict: 'holds', executions: 32 });
  });

  it('PAT: set_memory_uc without vm_unmap_aliases leaves a WB alias of a UC page', () => {
    const bad = explore(vmap, { variant: 'no-unmap-aliases', params: { pat: 1 } });
    expect(bad.violation?.invariant).toBe('no-cache-type-alias');
    // 35 before a flush of an empty TLB (cpu1's: it never loads or stores) only read its slots.
    expect(bad.executions).toBe(5);
    const good = explore(vmap, { variant: 'fixed', params: { pat: 1 } });
    expect(good).toMatchObject({ verdict: 'holds', executions: 62 }); // 274 while an empty TLB's flush wrote tlb:<cpu>
  });

  it('PAT: the reuse race is there too — iterative preemption bounding finds it', () => {
    const r = explore(vmap, { variant: 'reuse-before-flush', params: { pat: 1 }, strategy: 'bounded' });
    expect(r.violation?.invariant).toBe('no-reuse-before-flush');
    expect(r.executions).toBe(71);
  });

  // DPOR once missed this (a write ordered after a read only through a lock release/acquire
  // pair); pinned so the miss cannot come back. Reproducer: test/engine/known-answers.test.ts.
  it('PAT: DPOR finds the reuse race too', () => {
    const r = explore(vmap, { variant: 'reuse-before-flush', params: { pat: 1 } });
    expect(r.violation?.invariant).toBe('no-reuse-before-flush');
    expect(r.executions).toBe(55); // 241 while an empty TLB's flush wrote tlb:<cpu>
  });

  it('with lazy_max_pages 0 every vunmap purges at once: even no-unmap-aliases holds', () => {
    const r = explore(vmap, { variant: 'no-unmap-aliases', params: { nextVmap: 0, lazyMax: 0 } });
    expect(r).toMatchObject({ verdict: 'holds', executions: 14 });
  });
});

describe('vmap: the vmap_block front end (vmRam 1: vm_map_ram / vm_unmap_ram)', () => {
  it('vm_unmap_aliases skips the full block: its dirty range keeps the RW alias of A', () => {
    const r = explore(vmap, { variant: 'vb-full-block-skipped' });
    expect(r.violation?.message).toBe(
      'vm_unmap_aliases returned on cpu1 but a page vunmapped before the call is still mapped: pte VB[0] maps 0x8000→A RW; cpu0 TLB 0x8000→A RW',
    );
  });

  it('the block must be full: without the second buffer it stays on vbq->free and the gap holds', () => {
    expect(explore(vmap, { variant: 'vb-full-block-skipped', params: { nextVmap: 0 } })).toMatchObject({ verdict: 'holds', executions: 15 });
  });

  it('walking every vmap_block (fc1e0d980037) holds, with and without eager pte clearing, and for CPA', () => {
    expect(explore(vmap, { variant: 'fixed', params: { vmRam: 1 } })).toMatchObject({ verdict: 'holds', executions: 102 });
    expect(explore(vmap, { variant: 'eager-clear', params: { vmRam: 1 } })).toMatchObject({ verdict: 'holds', executions: 93 });
    // 81 while an empty TLB's flush wrote tlb:<cpu>
    expect(explore(vmap, { variant: 'fixed', params: { vmRam: 1, pat: 1 } })).toMatchObject({ verdict: 'holds', executions: 29 });
  });

  it('without vm_unmap_aliases the lazy vm_unmap_ram alias reaches the pin', () => {
    const r = explore(vmap, { variant: 'no-unmap-aliases', params: { vmRam: 1 } });
    expect(r.violation?.message).toBe('page-table page A is pinned but still writable: pte VB[0] maps 0x8000→A RW; cpu0 TLB 0x8000→A RW');
    const e = explore(vmap, { variant: 'eager-clear-no-unmap-aliases', params: { vmRam: 1 } });
    expect(e.violation?.message).toBe('page-table page A is pinned but still writable: cpu0 TLB 0x8000→A RW');
  });

  it('DFS finds the full-block gap too', () => {
    expect(explore(vmap, { variant: 'vb-full-block-skipped', strategy: 'dfs' })).toMatchObject({ verdict: 'violated', executions: 1 });
  });
});

describe('vmap: DFS', () => {
  it('DFS finds the pinned-alias bugs too (pinned counts)', () => {
    for (const v of ['highmem-only-unmap-aliases', 'no-unmap-aliases', 'eager-clear-no-unmap-aliases']) {
      const r = explore(vmap, { variant: v, strategy: 'dfs' });
      expect(r.violation?.invariant, v).toBe('no-stale-alias-on-pinned-pagetable');
      // 364 before make_lowmem_page_readonly's read of the pte became its own step (it was read
      // between steps, which the access audit rejects): DFS interleaves that step too.
      expect(r.executions, v).toBe(1365);
    }
  });

  it('DPOR and DFS reach the same final states (no-unmap-aliases, lazyMax 0, nextVmap 0: holds)', () => {
    const params = resolveParams(vmap, { nextVmap: 0, lazyMax: 0 });
    const make = () => vmap.build('no-unmap-aliases', params);
    const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true });
    const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true });
    expect(dfs).toMatchObject({ verdict: 'holds', executions: 552 });
    expect(dpor).toMatchObject({ verdict: 'holds', executions: 14 });
    expect(dpor.finalStates).toEqual(dfs.finalStates);
  });
});
