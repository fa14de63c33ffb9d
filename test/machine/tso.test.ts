// x86-TSO store buffers in the machine: buffering, forwarding, FIFO drains, fences, locked
// operations, saved state — and that an SC machine has none of it.
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program, ThreadBody } from '../../src/engine/types.js';
import { Machine, PAGE_KERNEL, type MemoryModel, physAddr, spin_lock_irq, spin_lock_irqsave, spin_unlock_irqrestore, tso, va } from '../../src/machine/index.js';
import { Runner, touched, writes } from './runner.js';

/** Two data words x, y in frame D (physical: no translation). */
function words(model: MemoryModel, cpus = 2) {
  const m = new Machine({ cpus, memoryModel: model });
  const D = m.memory.allocFrame('D');
  return { m, x: m.memory.word(physAddr(D, 0)), y: m.memory.word(physAddr(D, 1)) };
}

/** The classic store-buffering test: each CPU stores 1 to its word and loads the other's. */
function storeBuffering(model: MemoryModel, fenced: boolean): () => Program {
  return () => {
    const { m, x, y } = words(model);
    const regs = [-1, -1];
    const thread = (i: number, mine: typeof x, theirs: typeof x) => function* (): ThreadBody {
      const cpu = m.cpu(i);
      yield* tso.store(cpu, mine, 1);
      if (fenced) yield* tso.mfence(cpu);
      regs[i] = yield* tso.load(cpu, theirs);
      yield* tso.drained(cpu);
    };
    return {
      threads: [{ name: 'P0', body: thread(0, x, y) }, { name: 'P1', body: thread(1, y, x) }, ...m.actors()],
      invariants: [],
      state: m.state,
      finalState: () => JSON.stringify({ regs, x: x.get(), y: y.get() }),
    };
  };
}
const outcomes = (make: () => Program, strategy: 'dfs' | 'dpor') =>
  (exploreProgram(make, { strategy, collectFinalStates: true }).finalStates ?? []).map((s) => (JSON.parse(s) as { regs: number[] }).regs.join(','));

describe('a store waits in its CPU\'s buffer', () => {
  it('memory is unchanged until the drain actor writes the entry', () => {
    const { m, x } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 7); } }, ...m.actors()], invariants: [] });
    r.finish('P0');
    expect(x.get()).toBe(0);
    expect(m.snapshot().cpus[0]!.storeBuffer).toEqual(['D[0] := 7']);
    const d = r.step('sb→cpu0');
    expect(d.note).toBe('D[0] := 7');
    expect(x.get()).toBe(7);
    expect(r.enabled('sb→cpu0')).toBe(false);
  });

  it('the CPU\'s own load forwards the youngest entry; another CPU reads memory', () => {
    const { m, x } = words('tso');
    const got: number[] = [];
    const r = new Runner({
      threads: [
        { name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 1); yield* tso.store(m.cpu(0), x, 2); got.push(yield* tso.load(m.cpu(0), x)); } },
        { name: 'P1', body: function* () { got.push(yield* tso.load(m.cpu(1), x)); } },
        ...m.actors(),
      ],
      invariants: [],
    });
    r.finish('P0');
    r.finish('P1');
    expect(got).toEqual([2, 0]);
    expect(r.log[2]!.note).toBe('D[0] = 2 (from the store buffer)');
  });

  it('drains in program order (FIFO)', () => {
    const { m, x, y } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 1); yield* tso.store(m.cpu(0), y, 1); } }, ...m.actors()], invariants: [] });
    r.finish('P0');
    r.step('sb→cpu0');
    expect([x.get(), y.get()]).toEqual([1, 0]);
    r.step('sb→cpu0');
    expect([x.get(), y.get()]).toEqual([1, 1]);
  });

  it('a virtual-address store through the TLB is buffered too, and its load forwards', () => {
    const m = new Machine({ cpus: 2, memoryModel: 'tso' });
    const O = m.memory.allocFrame('O');
    const P = m.memory.allocFrame('P');
    m.init_mm.populate(va(0), O);
    m.init_mm.mapPage(va(0), P, PAGE_KERNEL);
    const got: number[] = [];
    const r = new Runner({ threads: [{ name: 'P0', body: function* () {
      yield* m.cpu(0).store(va(0), 5);
      const l = yield* m.cpu(0).load(va(0));
      if (l.ok) got.push(l.value);
    } }, ...m.actors()], invariants: [] });
    const ran = r.finish('P0');
    expect(ran.map((s) => s.label)).toEqual(['store 0x0 := 5: translate', 'store 0x0 := 5: buffer P[0]', 'load 0x0: translate', 'load 0x0: read P[0]']);
    expect(got).toEqual([5]);
    expect(m.memory.peek(physAddr(P, 0))).toBe(0);
    r.step('sb→cpu0');
    expect(m.memory.peek(physAddr(P, 0))).toBe(5);
  });
});

describe('fences and locked operations wait for the buffer to drain', () => {
  it('mfence is disabled while the buffer holds a store', () => {
    const { m, x } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 1); yield* tso.mfence(m.cpu(0)); } }, ...m.actors()], invariants: [] });
    r.step('P0');
    expect(r.enabled('P0')).toBe(false);
    r.step('sb→cpu0');
    expect(r.enabled('P0')).toBe(true);
  });

  it('xchg waits, then acts on memory', () => {
    const { m, x, y } = words('tso');
    let old = -1;
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), y, 3); old = yield* tso.xchg(m.cpu(0), x, 9); } }, ...m.actors()], invariants: [] });
    r.step('P0');
    expect(r.enabled('P0')).toBe(false);
    r.step('sb→cpu0');
    r.step('P0');
    expect([old, x.get(), y.get()]).toEqual([0, 9, 3]);
  });

  it('smp_wmb and smp_rmb are compiler barriers: no step', () => {
    const { m } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.smp_wmb(m.cpu(0)); yield* tso.smp_rmb(m.cpu(0)); } }], invariants: [] });
    expect(r.done('P0')).toBe(true);
  });

  it('a spinlock released on one CPU stays held for others until the release drains', () => {
    const m = new Machine({ cpus: 2, memoryModel: 'tso' });
    const l = m.spinlock('L');
    const r = new Runner({ threads: [
      { name: 'P0', body: function* () { yield* tso.spinLock(m.cpu(0), l); yield* tso.spinUnlock(m.cpu(0), l); } },
      { name: 'P1', body: function* () { yield* tso.spinLock(m.cpu(1), l); } },
      ...m.actors(),
    ], invariants: [] });
    r.finish('P0');
    expect(r.enabled('P1')).toBe(false);
    r.step('sb→cpu0');
    expect(r.enabled('P1')).toBe(true);
  });
});

describe('the CPU-named spinlock calls follow the CPU on TSO', () => {
  it('spin_lock_irqsave waits for the buffer; spin_unlock_irqrestore releases by a buffered store', () => {
    const { m, x } = words('tso');
    const l = m.spinlock('L');
    const r = new Runner({ threads: [
      { name: 'P0', body: function* () {
        const cpu = m.cpu(0);
        yield* tso.store(cpu, x, 1);
        const f = yield* spin_lock_irqsave(cpu, l);
        yield* spin_unlock_irqrestore(cpu, l, f);
      } },
      { name: 'P1', body: function* () { yield* spin_lock_irq(m.cpu(1), l); } },
      ...m.actors(),
    ], invariants: [] });
    r.steps('P0', 2); // the store, local_irq_save
    expect(r.enabled('P0')).toBe(false); // spin_lock waits for the buffered store
    r.step('sb→cpu0');
    r.finish('P0');
    r.step('P1'); // local_irq_disable
    expect(r.enabled('P1')).toBe(false); // the release is still in cpu0's buffer
    r.step('sb→cpu0');
    expect(r.enabled('P1')).toBe(true);
  });
});

describe('footprints name the buffer', () => {
  it('a store into an empty buffer writes its shape and its slot, a load reads the slot, a drain writes both and the word', () => {
    const { m, x } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 1); yield* tso.load(m.cpu(0), x); } }, ...m.actors()], invariants: [] });
    const [st, ld] = r.finish('P0');
    expect(writes([st!])).toEqual(['sb:0', 'sb:0:mem:1:0']);
    expect(touched([ld!])).toEqual(['mem:1:0', 'sb:0:mem:1:0']);
    const d = r.step('sb→cpu0');
    expect(d.footprint.map((a) => `${a.write ? 'w' : 'r'} ${a.loc}`)).toEqual(['r sb:0', 'w sb:0', 'w sb:0:mem:1:0', 'w mem:1:0', 'r frame:1']);
  });
  it('a store behind another entry touches only its slot: it commutes with the older entry\'s drain', () => {
    const { m, x, y } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 1); yield* tso.store(m.cpu(0), y, 1); } }, ...m.actors()], invariants: [] });
    const [, second] = r.finish('P0');
    expect(touched([second!])).toEqual(['sb:0:mem:1:1']);
  });
});

describe('the store buffer is part of the saved state', () => {
  it('restore puts the buffered entries back', () => {
    const { m, x } = words('tso');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 4); } }, ...m.actors()], invariants: [] });
    const empty = m.save();
    r.finish('P0');
    const full = m.save();
    expect(full).not.toBe(empty);
    expect(m.save()).toBe(full);
    m.restore(empty);
    expect(m.snapshot().cpus[0]!.storeBuffer).toEqual([]);
    m.restore(full);
    expect(m.snapshot().cpus[0]!.storeBuffer).toEqual(['D[0] := 4']);
  });
});

describe('store buffering (SB) explored', () => {
  it('TSO reaches both loads reading 0; SC does not', () => {
    for (const s of ['dfs', 'dpor'] as const) {
      expect(outcomes(storeBuffering('tso', false), s)).toContain('0,0');
      expect(outcomes(storeBuffering('sc', false), s)).not.toContain('0,0');
      expect(outcomes(storeBuffering('sc', false), s).length).toBeGreaterThan(0);
    }
  });
  it('mfence between the store and the load forbids it under TSO', () => {
    const o = outcomes(storeBuffering('tso', true), 'dfs');
    expect(o).not.toContain('0,0');
    expect(o).toContain('1,1');
  });
  it('DPOR and DFS reach the same final states', () => {
    for (const fenced of [false, true]) {
      const make = storeBuffering('tso', fenced);
      expect(exploreProgram(make, { strategy: 'dpor', collectFinalStates: true }).finalStates).toEqual(exploreProgram(make, { strategy: 'dfs', collectFinalStates: true }).finalStates);
    }
  });
});

describe('an SC machine is unchanged', () => {
  it('has no buffers, no drain actors and no buffer in its final state', () => {
    const m = new Machine({ cpus: 2 });
    expect(m.memoryModel).toBe('sc');
    expect(m.cpu(0).sb).toBeUndefined();
    expect(m.actors().map((a) => a.name)).toEqual(['ipi→cpu0', 'ipi→cpu1']);
    expect(m.finalState()).not.toContain('"sb"');
    expect(m.save().sb).toBeUndefined();
  });
  it('tso.store on SC writes memory in one step', () => {
    const { m, x } = words('sc');
    const r = new Runner({ threads: [{ name: 'P0', body: function* () { yield* tso.store(m.cpu(0), x, 2); yield* tso.mfence(m.cpu(0)); } }], invariants: [] });
    expect(r.finish('P0')).toHaveLength(1);
    expect(x.get()).toBe(2);
  });
});
