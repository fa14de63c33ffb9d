// Invariants of VM-backed per-cpu areas (MODELS.md §6): every module variable is mapped and
// initialised on every CPU before its first use, no per-cpu page is mapped twice, and each
// CPU's high-water mark only grows and covers every loaded module's section. They read the
// model's state through `PercpuState`, which models/percpu.ts builds once per execution.
import type { Invariant } from '../src/engine/types.js';
import { type Var, hex } from '../src/machine/index.js';

export interface LoadedSection {
  readonly module: string;
  /** 1 once load_module finished (`var:loaded:<module>`). */
  readonly loaded: Var;
  /** Per CPU: the address just past the module's per-cpu section. */
  readonly end: readonly number[];
}

export interface PercpuState {
  /** Per CPU: percpu_allocated, the high-water mark (`var:percpu_allocated[<cpu>]`). */
  readonly allocated: readonly Var[];
  readonly sections: readonly LoadedSection[];
  /** Set by a module's init when per_cpu(var, cpu) faults or reads another value. */
  useViolation: string | null;
  /** Set by percpu_pte_alloc on a pte that was already present (BUG) or by an overwrite. */
  mapViolation: string | null;
  /** Set when a store lowers a high-water mark. */
  lowerViolation: string | null;
  /** Ghost words set to 1 by the step that records the violation of the same name. */
  readonly useGhost: Var;
  readonly mapGhost: Var;
  readonly lowerGhost: Var;
}

/** initialised-before-use: per_cpu(var, cpu) read by a module's init is mapped and holds the module's initial value. */
export function initialisedBeforeUse(s: PercpuState): Invariant {
  return {
    name: 'initialised-before-use',
    description: "every module variable is mapped and initialised on every CPU before its first use (per_cpu(var, cpu) in the module's init)",
    watch: [s.useGhost.loc],
    check: () => (s.useGhost.get() === 1 ? s.useViolation : null),
  };
}

/** mapped-once: a per-cpu pte is never installed over a present one (the RFC BUG()s on it). */
export function mappedOnce(s: PercpuState): Invariant {
  return {
    name: 'mapped-once',
    description: 'a per-cpu page is never mapped twice: percpu_pte_alloc never finds (or overwrites) a present pte',
    watch: [s.mapGhost.loc],
    check: () => (s.mapGhost.get() === 1 ? s.mapViolation : null),
  };
}

/** high-water-covers-loaded: percpu_allocated only grows and covers every loaded module's section. */
export function highWaterCoversLoaded(s: PercpuState): Invariant {
  return {
    name: 'high-water-covers-loaded',
    description: "each CPU's high-water mark only grows and covers every loaded module's per-cpu section",
    watch: [s.lowerGhost.loc, ...s.allocated.map((v) => v.loc), ...s.sections.map((x) => x.loaded.loc)],
    check: () => {
      if (s.lowerGhost.get() === 1) return s.lowerViolation;
      for (const sec of s.sections) {
        if (sec.loaded.get() !== 1) continue;
        for (let c = 0; c < s.allocated.length; c++) {
          const hw = s.allocated[c]!.get();
          if (hw < sec.end[c]!) return `module ${sec.module} is loaded but cpu${c}'s percpu_allocated ${hex(hw)} is below its section end ${hex(sec.end[c]!)}`;
        }
      }
      return null;
    },
  };
}

export function percpuInvariants(s: PercpuState): Invariant[] {
  return [initialisedBeforeUse(s), mappedOnce(s), highWaterCoversLoaded(s)];
}
