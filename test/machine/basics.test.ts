import { describe, expect, it } from 'vitest';
import {
  Machine, PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_SHARED, PAGE_SIZE, Var, _PAGE_ACCESSED, _PAGE_DIRTY,
  atomic_dec_and_test, atomic_inc, cmpxchg, describePte, get_page_unless_zero, mutex_lock, pfn, pfn_pte,
  physAddr, pmd_large, pte_cachetype, pte_dirty, pte_mkclean, pte_mkdirty, pte_pfn, pte_present,
  pte_set_cachetype, pte_write, pte_wrprotect, pte_young, spin_lock, spin_trylock, spin_unlock,
  test_and_set_bit, va, xchg, ptep_test_and_clear_dirty, ptep_get_and_clear, compound_lock, compound_unlock,
  PG_compound_lock, PG_tail, PageTail,
} from '../../src/machine/index.js';
import { Runner } from './runner.js';

describe('pte encoding', () => {
  it('round-trips pfn and flags, and the kernel helpers flip one bit each', () => {
    const e = pfn_pte(pfn(5), PAGE_SHARED);
    expect(pte_pfn(e)).toBe(5);
    expect(pte_present(e) && pte_write(e) && pte_young(e)).toBe(true);
    expect(pte_dirty(e)).toBe(false);
    const d = pte_mkdirty(e);
    expect(pte_dirty(d)).toBe(true);
    expect(pte_pfn(d)).toBe(5);
    expect(pte_mkclean(d)).toBe(e);
    expect(pte_write(pte_wrprotect(e))).toBe(false);
    expect(pte_cachetype(e)).toBe('WB');
    expect(pte_cachetype(pte_set_cachetype(e, 'UC'))).toBe('UC');
    expect(pte_cachetype(pte_set_cachetype(e, 'WC'))).toBe('WC');
    expect(pte_pfn(pte_set_cachetype(e, 'UC'))).toBe(5);
    expect(describePte(d)).toBe('pfn 5 RW A D NX');
    expect(describePte(pfn_pte(pfn(2), PAGE_KERNEL_RO))).toBe('pfn 2 RO A NX');
    expect(pte_dirty(pfn_pte(pfn(1), PAGE_KERNEL))).toBe(true);
  });
});

describe('physical memory', () => {
  it('allocates the lowest free frame first, deterministically, and reuses freed frames', () => {
    const m = new Machine({ cpus: 1, frames: 6 });
    expect(m.memory.allocFrame('A')).toBe(1); // frame 0 is init_mm's pmd page
    expect(m.memory.allocFrame('B')).toBe(2);
    const prog = {
      threads: [{
        name: 't',
        body: function* () {
          yield* m.memory.free_page(pfn(1));
          const x = yield* m.memory.get_zeroed_page('X');
          const y = yield* m.memory.alloc_page('Y');
          expect([x, y]).toEqual([1, 3]);
        },
      }],
      invariants: [],
    };
    const r = new Runner(prog);
    r.finish('t');
    expect(m.memory.frameName(pfn(1))).toBe('X');
    expect(r.log[1]!.note).toBe('got pfn 1 = X');
  });

  it('records a store into a freed frame', () => {
    const m = new Machine({ cpus: 1 });
    const f = m.memory.allocFrame('O');
    const r = new Runner({
      threads: [{ name: 't', body: function* () {
        yield* m.memory.free_page(f);
        yield* atomic_inc(m.memory.word(physAddr(f, 2)));
      } }],
      invariants: [],
    });
    r.finish('t');
    expect(m.memory.writesToFreedFrames).toHaveLength(1);
    expect(m.memory.describe(m.memory.writesToFreedFrames[0]!.pa)).toBe('O[2]');
  });

  it('tracks WB lines per frame and clflush/wbinvd clear them', () => {
    const m = new Machine({ cpus: 1, trackCaches: true });
    const p = m.memory.allocFrame('P');
    m.init_mm.mapPage(va(0), p, PAGE_KERNEL);
    const cpu = m.cpu(0);
    const r = new Runner({ threads: [{ name: 'c', body: function* () {
      yield* cpu.load(va(0));
      expect(m.memory.isCachedWB(p)).toBe(true);
      yield* m.memory.clflush(p);
      expect(m.memory.isCachedWB(p)).toBe(false);
      yield* cpu.load(va(0));
      yield* m.memory.wbinvd();
    } }], invariants: [] });
    r.finish('c');
    expect(m.memory.isCachedWB(p)).toBe(false);
  });
});

describe('atomics and locks', () => {
  it('atomics are one step each and return what the kernel returns', () => {
    const v = new Var('x', 1);
    const r = new Runner({ threads: [{ name: 't', body: function* () {
      expect(yield* cmpxchg(v, 1, 5)).toBe(1);
      expect(yield* cmpxchg(v, 1, 7)).toBe(5);
      expect(yield* xchg(v, 1)).toBe(5);
      expect(yield* atomic_dec_and_test(v)).toBe(true);
      expect(yield* test_and_set_bit(3, v)).toBe(false);
      expect(yield* test_and_set_bit(3, v)).toBe(true);
    } }], invariants: [] });
    const ran = r.finish('t');
    expect(ran).toHaveLength(6);
    expect(ran.every((s) => s.footprint.length === 2 && s.footprint.some((a) => a.write && a.loc === 'var:x'))).toBe(true);
    expect(v.get()).toBe(8);
  });

  it('a taken spinlock disables the other acquirer; trylock is always enabled', () => {
    const m = new Machine({ cpus: 2 });
    const l = m.spinlock('pgd_lock');
    const r = new Runner({ threads: [
      { name: 'a', body: function* () { yield* spin_lock(l); yield* spin_unlock(l); } },
      { name: 'b', body: function* () { expect(yield* spin_trylock(l)).toBe(false); yield* spin_lock(l); } },
    ], invariants: [] });
    r.step('a');
    expect(r.enabled('b')).toBe(true);
    r.step('b'); // trylock fails
    expect(r.enabled('b')).toBe(false);
    r.step('a');
    expect(r.enabled('b')).toBe(true);
    r.step('b');
    expect(l.held).toBe(true);
    expect(r.log[0]!.footprint).toEqual([{ loc: 'lock:pgd_lock', write: true }]);
    expect(m.mutex('module_mutex')).toBe(m.mutex('module_mutex'));
    expect(() => m.mutex('pgd_lock')).toThrow(/spinlock/);
    void mutex_lock;
  });
});

describe('struct page', () => {
  it('compound pages, compound_lock and get_page_unless_zero', () => {
    const m = new Machine({ cpus: 1 });
    const h = m.memory.allocFrame('H');
    m.memory.allocFrame('T1');
    m.pages.prep_compound_page(h, 2);
    const head = m.page(h);
    const tail = m.page(pfn(h + 1));
    head._count.set(1);
    const r = new Runner({ threads: [
      { name: 'a', body: function* () {
        expect(yield* PageTail(tail)).toBe(true);
        yield* compound_lock(head);
        expect(yield* get_page_unless_zero(tail)).toBe(false);
        expect(yield* get_page_unless_zero(head)).toBe(true);
        yield* compound_unlock(head);
      } },
      { name: 'b', body: function* () { yield* compound_lock(head); } },
    ], invariants: [] });
    r.steps('a', 2);
    expect(head.hasFlag(PG_compound_lock)).toBe(true);
    expect(r.enabled('b')).toBe(false);
    r.finish('a');
    expect(r.enabled('b')).toBe(true);
    expect(head._count.get()).toBe(2);
    expect(tail.first_page.get()).toBe(h);
    expect(tail.hasFlag(PG_tail)).toBe(true);
    expect(m.snapshot().pages['T1']).toEqual({ count: 0, mapcount: -1, flags: ['tail'], first_page: h });
  });
});

describe('pte steps', () => {
  it('ptep_test_and_clear_dirty and ptep_get_and_clear are single RMW steps on the entry word', () => {
    const m = new Machine({ cpus: 1 });
    const o = m.memory.allocFrame('O');
    const p = m.memory.allocFrame('P');
    m.init_mm.populate(va(0), o);
    const ptep = m.init_mm.mapPage(va(0), p, PAGE_KERNEL);
    const r = new Runner({ threads: [{ name: 't', body: function* () {
      expect(yield* ptep_test_and_clear_dirty(ptep)).toBe(true);
      expect(yield* ptep_test_and_clear_dirty(ptep)).toBe(false);
      const old = yield* ptep_get_and_clear(ptep);
      expect(pte_pfn(old)).toBe(p);
    } }], invariants: [] });
    const ran = r.finish('t');
    expect(ran[0]!.label).toBe('ptep_test_and_clear_dirty O[0]');
    expect(ran[0]!.note).toBe('O[0]: P RW A D NX → P RW A NX');
    expect(ran[2]!.footprint.map((a) => a.loc)).toEqual(['mem:1:0', 'mem:1:0', 'frame:1']);
    expect(ptep.get()).toBe(0);
    expect((PAGE_KERNEL & (_PAGE_ACCESSED | _PAGE_DIRTY)) !== 0).toBe(true);
    expect(PAGE_SIZE).toBe(4096);
  });

  it('lookup_address returns the kpte and its level', () => {
    const m = new Machine({ cpus: 1 });
    const big = m.memory.allocFrame('D0');
    m.init_mm.mapLarge(va(0), big, PAGE_KERNEL);
    const o = m.memory.allocFrame('O');
    m.init_mm.populate(m.geo.addr(1), o);
    m.init_mm.mapPage(m.geo.addr(1, 2), big, PAGE_KERNEL);
    const r = new Runner({ threads: [{ name: 't', body: function* () {
      const a = yield* m.init_mm.lookup_address(m.geo.addr(0, 3));
      expect(a?.level).toBe('2M');
      expect(pmd_large(a!.pte)).toBe(true);
      const b = yield* m.init_mm.lookup_address(m.geo.addr(1, 2));
      expect(b?.level).toBe('4K');
      expect(b?.kpte.name).toBe('O[2]');
      expect(yield* m.init_mm.lookup_address(m.geo.addr(2))).toBeNull();
    } }], invariants: [] });
    const ran = r.finish('t');
    expect(ran[0]!.footprint.map((a) => a.loc)).toEqual(['mem:0:0']);
    expect(ran[1]!.footprint.map((a) => a.loc)).toEqual(['mem:0:1', 'mem:2:2']);
  });
});
