// DPOR under TSO: on random small machine programs — plain loads and stores of two words and of a
// mapped page (walks, D updates), mfence, xchg, lock add, a spinlock section, invlpg, and with
// or without waiting for the buffer at the end — DPOR, which trusts the footprints of stores,
// forwarding loads, drains and fences, reaches exactly the final states of plain DFS.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exploreProgram } from '../../src/engine/explore.js';
import type { Program, ThreadBody } from '../../src/engine/types.js';
import { type Cpu, Machine, PAGE_SHARED, physAddr, tso, va } from '../../src/machine/index.js';

type Op =
  | { k: 'load'; x: number }
  | { k: 'store'; x: number; v: number }
  | { k: 'mfence' }
  | { k: 'xchg'; x: number; v: number }
  | { k: 'lockAdd'; x: number }
  | { k: 'locked'; x: number; v: number }
  | { k: 'vaLoad' }
  | { k: 'vaStore'; v: number }
  | { k: 'invlpg' }
  | { k: 'flushAll' };

interface Spec {
  readonly threads: readonly (readonly Op[])[];
  readonly drain: boolean;
}

function program(spec: Spec): () => Program {
  return () => {
    const m = new Machine({ cpus: spec.threads.length, memoryModel: 'tso', frames: 6 });
    const O = m.memory.allocFrame('O');
    const P = m.memory.allocFrame('P');
    const D = m.memory.allocFrame('D');
    m.init_mm.populate(va(0), O);
    m.init_mm.mapPage(va(0), P, PAGE_SHARED);
    const words = [m.memory.word(physAddr(D, 0)), m.memory.word(physAddr(D, 1))];
    const lock = m.spinlock('L');
    const seen: number[][] = spec.threads.map(() => []);
    function* run(cpu: Cpu, op: Op, out: number[]): ThreadBody {
      switch (op.k) {
        case 'load': out.push(yield* tso.load(cpu, words[op.x]!)); break;
        case 'store': yield* tso.store(cpu, words[op.x]!, op.v); break;
        case 'mfence': yield* tso.mfence(cpu); break;
        case 'xchg': out.push(yield* tso.xchg(cpu, words[op.x]!, op.v)); break;
        case 'lockAdd': yield* tso.lockAdd(cpu, words[op.x]!, 1); break;
        case 'locked':
          yield* tso.spinLock(cpu, lock);
          out.push(yield* tso.load(cpu, words[op.x]!));
          yield* tso.store(cpu, words[op.x]!, op.v);
          yield* tso.spinUnlock(cpu, lock);
          break;
        case 'vaLoad': {
          const r = yield* cpu.load(va(0));
          out.push(r.ok ? r.value : -1);
          break;
        }
        case 'vaStore': yield* cpu.store(va(0), op.v); break;
        case 'invlpg': yield* cpu.invlpg(va(0)); break;
        case 'flushAll': yield* cpu.flush_tlb_all(); break;
      }
    }
    return {
      threads: [
        ...spec.threads.map((ops, i) => ({
          name: `cpu${i}`,
          body: function* (): ThreadBody {
            // Made afresh at every (re)start: the engine restarts threads in the same build.
            const out: number[] = (seen[i] = []);
            for (const op of ops) yield* run(m.cpu(i), op, out);
            if (spec.drain) yield* tso.drained(m.cpu(i));
          },
        })),
        ...m.actors(),
      ],
      invariants: [],
      state: m.state,
      finalState: () => JSON.stringify([seen, m.finalState()]),
    };
  };
}

/** DFS and DPOR reach the same final states (skipped when DFS alone exceeds `cap` executions). */
function agree(spec: Spec, cap: number): number {
  const make = program(spec);
  const dfs = exploreProgram(make, { strategy: 'dfs', collectFinalStates: true, maxExecutions: cap });
  if (dfs.verdict === 'bounded') return 0;
  expect(dfs.verdict).toBe('holds');
  const dpor = exploreProgram(make, { strategy: 'dpor', collectFinalStates: true });
  expect(dpor.verdict).toBe('holds');
  expect(dpor.finalStates).toEqual(dfs.finalStates);
  expect(dpor.executions).toBeLessThanOrEqual(dfs.executions);
  return dfs.finalStates!.length;
}

function opArb(ipis: boolean): fc.Arbitrary<Op> {
  const x = fc.integer({ min: 0, max: 1 });
  const v = fc.integer({ min: 1, max: 2 });
  const ops: fc.Arbitrary<Op>[] = [
    x.map((x) => ({ k: 'load' as const, x })),
    fc.tuple(x, v).map(([x, v]) => ({ k: 'store' as const, x, v })),
    fc.tuple(x, v).map(([x, v]) => ({ k: 'store' as const, x, v })),
    fc.constant({ k: 'mfence' as const }),
    fc.tuple(x, v).map(([x, v]) => ({ k: 'xchg' as const, x, v })),
    x.map((x) => ({ k: 'lockAdd' as const, x })),
    fc.tuple(x, v).map(([x, v]) => ({ k: 'locked' as const, x, v })),
    fc.constant({ k: 'vaLoad' as const }),
    v.map((v) => ({ k: 'vaStore' as const, v })),
    fc.constant({ k: 'invlpg' as const }),
  ];
  return fc.oneof(...ops, ...(ipis ? [fc.constant({ k: 'flushAll' as const })] : []));
}

const specArb = (cpus: { min: number; max: number }, maxOps: number, ipis: boolean) =>
  fc.record({ threads: fc.array(fc.array(opArb(ipis), { minLength: 1, maxLength: maxOps }), { minLength: cpus.min, maxLength: cpus.max }), drain: fc.boolean() });

describe('DPOR and DFS agree on TSO machine programs', () => {
  it('store buffering with one drain wait at the end: the SB outcome is among the states', () => {
    const sb: Spec = { threads: [[{ k: 'store', x: 0, v: 1 }, { k: 'load', x: 1 }], [{ k: 'store', x: 1, v: 1 }, { k: 'load', x: 0 }]], drain: true };
    expect(agree(sb, 10_000)).toBe(4);
  });
  it('random programs on 2 CPUs (up to 3 operations each)', () => {
    let checked = 0;
    fc.assert(fc.property(specArb({ min: 2, max: 2 }, 3, false), (spec) => {
      if (agree(spec, 4000) > 0) checked++;
    }), { numRuns: 150, seed: 15 });
    expect(checked).toBeGreaterThan(100);
  });
  it('random programs on 3 CPUs (up to 2 operations each)', () => {
    let checked = 0;
    fc.assert(fc.property(specArb({ min: 3, max: 3 }, 2, false), (spec) => {
      if (agree(spec, 4000) > 0) checked++;
    }), { numRuns: 60, seed: 1515 });
    expect(checked).toBeGreaterThan(30);
  });
  it('random programs with TLB shootdowns on 2 CPUs', () => {
    let checked = 0;
    fc.assert(fc.property(specArb({ min: 2, max: 2 }, 2, true), (spec) => {
      if (agree(spec, 4000) > 0) checked++;
    }), { numRuns: 60, seed: 151515 });
    expect(checked).toBeGreaterThan(30);
  });
});
