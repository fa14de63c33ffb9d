import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program } from '../../src/engine/types.js';
import {
  Machine, PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_SHARED, type Pfn, pfn_pte, physAddr, pte_dirty,
  pte_t, ptep_get, set_pmd, set_pte, va, _PAGE_TABLE, pte_clear, op, programState, stableStep,
} from '../../src/machine/index.js';
import { Runner, touched, writes } from './runner.js';

/** One mm: pmd[0] → pte page O; O[0] maps data page P (writable, D clear). */
function migrationSetup(cpus = 2) {
  const m = new Machine({ cpus });
  const O = m.memory.allocFrame('O');
  const P = m.memory.allocFrame('P');
  m.init_mm.populate(va(0), O);
  const oPte = m.init_mm.mapPage(va(0), P, PAGE_SHARED);
  const N = m.memory.allocFrame('N');
  const nPte = m.memory.word(physAddr(N, 0));
  return { m, O, P, N, oPte, nPte, pmdp: m.init_mm.pmdp(va(0)) };
}

/** Copy O[0] to N[0] and switch the pmd to N (no flush unless asked). */
function* migrate(s: ReturnType<typeof migrationSetup>, flush: boolean) {
  const v = yield* ptep_get(s.oPte);
  yield* set_pte(s.nPte, v);
  yield* set_pmd(s.pmdp, pfn_pte(s.N, _PAGE_TABLE));
  if (flush) yield* s.m.cpu(1).flush_tlb_all();
}

describe('cpu load/store and the dirty bit', () => {
  it('a walk fills the TLB in one step (reads pmd and pte, writes the TLB slot)', () => {
    const s = migrationSetup(1);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () { yield* s.m.cpu(0).load(va(0)); } }], invariants: [] });
    const [walk, data] = r.finish('cpu0');
    expect(walk!.label).toBe('load 0x0: translate');
    expect(walk!.note).toBe('walk: 4K entry from O[0] (P RW A NX)');
    expect(touched([walk!])).toEqual(['cpu:0:insn', 'cr3:0', 'tlb:0', 'tlb:0:0x0', 'tlb:0:2M:0x0', 'mem:0:0', 'mem:1:0', 'tlb:0:0x0']);
    expect(data!.label).toBe('load 0x0: read P[0]');
    expect(s.m.snapshot().cpus[0]!.tlb).toEqual(['4K 0x0→P RW from O[0]']);
  });

  it('the D bit lands in the old pte page after the pmd switched while a stale TLB entry remains', () => {
    const s = migrationSetup();
    const cpu0 = s.m.cpu(0);
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { yield* cpu0.load(va(0)); yield* cpu0.store(va(0), 42); } },
      { name: 'migrator', body: () => migrate(s, false) },
    ], invariants: [] });
    r.steps('cpu0', 2); // load: TLB holds O[0] with D clear
    r.finish('migrator'); // N[0] = copy of O[0]; pmd → N; no flush
    const store = r.finish('cpu0');
    expect(store.map((x) => x.label)).toEqual(['store 0x0 := 42: translate', 'store 0x0 := 42: set D in O[0]', 'store 0x0 := 42: write P[0]']);
    expect(store[1]!.note).toBe('D set in O[0] (stale TLB entry: live entry is N[0])');
    expect(writes([store[1]!])).toEqual(['tlb:0:0x0', 'mem:1:0']);
    expect(pte_dirty(s.oPte.get() as pte_t)).toBe(true);
    expect(pte_dirty(s.nPte.get() as pte_t)).toBe(false); // the live entry says clean: dirty bit lost
    expect(s.m.memory.peek(physAddr(s.P, 0))).toBe(42);
  });

  it('after a flush the store re-walks and sets D in the new pte page', () => {
    const s = migrationSetup();
    const cpu0 = s.m.cpu(0);
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { yield* cpu0.load(va(0)); yield* cpu0.store(va(0), 42); } },
      { name: 'migrator', body: () => migrate(s, true) },
      ...s.m.actors(),
    ], invariants: [] });
    r.steps('cpu0', 2);
    r.until('migrator', 'wait for acks');
    expect(r.enabled('migrator')).toBe(false);
    r.step('ipi→cpu0');
    r.finish('migrator');
    const store = r.finish('cpu0');
    expect(store[0]!.note).toBe('walk: 4K entry from N[0] (P RW A NX)');
    expect(store[1]!.note).toBe('D set in N[0]');
    expect(pte_dirty(s.nPte.get() as pte_t)).toBe(true);
    expect(pte_dirty(s.oPte.get() as pte_t)).toBe(false);
  });

  it('exhaustive search finds the stale-D execution (DFS and DPOR agree)', () => {
    const make = (): Program => {
      const s = migrationSetup();
      const cpu0 = s.m.cpu(0);
      return {
        threads: [
          { name: 'cpu0', body: function* () { yield* cpu0.load(va(0)); yield* cpu0.store(va(0), 42); } },
          { name: 'migrator', body: () => migrate(s, true) },
          ...s.m.actors(),
        ],
        invariants: [{
          name: 'no-lost-dirty-bit', atEnd: true,
          check: () => (s.m.memory.peek(physAddr(s.P, 0)) === 42 && !pte_dirty(s.nPte.get() as pte_t) ? 'store done but N[0] is clean' : null),
        }],
        finalState: () => s.m.finalState(),
      };
    };
    for (const strategy of ['dfs', 'dpor'] as const) {
      const res = exploreProgram(make, { strategy });
      expect(res.verdict).toBe('violated');
      expect(res.violation!.invariant).toBe('no-lost-dirty-bit');
      expect(res.violation!.trace.some((t) => t.note?.startsWith('D set in O[0]'))).toBe(true);
    }
  });

  it('a hit on a cached D=1 entry writes nothing to page-table memory', () => {
    const s = migrationSetup(1);
    const cpu0 = s.m.cpu(0);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () {
      yield* cpu0.store(va(0), 1);
      yield* cpu0.store(va(0), 2);
    } }], invariants: [] });
    const first = r.steps('cpu0', 3);
    expect(first[1]!.note).toBe('D set in O[0]');
    const before = s.m.memory.contents(s.O);
    const second = r.finish('cpu0');
    expect(second).toHaveLength(2); // translate (hit), write data
    expect(second[0]!.note).toBe('TLB hit: 4K 0x0→P RW D NX from O[0]');
    expect(touched(second).filter((l) => l.startsWith('mem:') && l !== 'mem:2:0')).toEqual([]);
    expect(touched([second[0]!])).toEqual(['cpu:0:insn', 'tlb:0', 'tlb:0:0x0', 'tlb:0:2M:0x0']);
    expect(s.m.memory.contents(s.O)).toEqual(before);
  });

  it('a store through a read-only entry faults; a not-present entry faults', () => {
    const m = new Machine({ cpus: 1 });
    const O = m.memory.allocFrame('O');
    const P = m.memory.allocFrame('P');
    m.init_mm.populate(va(0), O);
    m.init_mm.mapPage(va(0), P, PAGE_KERNEL_RO);
    const cpu = m.cpu(0);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () {
      expect(yield* cpu.load(va(0))).toEqual({ ok: true, value: 0, via: '4K' });
      const st = yield* cpu.store(va(0), 7);
      expect(st).toMatchObject({ ok: false, fault: 'write-protect' });
      const ld = yield* cpu.load(m.geo.addr(0, 1));
      expect(ld).toMatchObject({ ok: false, fault: 'not-present' });
    } }], invariants: [] });
    const ran = r.finish('cpu0');
    expect(ran.map((x) => x.label)).toEqual(['load 0x0: translate', 'load 0x0: read P[0]', 'store 0x0 := 7: translate', 'load 0x1000: translate']);
    expect(ran[2]!.note).toMatch(/write-protect fault$/);
    expect(m.faults.map((f) => [f.access, f.kind])).toEqual([['store', 'write-protect'], ['load', 'not-present']]);
    expect(m.memory.peek(physAddr(P, 0))).toBe(0);
    expect(cpu.inInsn).toBe(false);
  });

  it('without a fault log a fault is still the access\'s result and the step\'s note, and nothing is kept', () => {
    const m = new Machine({ cpus: 1, faultLog: false });
    const O = m.memory.allocFrame('O');
    m.init_mm.populate(va(0), O);
    const cpu = m.cpu(0);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () {
      expect(yield* cpu.load(va(0))).toMatchObject({ ok: false, fault: 'not-present' });
    } }], invariants: [] });
    const ran = r.finish('cpu0');
    expect(ran[0]!.note).toMatch(/page fault$/);
    expect(m.faults).toEqual([]);
    expect(m.save().faults).toEqual([]);
  });

  it('when the source entry is gone at the D update, the CPU drops the TLB entry and re-walks', () => {
    const s = migrationSetup(2);
    const cpu0 = s.m.cpu(0);
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { return void (yield* cpu0.store(va(0), 42)); } },
      { name: 'clearer', body: function* () { yield* pte_clear(s.oPte); } },
    ], invariants: [] });
    r.step('cpu0'); // walk: TLB entry with D clear
    r.step('clearer');
    const rest = r.finish('cpu0');
    expect(rest[0]!.note).toBe('source O[0] is none: D not set, TLB entry dropped, re-walk');
    expect(rest[1]!.note).toBe('walk: pte O[0] not present → page fault');
    expect(s.m.faults).toHaveLength(1);
    expect(s.m.memory.peek(physAddr(s.P, 0))).toBe(0);
  });

  it('a hardware D update into a freed pte page is recorded', () => {
    const s = migrationSetup(1);
    const cpu0 = s.m.cpu(0);
    const r = new Runner({ threads: [
      { name: 'cpu0', body: function* () { yield* cpu0.load(va(0)); yield* cpu0.store(va(0), 42); } },
      { name: 'migrator', body: function* () { yield* migrate(s, false); yield* s.m.memory.free_page(s.O as Pfn); } },
    ], invariants: [] });
    r.steps('cpu0', 2);
    r.finish('migrator');
    const st = r.finish('cpu0');
    expect(st[1]!.note).toBe('D set in O[0] (stale TLB entry: live entry is N[0]) — O is a FREED frame');
    expect(s.m.memory.writesToFreedFrames.map((w) => w.by)).toEqual(['cpu0 (hardware D update)']);
  });

  it('the paging-structure cache keeps using the old pte page until a flush', () => {
    const m = new Machine({ cpus: 1, pagingStructureCache: true });
    const O = m.memory.allocFrame('O');
    const P = m.memory.allocFrame('P');
    const N = m.memory.allocFrame('N');
    m.init_mm.populate(va(0), O);
    m.init_mm.mapPage(va(0), P, PAGE_KERNEL);
    m.init_mm.mapPage(m.geo.addr(0, 1), P, PAGE_KERNEL);
    m.memory.word(physAddr(N, 1)).set(pfn_pte(P, PAGE_KERNEL_RO));
    const cpu = m.cpu(0);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () {
      yield* cpu.load(va(0)); // caches pmd[0] → O
      yield* set_pmd(m.init_mm.pmdp(va(0)), pfn_pte(N, _PAGE_TABLE));
      yield* cpu.load(m.geo.addr(0, 1)); // walks via the PSC: O[1]
      yield* cpu.invlpg(m.geo.addr(0, 1)); // drops the entry and the paging-structure cache
      yield* cpu.load(m.geo.addr(0, 1)); // walks the live pmd: N[1]
    } }], invariants: [] });
    const ran = r.finish('cpu0');
    expect(ran[3]!.note).toBe('walk (via paging-structure cache): 4K entry from O[1] (P RW A D NX)');
    expect(ran[6]!.note).toBe('walk: 4K entry from N[1] (P RO A NX)');
  });
});

describe('the paging-structure cache and the invariants that read it', () => {
  /** cpu0 walks v (filling the cache), sets a flag, flushes its whole TLB, walks again. An
   * invariant says: once the flag is set, the pmd's pte page is cached. */
  function pscAfterFlush(watch: string[]) {
    return (): Program => {
      const m = new Machine({ cpus: 1, frames: 4, pagingStructureCache: true });
      const PT = m.memory.allocFrame('PT', 'pte');
      const D = m.memory.allocFrame('D', 'data');
      const v = m.geo.addr(0, 0);
      m.init_mm.populate(v, PT);
      m.init_mm.mapPage(v, D, PAGE_KERNEL);
      const cpu = m.cpu(0);
      const idx = m.geo.pmdIndex(v);
      const flag = m.var('flag');
      return {
        threads: [
          {
            name: 'cpu0',
            body: function* () {
              yield* cpu.load(v);
              yield* op(stableStep('flag = 1', flag.writeAccesses(), () => flag.set(1)));
              yield* op(stableStep('local TLB flush', () => cpu.tlb.flushAllAccesses(), (say) => say(`${cpu.tlb.flushAll().length} dropped`)));
              yield* cpu.load(v);
            },
          },
          ...m.actors(),
        ],
        invariants: [{ name: 'psc-kept', watch, check: () => (flag.get() === 1 && cpu.tlb.pscGet(idx) === undefined ? 'flag set, pmd pointer not cached' : null) }],
        state: programState(m),
      };
    };
  }

  it('a full flush empties it writing only tlb:<cpu>, so reading a slot reads tlb:<cpu> too', () => {
    // Watching the cache's slots alone would let a flush change the answer unseen.
    expect(() => exploreProgram(pscAfterFlush([`var:flag`, 'psc:']), { strategy: 'dfs', cache: false })).toThrowError('invariant psc-kept reads tlb:0, which its watch list ("var:flag", "psc:") does not cover');
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = exploreProgram(pscAfterFlush(['var:flag', 'psc:', 'tlb:']), { strategy, cache: false });
      expect(r.violation?.invariant).toBe('psc-kept');
      expect(r.violation?.trace.at(-1)?.label).toBe('local TLB flush');
    }
  });
});
