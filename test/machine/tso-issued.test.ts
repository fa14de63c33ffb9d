// The machine's software operations issued by a CPU (`set_pte(cpu, ptep, v)`, `atomic_inc(cpu, c)`,
// `spin_lock(cpu, l)`, …): on SC exactly the steps they are without one; on TSO plain stores are
// buffered, plain loads forward, locked read-modify-writes wait for the buffer (tso/ops.ts).
import { describe, expect, it } from 'vitest';
import type { Step, ThreadBody } from '../../src/engine/types.js';
import {
  type Cpu,
  type Lock,
  Machine,
  type MemoryModel,
  PAGE_KERNEL,
  PAGE_KERNEL_RO,
  type Pfn,
  type PtePtr,
  type Var,
  atomic_add_unless,
  atomic_dec_and_test,
  atomic_inc,
  atomic_read,
  atomic_set,
  bit_spin_lock,
  bit_spin_unlock,
  clear_bit,
  cmpxchg,
  compound_head,
  get_page,
  mutex_lock,
  mutex_unlock,
  pfn_pte,
  pmd_populate,
  pte_clear,
  ptep_get,
  ptep_get_and_clear,
  ptep_test_and_clear_dirty,
  set_bit,
  set_pte,
  set_pte_atomic,
  spin_lock,
  spin_trylock,
  spin_unlock,
  test_and_set_bit,
  test_bit,
  tso,
  type Page,
  va,
  xchg,
} from '../../src/machine/index.js';
import { Runner } from './runner.js';

interface World {
  readonly m: Machine;
  /** The data frame P[0] maps. */
  readonly D: Pfn;
  readonly ptep: PtePtr;
  readonly pmdp: PtePtr;
  readonly v: Var;
  readonly l: Lock;
  readonly mu: Lock;
  readonly page: Page;
  readonly tail: Page;
}
/** One mapped page (pte P[0] → D), a model variable, a spinlock, a mutex, a compound page. */
function world(model: MemoryModel, cpus = 2): World {
  const m = new Machine({ cpus, memoryModel: model });
  const D = m.memory.allocFrame('D', 'data');
  const ptep = m.init_mm.mapPage(va(0), D, PAGE_KERNEL, 'P');
  const H = m.memory.allocFrame('H', 'data');
  m.memory.allocFrame('T', 'data');
  m.pages.prep_compound_page(H, 2);
  return { m, D, ptep, pmdp: m.init_mm.pmdp(va(0)), v: m.var('v', 3), l: m.spinlock('L'), mu: m.mutex('M'), page: m.page(H), tail: m.page((H + 1) as typeof H) };
}

type AnyOp = Generator<Step, unknown, unknown>;

/** Every operation, without a CPU (`cpu` undefined) and with one. */
function* every(w: World, cpu: Cpu | undefined): ThreadBody {
  const c = (withCpu: (cpu: Cpu) => AnyOp, without: () => AnyOp): AnyOp => (cpu === undefined ? without() : withCpu(cpu));
  const e = pfn_pte(w.D, PAGE_KERNEL_RO);
  yield* c((x) => set_pte(x, w.ptep, e), () => set_pte(w.ptep, e));
  yield* c((x) => ptep_get(x, w.ptep), () => ptep_get(w.ptep));
  yield* c((x) => set_pte_atomic(x, w.ptep, e), () => set_pte_atomic(w.ptep, e));
  yield* c((x) => ptep_test_and_clear_dirty(x, w.ptep), () => ptep_test_and_clear_dirty(w.ptep));
  yield* c((x) => ptep_get_and_clear(x, w.ptep), () => ptep_get_and_clear(w.ptep));
  yield* c((x) => pte_clear(x, w.ptep), () => pte_clear(w.ptep));
  yield* c((x) => pmd_populate(x, w.pmdp, w.page.pfn), () => pmd_populate(w.pmdp, w.page.pfn));
  yield* c((x) => atomic_inc(x, w.v), () => atomic_inc(w.v));
  yield* c((x) => atomic_read(x, w.v), () => atomic_read(w.v));
  yield* c((x) => atomic_set(x, w.v, 9), () => atomic_set(w.v, 9));
  yield* c((x) => atomic_add_unless(x, w.v, 1, 0), () => atomic_add_unless(w.v, 1, 0));
  yield* c((x) => atomic_dec_and_test(x, w.v), () => atomic_dec_and_test(w.v));
  yield* c((x) => cmpxchg(x, w.v, 9, 4), () => cmpxchg(w.v, 9, 4));
  yield* c((x) => xchg(x, w.v, 5), () => xchg(w.v, 5));
  yield* c((x) => test_and_set_bit(x, 2, w.v), () => test_and_set_bit(2, w.v));
  yield* c((x) => set_bit(x, 3, w.v), () => set_bit(3, w.v));
  yield* c((x) => clear_bit(x, 3, w.v), () => clear_bit(3, w.v));
  yield* c((x) => test_bit(x, 2, w.v), () => test_bit(2, w.v));
  yield* c((x) => spin_lock(x, w.l, 'me'), () => spin_lock(w.l, 'me'));
  yield* c((x) => spin_unlock(x, w.l), () => spin_unlock(w.l));
  yield* c((x) => spin_trylock(x, w.l, 'me'), () => spin_trylock(w.l, 'me'));
  yield* c((x) => spin_unlock(x, w.l), () => spin_unlock(w.l));
  yield* c((x) => mutex_lock(x, w.mu, 'me'), () => mutex_lock(w.mu, 'me'));
  yield* c((x) => mutex_unlock(x, w.mu), () => mutex_unlock(w.mu));
  yield* c((x) => bit_spin_lock(x, 0, w.page.flags), () => bit_spin_lock(0, w.page.flags));
  yield* c((x) => bit_spin_unlock(x, 0, w.page.flags), () => bit_spin_unlock(0, w.page.flags));
  yield* c((x) => get_page(x, w.page), () => get_page(w.page));
  yield* c((x) => compound_head(x, w.tail, w.m.pages), () => compound_head(w.tail, w.m.pages));
  yield* c((x) => w.m.init_mm.lookup_address(x, va(0)), () => w.m.init_mm.lookup_address(va(0)));
  const mem = w.m.memory;
  const N = (yield* c((x) => mem.alloc_page(x, 'N', 'pte'), () => mem.alloc_page('N', 'pte'))) as Pfn;
  yield* c((x) => mem.clflush(x, N), () => mem.clflush(N));
  yield* c((x) => mem.free_page(x, N), () => mem.free_page(N));
  const Z = (yield* c((x) => mem.get_zeroed_page(x), () => mem.get_zeroed_page())) as Pfn;
  yield* c((x) => mem.__free_page(x, Z), () => mem.__free_page(Z));
  yield* c((x) => mem.wbinvd(x), () => mem.wbinvd());
}

const describeRun = (r: Runner) => r.log.map((s) => ({ label: s.label, note: s.note, fp: s.footprint.map((a) => `${a.write ? 'w' : 'r'} ${a.loc}`), result: JSON.stringify(s.result) }));

describe('on SC a CPU changes nothing', () => {
  it('every operation issued by a CPU is the step it is without one: label, note, footprint, result, effect', () => {
    const a = world('sc');
    const b = world('sc');
    const ra = new Runner({ threads: [{ name: 'P0', body: () => every(a, undefined) }], invariants: [] });
    const rb = new Runner({ threads: [{ name: 'P0', body: () => every(b, b.m.cpu(0)) }], invariants: [] });
    ra.finish('P0');
    rb.finish('P0');
    expect(describeRun(rb)).toEqual(describeRun(ra));
    expect(rb.log.length).toBeGreaterThan(25);
    expect(b.m.save()).toEqual(a.m.save());
  });
  it('on TSO, an operation without a CPU is the SC step too (it acts on memory at once)', () => {
    const a = world('sc');
    const b = world('tso');
    const ra = new Runner({ threads: [{ name: 'P0', body: () => every(a, undefined) }], invariants: [] });
    const rb = new Runner({ threads: [{ name: 'P0', body: () => every(b, undefined) }, ...b.m.actors()], invariants: [] });
    ra.finish('P0');
    rb.finish('P0');
    expect(describeRun(rb)).toEqual(describeRun(ra));
    expect(b.m.snapshot().cpus[0]!.storeBuffer).toEqual([]);
  });
});

describe('on TSO a CPU\'s plain stores are buffered', () => {
  it('set_pte(cpu, …) waits in the buffer: another CPU\'s walk still sees the old entry; the CPU\'s own ptep_get forwards it', () => {
    const w = world('tso');
    const got: number[] = [];
    const ro = pfn_pte(w.D, PAGE_KERNEL_RO);
    const r = new Runner({ threads: [
      { name: 'P0', body: function* () { yield* set_pte(w.m.cpu(0), w.ptep, ro); got.push(yield* ptep_get(w.m.cpu(0), w.ptep)); } },
      { name: 'P1', body: function* () { const s = yield* w.m.cpu(1).store(va(0), 1); got.push(s.ok ? 1 : 0); } },
      ...w.m.actors(),
    ], invariants: [] });
    const [st, ld] = r.finish('P0');
    expect(st!.label).toBe('set_pte P[0] := D RO A NX');
    expect(st!.note).toMatch(/buffered$/);
    expect(ld!.note).toMatch(/from the store buffer/);
    expect(got[0]).toBe(ro);
    expect(w.ptep.get()).not.toBe(ro); // memory still has the RW entry
    r.finish('P1');
    expect(got[1]).toBe(1); // cpu1 wrote through the RW entry in memory
    r.step('sb→cpu0');
    expect(w.ptep.get()).toBe(ro);
  });
  it('atomic_set on a struct page field drains into the field', () => {
    const w = world('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* atomic_set(w.m.cpu(0), w.page._count, 7); } }, ...w.m.actors()], invariants: [] });
    r.finish('P0');
    expect(w.page._count.get()).toBe(0);
    r.step('sb→cpu0');
    expect(w.page._count.get()).toBe(7);
  });
  it('pmd_populate(cpu, …) marks the frame a pte page at once and buffers the pmd', () => {
    const w = world('tso');
    const T = w.m.memory.allocFrame('N');
    const before = w.pmdp.get();
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* pmd_populate(w.m.cpu(0), w.pmdp, T); } }, ...w.m.actors()], invariants: [] });
    r.finish('P0');
    expect(w.m.memory.role(T)).toBe('pte');
    expect(w.pmdp.get()).toBe(before);
    r.step('sb→cpu0');
    expect(w.pmdp.get()).not.toBe(before);
  });
  it('spin_unlock(cpu, l) is a buffered store: another CPU\'s spin_lock waits until it drains', () => {
    const w = world('tso');
    const r = new Runner({ threads: [
      { name: 'P0', body: function* () { yield* spin_lock(w.m.cpu(0), w.l); yield* spin_unlock(w.m.cpu(0), w.l); } },
      { name: 'P1', body: function* () { yield* spin_lock(w.m.cpu(1), w.l); } },
      ...w.m.actors(),
    ], invariants: [] });
    r.finish('P0');
    expect(r.enabled('P1')).toBe(false);
    r.step('sb→cpu0');
    expect(r.enabled('P1')).toBe(true);
    expect(r.step('P1').note).toBe('L taken by cpu1');
  });
  it('lookup_address(cpu, va) reads the CPU\'s own buffered entry', () => {
    const w = world('tso');
    let seen = -1;
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      yield* pte_clear(w.m.cpu(0), w.ptep);
      const l = yield* w.m.init_mm.lookup_address(w.m.cpu(0), va(0));
      seen = l === null ? -2 : l.pte;
    } }, ...w.m.actors()], invariants: [] });
    const [, look] = r.finish('P0');
    expect(seen).toBe(0);
    expect(look!.footprint.map((a) => a.loc)).toContain(`sb:0:${w.ptep.loc}`);
    expect(w.ptep.get()).not.toBe(0);
  });
});

describe('on TSO a CPU\'s locked operations wait for its buffer', () => {
  const locked: [string, (w: World, cpu: Cpu) => AnyOp][] = [
    ['atomic_inc', (w, cpu) => atomic_inc(cpu, w.v)],
    ['xchg', (w, cpu) => xchg(cpu, w.v, 1)],
    ['cmpxchg', (w, cpu) => cmpxchg(cpu, w.v, 3, 1)],
    ['test_and_set_bit', (w, cpu) => test_and_set_bit(cpu, 1, w.v)],
    ['set_bit', (w, cpu) => set_bit(cpu, 1, w.v)],
    ['ptep_get_and_clear', (w, cpu) => ptep_get_and_clear(cpu, w.ptep)],
    ['spin_lock', (w, cpu) => spin_lock(cpu, w.l)],
    ['mutex_lock', (w, cpu) => mutex_lock(cpu, w.mu)],
    ['bit_spin_lock', (w, cpu) => bit_spin_lock(cpu, 0, w.page.flags)],
    // The page allocator's lock (zone->lock, pcp->lock) and __free_pages' put_page_testzero
    // (`lock decl`) are locked; WBINVD is serialising (SDM vol. 3A §8.3).
    ['alloc_page', (w, cpu) => w.m.memory.alloc_page(cpu, 'N')],
    ['get_zeroed_page', (w, cpu) => w.m.memory.get_zeroed_page(cpu)],
    ['free_page', (w, cpu) => w.m.memory.free_page(cpu, w.D)],
    ['wbinvd', (w, cpu) => w.m.memory.wbinvd(cpu)],
  ];
  for (const [name, op] of locked) {
    it(`${name} is disabled while the buffer holds a store, then acts on memory`, () => {
      const w = world('tso');
      const other = w.m.var('other');
      const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* atomic_set(w.m.cpu(0), other, 1); yield* op(w, w.m.cpu(0)); } }, ...w.m.actors()], invariants: [] });
      r.step('P0');
      expect(r.enabled('P0')).toBe(false);
      expect(r.pending('P0')!.footprint).toBeDefined();
      r.step('sb→cpu0');
      expect(other.get()).toBe(1);
      expect(r.enabled('P0')).toBe(true);
      r.finish('P0');
      expect(w.m.snapshot().cpus[0]!.storeBuffer).toEqual([]);
    });
  }
  it('mutex_unlock is locked too (a cmpxchg release): it waits, and then the mutex is free in memory', () => {
    const w = world('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      const cpu = w.m.cpu(0);
      yield* mutex_lock(cpu, w.mu);
      yield* atomic_set(cpu, w.v, 1);
      yield* mutex_unlock(cpu, w.mu);
    } }, ...w.m.actors()], invariants: [] });
    r.steps('P0', 2);
    expect(r.enabled('P0')).toBe(false);
    r.step('sb→cpu0');
    r.finish('P0');
    expect(w.mu.held).toBe(false);
  });
});

describe('on TSO a clflush is ordered like a store (SDM vol. 2A CLFLUSH, vol. 3A §8.2.2)', () => {
  it('clflush(cpu, f) waits in the buffer behind the CPU\'s older stores; later loads pass it; mfence waits for it', () => {
    const w = world('tso');
    const other = w.m.var('other');
    w.m.memory.setCachedWB(w.D, true);
    let seen = -1;
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      const cpu = w.m.cpu(0);
      yield* atomic_set(cpu, other, 1);
      yield* w.m.memory.clflush(cpu, w.D);
      seen = yield* atomic_read(cpu, w.v); // a later load does not wait for the flush
      yield* tso.mfence(cpu);
    } }, ...w.m.actors()], invariants: [] });
    const [, fl, ld] = r.steps('P0', 3);
    expect(fl!.label).toBe('clflush D');
    expect(fl!.note).toMatch(/buffered$/);
    expect(fl!.footprint.map((a) => a.loc)).toContain(`sb:0:cache:${w.D}`);
    expect(ld!.label).toBe('read v');
    expect(seen).toBe(3);
    expect(w.m.memory.isCachedWB(w.D)).toBe(true);
    expect(r.enabled('P0')).toBe(false); // the mfence waits for the store and the flush
    r.step('sb→cpu0');
    expect(other.get()).toBe(1);
    expect(w.m.memory.isCachedWB(w.D)).toBe(true); // the older store drains first
    r.step('sb→cpu0');
    expect(w.m.memory.isCachedWB(w.D)).toBe(false);
    r.finish('P0');
  });
});
