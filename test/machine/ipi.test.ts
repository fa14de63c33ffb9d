import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program } from '../../src/engine/types.js';
import { Machine, PAGE_KERNEL, PAGE_KERNEL_RO, pfn, pfn_pte, physAddr, pmd_populate, set_pte, spin_lock, spin_lock_irqsave, spin_unlock, spin_unlock_irqrestore, va } from '../../src/machine/index.js';
import { Runner } from './runner.js';

function twoCpus() {
  const m = new Machine({ cpus: 2 });
  const O = m.memory.allocFrame('O');
  const P = m.memory.allocFrame('P');
  m.init_mm.populate(va(0), O);
  m.init_mm.mapPage(va(0), P, PAGE_KERNEL);
  return m;
}

describe('IPI delivery', () => {
  it('stays pending while the target has interrupts off, and is delivered after it enables them', () => {
    const m = twoCpus();
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { yield* c0.flush_tlb_all(); } },
      { name: 'cpu1', body: function* () {
        yield* c1.load(va(0));
        yield* c1.local_irq_disable();
        yield* c1.load(va(0));
        yield* c1.local_irq_enable();
      } },
      ...m.actors(),
    ], invariants: [] });
    r.steps('cpu1', 3); // load (fills the TLB), irq off
    expect(r.step('cpu0').note).toBe('IPI → cpu1');
    r.step('cpu0'); // local flush
    expect(r.enabled('cpu0')).toBe(false); // waiting for cpu1's ack
    expect(r.enabled('ipi→cpu1')).toBe(false); // interrupts off
    expect(c1.ipiPending).toHaveLength(1);
    r.steps('cpu1', 2); // the load still hits the (about to be flushed) entry
    expect(r.log.at(-2)!.note).toMatch(/^TLB hit/);
    expect(r.enabled('ipi→cpu1')).toBe(false);
    r.step('cpu1'); // local_irq_enable
    expect(r.log.at(-1)!.note).toBe('interrupts on (IPI pending)');
    expect(r.enabled('ipi→cpu1')).toBe(true);
    expect(r.step('ipi→cpu1').note).toBe('flush_tlb_all from cpu0: dropped 4K 0x0→P RW D NX from O[0]');
    expect(r.enabled('cpu0')).toBe(true);
    expect(r.step('cpu0').note).toBe('all acks in');
    expect(c1.tlb.entries()).toEqual([]);
  });

  it('is not delivered inside an instruction', () => {
    const m = twoCpus();
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { yield* c0.flush_tlb_kernel_range(va(0), m.geo.addr(1)); } },
      { name: 'cpu1', body: function* () { yield* c1.store(va(0), 5); } },
      ...m.actors(),
    ], invariants: [] });
    r.step('cpu1'); // translate: inside the store
    r.step('cpu0'); // post
    expect(r.enabled('ipi→cpu1')).toBe(false);
    r.step('cpu1'); // data write ends the instruction
    expect(r.enabled('ipi→cpu1')).toBe(true);
    expect(r.step('ipi→cpu1').footprint.filter((a) => a.write).map((a) => a.loc)).toContain('tlb:1:0x0');
  });

  it('interrupts-off spin on a lock while another CPU waits for its ack: the engine reports deadlock', () => {
    const make = (irqsave: boolean) => (): Program => {
      const m = twoCpus();
      const [c0, c1] = [m.cpu(0), m.cpu(1)];
      const pgd_lock = m.spinlock('pgd_lock');
      return {
        threads: [
          { name: 'cpu0', body: function* () {
            yield* spin_lock(pgd_lock);
            yield* c0.flush_tlb_all();
            yield* spin_unlock(pgd_lock);
          } },
          { name: 'cpu1', body: function* () {
            if (irqsave) {
              const flags = yield* spin_lock_irqsave(c1, pgd_lock);
              yield* spin_unlock_irqrestore(c1, pgd_lock, flags);
            } else {
              yield* spin_lock(pgd_lock);
              yield* spin_unlock(pgd_lock);
            }
          } },
          ...m.actors(),
        ],
        invariants: [],
        finalState: () => m.finalState(),
      };
    };
    for (const strategy of ['dfs', 'dpor'] as const) {
      const bad = exploreProgram(make(true), { strategy });
      expect(bad.verdict).toBe('violated');
      expect(bad.violation!.kind).toBe('deadlock');
      expect(bad.violation!.message).toContain('cpu0 at "flush_tlb_all: wait for acks"');
      expect(bad.violation!.message).toContain('cpu1 at "spin_lock(pgd_lock)"');
      expect(bad.violation!.schedule.length).toBeGreaterThan(0);
      const good = exploreProgram(make(false), { strategy });
      expect(good.verdict).toBe('holds');
    }
  });
});

describe('TLB', () => {
  it('a stale 2M entry and a fresh 4K entry for one address coexist until a flush', () => {
    const m = new Machine({ cpus: 2, speculation: { vas: [va(0)], fills: 1, cpus: [0] } });
    const D = m.memory.allocFrame('D');
    m.init_mm.mapLarge(va(0), D, PAGE_KERNEL); // direct map: one large page
    const S = m.memory.allocFrame('S');
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () {
        yield* c0.load(va(0)); // 2M entry from pgd[0]
        yield* c0.local_irq_enable();
      } },
      { name: 'splitter', body: function* () {
        // split_large_page without the flush: install a pte page, page 0 read-only
        for (let i = 0; i < 4; i++) yield* set_pte(m.memory.word(physAddr(S, i)), pfn_pte(pfn(D + i), i === 0 ? PAGE_KERNEL_RO : PAGE_KERNEL));
        yield* pmd_populate(m.init_mm.pmdp(va(0)), S);
        yield* c1.flush_tlb_all();
      } },
      ...m.actors(),
    ], invariants: [] });
    r.steps('cpu0', 2);
    r.until('splitter', 'flush_tlb_all');
    expect(r.step('spec-fill:cpu0:0x0').note).toBe('walk: 4K entry from S[0] (D RO A NX)');
    const both = c0.tlb.translations(va(0));
    expect(both.map((e) => [e.size, e.rw])).toEqual([['4K', false], ['2M', true]]);
    expect(m.translations(va(0))).toHaveLength(2);
    expect(m.snapshot().cpus[0]!.tlb).toEqual(['4K 0x0→D RO from S[0]', '2M 0x0→D RW D from pgd[0]']);
    r.steps('splitter', 2); // post IPI, local flush
    r.step('ipi→cpu0');
    r.finish('splitter');
    expect(c0.tlb.translations(va(0))).toEqual([]);
  });
});

