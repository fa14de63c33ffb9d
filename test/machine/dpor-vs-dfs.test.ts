// Cross-check: DPOR, which trusts the machine's footprints, must reach exactly the final states
// plain DFS reaches. A footprint that forgets a location shows up here as a missing state.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program, ThreadBody } from '../../src/engine/types.js';
import {
  type Cpu, Machine, type MachineOptions, PAGE_KERNEL_RO, PAGE_SHARED, _PAGE_TABLE, atomic_inc, pfn_pte, physAddr,
  ptep_get, ptep_get_and_clear, ptep_test_and_clear_dirty, set_pmd, set_pte, spin_lock, spin_lock_irqsave, spin_unlock,
  spin_unlock_irqrestore, va, pte_t,
} from '../../src/machine/index.js';

type Op =
  | { k: 'load'; page: number }
  | { k: 'store'; page: number; v: number }
  | { k: 'clear'; page: number }
  | { k: 'restore'; page: number; ro: boolean }
  | { k: 'cleanD'; page: number }
  | { k: 'switch' }
  | { k: 'invlpg'; page: number }
  | { k: 'flushAll' }
  | { k: 'flushRange' }
  | { k: 'irqOff' }
  | { k: 'irqOn' }
  | { k: 'locked' }
  | { k: 'lockedIrq' }
  | { k: 'inc' };

interface Options extends Partial<MachineOptions> {
  readonly ops: readonly (readonly Op[])[];
}

/** Two pages mapped through pte page O (N is a copy target for `switch`). */
function program(o: Options): () => Program {
  return () => {
    const m = new Machine({ cpus: o.ops.length, ...o, frames: 8 });
    const O = m.memory.allocFrame('O');
    const P = [m.memory.allocFrame('P0'), m.memory.allocFrame('P1')];
    const N = m.memory.allocFrame('N');
    m.init_mm.populate(va(0), O);
    const ptes = P.map((p, i) => m.init_mm.mapPage(m.geo.addr(0, i), p, PAGE_SHARED));
    const lock = m.spinlock('L');
    const counter = m.var('count');
    // Each thread keeps its own CPU's interrupt flag in a local: reading cpu.irqEnabled between
    // steps would be an unaudited access to shared state (the engine's audit rejects it).
    function* run(cpu: Cpu, op: Op, irq: { on: boolean }): ThreadBody {
      switch (op.k) {
        case 'load': yield* cpu.load(m.geo.addr(0, op.page)); break;
        case 'store': yield* cpu.store(m.geo.addr(0, op.page), op.v); break;
        case 'clear': yield* ptep_get_and_clear(ptes[op.page]!); break;
        case 'restore': yield* set_pte(ptes[op.page]!, pfn_pte(P[op.page]!, op.ro ? PAGE_KERNEL_RO : PAGE_SHARED)); break;
        case 'cleanD': yield* ptep_test_and_clear_dirty(ptes[op.page]!); break;
        case 'switch': {
          const v = yield* ptep_get(ptes[0]!);
          yield* set_pte(m.memory.word(physAddr(N, 0)), v as pte_t);
          yield* set_pmd(m.init_mm.pmdp(va(0)), pfn_pte(N, _PAGE_TABLE));
          break;
        }
        case 'invlpg': yield* cpu.invlpg(m.geo.addr(0, op.page)); break;
        case 'flushAll': yield* cpu.flush_tlb_all(); break;
        case 'flushRange': yield* cpu.flush_tlb_kernel_range(va(0), m.geo.addr(0, 1)); break;
        case 'irqOff': if (irq.on) { yield* cpu.local_irq_disable(); irq.on = false; } break;
        case 'irqOn': if (!irq.on) { yield* cpu.local_irq_enable(); irq.on = true; } break;
        case 'locked': yield* spin_lock(lock); yield* atomic_inc(counter); yield* spin_unlock(lock); break;
        case 'lockedIrq': {
          const f = yield* spin_lock_irqsave(cpu, lock);
          yield* atomic_inc(counter);
          yield* spin_unlock_irqrestore(cpu, lock, f);
          break;
        }
        case 'inc': yield* atomic_inc(counter); break;
      }
    }
    return {
      threads: [
        ...o.ops.map((ops, i) => ({
          name: `cpu${i}`,
          body: function* (): ThreadBody {
            const irq = { on: true };
            for (const op of ops) yield* run(m.cpu(i), op, irq);
            if (!irq.on) yield* m.cpu(i).local_irq_enable();
          },
        })),
        ...m.actors(),
      ],
      invariants: [],
      finalState: () => m.finalState(),
    };
  };
}

/** DFS and DPOR reach the same final states (skipped when DFS alone exceeds `cap` executions). */
function agree(o: Options, cap = 200_000): { dfs: number; dpor: number; states: number; verdict: string } {
  const make = program(o);
  const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true, maxExecutions: cap });
  if (dfs.verdict === 'bounded') return { dfs: dfs.executions, dpor: 0, states: 0, verdict: 'bounded' };
  const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true });
  expect(dpor.verdict).toBe(dfs.verdict);
  if (dfs.verdict === 'holds') expect(dpor.finalStates).toEqual(dfs.finalStates);
  return { dfs: dfs.executions, dpor: dpor.executions, states: dfs.finalStates?.length ?? 0, verdict: dfs.verdict };
}

function opArb(ipis: boolean): fc.Arbitrary<Op> {
  const page = fc.integer({ min: 0, max: 1 });
  const plain: fc.Arbitrary<Op>[] = [
    page.map((p) => ({ k: 'load' as const, page: p })),
    fc.tuple(page, fc.integer({ min: 1, max: 3 })).map(([p, v]) => ({ k: 'store' as const, page: p, v })),
    page.map((p) => ({ k: 'clear' as const, page: p })),
    fc.tuple(page, fc.boolean()).map(([p, ro]) => ({ k: 'restore' as const, page: p, ro })),
    page.map((p) => ({ k: 'cleanD' as const, page: p })),
    fc.constant({ k: 'switch' as const }),
    page.map((p) => ({ k: 'invlpg' as const, page: p })),
    fc.constant({ k: 'locked' as const }),
    fc.constant({ k: 'inc' as const }),
  ];
  const withIpis: fc.Arbitrary<Op>[] = [
    fc.constant({ k: 'flushAll' as const }),
    fc.constant({ k: 'flushRange' as const }),
    fc.constant({ k: 'irqOff' as const }),
    fc.constant({ k: 'irqOn' as const }),
    fc.constant({ k: 'lockedIrq' as const }),
  ];
  return fc.oneof(...plain, ...(ipis ? withIpis : []));
}

function randomPrograms(ipis: boolean, numRuns: number, seed: number): void {
  const threads = fc.array(fc.array(opArb(ipis), { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 });
  fc.assert(
    fc.property(threads, fc.boolean(), fc.boolean(), (ops, psc, spec) => {
      agree({ ops, pagingStructureCache: psc, ...(spec ? { speculation: { vas: [va(0)], fills: 1, cpus: [0] } } : {}) }, 3000);
    }),
    { numRuns, seed },
  );
}

describe('DPOR and DFS agree on machine programs', () => {
  it('two CPUs storing through D-clear entries of one pte page', () => {
    const r = agree({ ops: [[{ k: 'store', page: 0, v: 1 }, { k: 'load', page: 1 }], [{ k: 'store', page: 0, v: 2 }, { k: 'store', page: 1, v: 3 }]] });
    expect(r.verdict).toBe('holds');
    // P0 ends 1 or 2; cpu0's TLB entry for page 1 caches D=1 or D=0 (walked before cpu1's store)
    expect(r.states).toBe(4);
    expect(r.dpor).toBeLessThan(r.dfs);
  });

  it('locks with interrupts off and shootdowns', () => {
    const r = agree({ ops: [[{ k: 'locked' }, { k: 'flushAll' }], [{ k: 'lockedIrq' }, { k: 'store', page: 1, v: 4 }]] });
    expect(r.verdict).toBe('holds');
  });

  it('speculative fills and evictions', () => {
    agree({
      ops: [[{ k: 'store', page: 0, v: 1 }], [{ k: 'clear', page: 0 }, { k: 'restore', page: 0, ro: true }]],
      speculation: { vas: [va(0)], fills: 1, evictions: 1, cpus: [0] },
    });
  });

  it('the paging-structure cache', () => {
    agree({ ops: [[{ k: 'load', page: 1 }, { k: 'store', page: 0, v: 1 }], [{ k: 'switch' }, { k: 'invlpg', page: 1 }]], pagingStructureCache: true });
  });

  it('random small programs without IPIs (fast-check)', () => {
    randomPrograms(false, 100, 12345);
  });

  it('a pte switch racing with stores and D harvesting, no IPIs', () => {
    agree({ ops: [[{ k: 'load', page: 0 }, { k: 'store', page: 0, v: 1 }], [{ k: 'switch' }, { k: 'cleanD', page: 0 }]] });
  });
});

// An IPI is delivered only between instructions and with interrupts on, so the delivery step is
// enabled by the target's end-of-instruction or local_irq_enable step, and also needs the
// sender's post. DPOR once settled the race with the post and never reversed the delivery with
// the target's TLB walk; these pin that "flush delivered before the walk" is explored.
describe('DPOR vs DFS where a step enables an IPI delivery', () => {
  it('a store racing with flush_tlb_kernel_range', () => {
    agree({ ops: [[{ k: 'store', page: 0, v: 1 }], [{ k: 'flushRange' }]] });
  });

  it('a store racing with ptep_clear + flush (faults, re-walks)', () => {
    agree({ ops: [[{ k: 'store', page: 0, v: 1 }, { k: 'store', page: 0, v: 2 }], [{ k: 'clear', page: 0 }, { k: 'flushAll' }, { k: 'restore', page: 0, ro: true }]] });
  });

  it('random small programs with IPIs (fast-check)', () => {
    randomPrograms(true, 200, 12345);
  });

  it('pte page switch with a stale TLB entry, then a range flush', () => {
    agree({ ops: [[{ k: 'load', page: 0 }, { k: 'store', page: 0, v: 1 }], [{ k: 'switch' }, { k: 'flushRange' }, { k: 'cleanD', page: 0 }]] });
  });

});
