// Opt-in hardware nondeterminism: per CPU and address, an actor that may speculatively fill
// the TLB (a walk, whenever the translation is present and not cached) and an actor that may
// evict it. Each makes exactly `budget` attempts, so executions stay finite. An attempt is
// always enabled and does nothing when there is nothing to fill or evict: the search then
// places it anywhere, including after everything else (= no speculation), and DPOR sees every
// attempt as an event that races with the page-table and TLB changes around it (a step that
// stayed disabled would never be executed, so its races would never be seen).
import { type Access, type Step, type ThreadSpec, write } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import { stableStep, times } from './step.js';
import { type VirtAddr, hex } from './types.js';
import { applyWalk, planWalk } from './walk.js';

export interface SpeculationOptions {
  /** Addresses the hardware may fill/evict on its own. */
  readonly vas: readonly VirtAddr[];
  /** Speculative fills per (cpu, address); default 1. */
  readonly fills?: number;
  /** Evictions per (cpu, address); default 0. */
  readonly evictions?: number;
  /** CPUs that speculate; default all. */
  readonly cpus?: readonly number[];
}

export function speculationActors(cpus: readonly Cpu[], o: SpeculationOptions): ThreadSpec[] {
  const out: ThreadSpec[] = [];
  const which = o.cpus ? cpus.filter((c) => o.cpus!.includes(c.id)) : cpus;
  const fills = o.fills ?? 1;
  const evictions = o.evictions ?? 0;
  for (const cpu of which) {
    for (const v of o.vas) {
      if (fills > 0) out.push(fillActor(cpu, v, fills));
      if (evictions > 0) out.push(evictActor(cpu, v, evictions));
    }
  }
  return out;
}

function fillActor(cpu: Cpu, v: VirtAddr, budget: number): ThreadSpec {
  const step = (): Step =>
    stableStep(
      `speculative TLB fill ${cpu.name} ${hex(v)}`,
      () => planWalk(cpu.walkContext, v).accesses,
      (say) => {
        const plan = planWalk(cpu.walkContext, v);
        if (plan.kind !== 'fill') return say(`nothing to fill: ${plan.why}`);
        if (cpu.tlb.translations(v).some((e) => e.size === plan.entry.size)) return say('already cached');
        say(applyWalk(cpu.walkContext, plan, `${cpu.name} (speculative walk)`));
      },
    );
  return {
    name: `spec-fill:${cpu.name}:${hex(v)}`,
    actor: true,
    body: () => times(budget, step),
  };
}

function evictActor(cpu: Cpu, v: VirtAddr, budget: number): ThreadSpec {
  const fp: Access[] = [...cpu.tlb.lookupAccesses(v), write(cpu.tlb.slotLoc(v, '4K')), write(cpu.tlb.slotLoc(v, '2M'))];
  const step = (): Step =>
    stableStep(
      `TLB eviction ${cpu.name} ${hex(v)}`,
      fp,
      (say) => say(cpu.dropped(cpu.tlb.evict(v))),
    );
  return {
    name: `spec-evict:${cpu.name}:${hex(v)}`,
    actor: true,
    body: () => times(budget, step),
  };
}
