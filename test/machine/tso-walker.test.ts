// The MMU under x86-TSO (src/machine/tso/README.md, each rule with its source): a walk reads
// memory, not the walking CPU's store buffer; the hardware A/D update is an atomic update of
// memory that waits for no buffer; invlpg, cr3/cr4 writes and shootdown IPIs serialise.
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program, ThreadBody } from '../../src/engine/types.js';
import { Machine, PAGE_SHARED, pfn_pte, physAddr, pte_dirty, type pte_t, tso, va } from '../../src/machine/index.js';
import { Runner } from './runner.js';

/** pmd[0] → pte page O; O[0] maps P1 (P1[0] = 1), unless `mapped` is false; P2[0] = 2. */
function setup(mapped = true) {
  const m = new Machine({ cpus: 2, memoryModel: 'tso' });
  const O = m.memory.allocFrame('O');
  const P1 = m.memory.allocFrame('P1');
  const P2 = m.memory.allocFrame('P2');
  const D = m.memory.allocFrame('D');
  m.init_mm.populate(va(0), O);
  const ptep = mapped ? m.init_mm.mapPage(va(0), P1, PAGE_SHARED) : m.init_mm.pte_offset(O, va(0));
  m.memory.poke(physAddr(P1, 0), 1);
  m.memory.poke(physAddr(P2, 0), 2);
  return { m, O, P1, P2, ptep, x: m.memory.word(physAddr(D, 0)) };
}
const program = (m: Machine, threads: Record<string, () => ThreadBody>, finalState: () => string): Program => ({
  threads: [...Object.entries(threads).map(([name, body]) => ({ name, body })), ...m.actors()],
  invariants: [],
  state: m.state,
  finalState,
});
const finals = (make: () => Program) => {
  const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true });
  const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true });
  expect(dpor.finalStates).toEqual(dfs.finalStates);
  return dfs.finalStates ?? [];
};

describe('a page walk reads memory, not the walking CPU\'s store buffer', () => {
  it('a buffered pte store is not seen by the same CPU\'s walk until it drains', () => {
    const s = setup(false);
    const cpu = s.m.cpu(0);
    const got: string[] = [];
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      yield* tso.store(cpu, s.ptep, pfn_pte(s.P1, PAGE_SHARED));
      const a = yield* cpu.load(va(0));
      got.push(a.ok ? `value ${a.value}` : a.fault);
      yield* tso.drained(cpu);
      const b = yield* cpu.load(va(0));
      got.push(b.ok ? `value ${b.value}` : b.fault);
    } }, ...s.m.actors()], invariants: [] });
    r.steps('P0', 2);
    expect(r.log[1]!.footprint.some((a) => a.loc.startsWith('sb:'))).toBe(false);
    r.step('sb→cpu0');
    r.finish('P0');
    expect(got).toEqual(['not-present', 'value 1']);
  });

  it('the CPU\'s own remap reaches its walks only after invlpg, which drains the buffer', () => {
    const run = (invlpg: boolean) => () => {
      const s = setup();
      let seen = -1;
      return program(s.m, { P0: function* () {
        const cpu = s.m.cpu(0);
        yield* tso.store(cpu, s.ptep, pfn_pte(s.P2, PAGE_SHARED));
        if (invlpg) yield* cpu.invlpg(va(0));
        const l = yield* cpu.load(va(0));
        if (l.ok) seen = l.value;
        yield* tso.drained(cpu);
      } }, () => String(seen));
    };
    expect(finals(run(false))).toEqual(['1', '2']);
    expect(finals(run(true))).toEqual(['2']);
  });
});

describe('the hardware A/D update is an atomic update of memory', () => {
  it('sets D in memory while the CPU\'s buffer still holds older stores; the data is buffered', () => {
    const s = setup();
    const cpu = s.m.cpu(0);
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(cpu, s.x, 9); yield* cpu.store(va(0), 5); } }, ...s.m.actors()], invariants: [] });
    const ran = r.finish('P0');
    expect(ran.map((x) => x.label)).toEqual(['cpu0: write D[0] := 9', 'store 0x0 := 5: translate', 'store 0x0 := 5: set D in O[0]', 'store 0x0 := 5: buffer P1[0]']);
    expect(pte_dirty(s.ptep.get() as pte_t)).toBe(true);
    expect([s.x.get(), s.m.memory.peek(physAddr(s.P1, 0))]).toEqual([0, 1]);
    expect(s.m.snapshot().cpus[0]!.storeBuffer).toEqual(['D[0] := 9', 'P1[0] := 5']);
  });

  // A CPU rewrites the live entry while another stores through it. A plain store of the entry
  // sits in the buffer and can drain over the D bit the hardware set meanwhile; a locked xchg
  // acts on memory, so the D bit is either in the old value it returns or in the entry it leaves.
  const rewrite = (how: 'store' | 'xchg') => () => {
    const s = setup();
    let old = -1;
    return program(s.m, {
      P0: function* () {
        yield* s.m.cpu(0).store(va(0), 5);
        yield* tso.drained(s.m.cpu(0));
      },
      P1: function* () {
        const cpu = s.m.cpu(1);
        const clean = pfn_pte(s.P1, PAGE_SHARED);
        if (how === 'store') yield* tso.store(cpu, s.ptep, clean);
        else old = yield* tso.xchg(cpu, s.ptep, clean);
        yield* tso.drained(cpu);
      },
    }, () => JSON.stringify({ written: s.m.memory.peek(physAddr(s.P1, 0)) === 5, dirty: pte_dirty(s.ptep.get() as pte_t), oldDirty: old >= 0 && pte_dirty(old as pte_t) }));
  };
  const lost = (states: readonly string[]) => states.map((x) => JSON.parse(x) as { written: boolean; dirty: boolean; oldDirty: boolean }).filter((f) => f.written && !f.dirty && !f.oldDirty);
  it('a buffered plain store of the entry can drain over the D bit: the write is lost to reclaim', () => {
    expect(lost(finals(rewrite('store'))).length).toBeGreaterThan(0);
  });
  it('xchg of the entry never loses it', () => {
    const states = finals(rewrite('xchg'));
    expect(states.length).toBeGreaterThan(1);
    expect(lost(states)).toEqual([]);
  });
});

describe('serialising instructions wait for the store buffer', () => {
  const waits = (what: string, op: (s: ReturnType<typeof setup>) => Generator<unknown, unknown, unknown>) => {
    it(`${what} is disabled until the CPU's buffer has drained`, () => {
      const s = setup();
      const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(s.m.cpu(0), s.x, 1); yield* op(s) as ThreadBody; } }, ...s.m.actors()], invariants: [] });
      r.step('P0');
      expect(r.enabled('P0')).toBe(false);
      r.step('sb→cpu0');
      expect(r.enabled('P0')).toBe(true);
    });
  };
  waits('invlpg', (s) => s.m.cpu(0).invlpg(va(0)));
  waits('a local range flush (invlpg per page)', (s) => s.m.cpu(0).flushTlbLocalRange(va(0), va(0x1000)));
  waits('a full local flush (a cr4 or cr3 write)', (s) => s.m.cpu(0).flushTlbLocal());
  waits('switch_mm (a cr3 write)', (s) => s.m.cpu(0).switch_mm(s.m.init_mm));
  waits('sending a shootdown IPI (weak_wrmsr_fence before the x2APIC write)', (s) => s.m.cpu(0).flush_tlb_all());

  it('IPI delivery waits for the target\'s buffer: the handler\'s flush serialises it', () => {
    const s = setup();
    const r = new Runner({ threads: [
      { name: 'P0', body: function* () { yield* tso.store(s.m.cpu(0), s.x, 1); } },
      { name: 'P1', body: function* () { yield* s.m.cpu(1).flush_tlb_all(); } },
      ...s.m.actors(),
    ], invariants: [] });
    r.step('P0');
    r.step('P1'); // IPIs sent (cpu1's buffer is empty)
    expect(r.enabled('ipi→cpu0')).toBe(false);
    r.step('sb→cpu0');
    expect(r.enabled('ipi→cpu0')).toBe(true);
  });

  it('a plain load or store, a walk and interrupts on/off do not wait', () => {
    const s = setup();
    const cpu = s.m.cpu(0);
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      yield* tso.store(cpu, s.x, 1);
      yield* cpu.load(va(0));
      yield* cpu.store(va(0), 3);
      yield* cpu.local_irq_disable();
      yield* cpu.local_irq_enable();
    } }, ...s.m.actors()], invariants: [] });
    expect(r.finish('P0')).toHaveLength(1 + 2 + 3 + 2);
  });
});
