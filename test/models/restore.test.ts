// State restore (issue 11) on the built-in models: exploring with `restore: true` (each
// execution starts from the state saved at its branch point) must find exactly what re-running
// every prefix finds — verdicts, execution counts, blocked and sleep-blocked executions, final
// states, violations and their schedules — and run the same steps, part of them restored
// instead of run. Any state a model's `Program.state` leaves out shows up here, or as the
// cursor's NondeterminismError when a periodic full re-run disagrees with a restored one.
import { describe, expect, it } from 'vitest';
import { explore, type ModelResult } from '../../src/index.js';
import { builtinModels } from '../../models/index.js';
import type { Model, Params } from '../../src/model.js';

interface Case {
  readonly model: Model;
  readonly variant: string;
  readonly params: Params;
}

const byName = (name: string): Model => builtinModels.find((m) => m.name === name)!;

/** Every variant at its defaults, and a few larger (cheap) parameter sets. */
const CASES: Case[] = [
  ...builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name, params: {} }))),
  { model: byName('ptmigrate'), variant: 'delimbo', params: { pages: 3 } },
  { model: byName('vmap'), variant: 'fixed', params: { vmRam: 1 } },
  { model: byName('cpa'), variant: 'fixed', params: { callers: 1, speculation: 2, psc: 1 } },
  { model: byName('percpu'), variant: 'module-mutex', params: { cpus: 3, modules: 3 } },
];

const paramText = (p: Params): string => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');

/** What both searches must agree on (the violation whole: message, schedule, trace). */
function outcome(r: ModelResult) {
  return {
    verdict: r.verdict,
    executions: r.executions,
    blocked: r.blocked,
    sleepBlocked: r.sleepBlocked,
    maxDepth: r.maxDepth,
    finalStates: r.finalStates,
    violation: r.violation,
  };
}

describe('state restore finds what re-running prefixes finds, on every built-in model', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant}${Object.keys(c.params).length ? ` (${paramText(c.params)})` : ''}`, () => {
      const options = { variant: c.variant, params: c.params, strategy: 'dpor', cache: false, collectFinalStates: true } as const;
      // Executions with a step result a restore cannot feed back (an object): none, so every
      // prefix can be restored (the machine's and models' steps return plain data).
      let opaque = 0;
      const on = explore(c.model, { ...options, restore: true, onExecution: (_e, exec) => void (exec.opaqueFrom !== Infinity && opaque++) });
      const off = explore(c.model, { ...options, restore: false });
      expect(opaque).toBe(0);
      expect(on.asExpected).toBe(true);
      expect(outcome(on)).toEqual(outcome(off));
      if (on.verdict === 'holds') expect(on.finalStates!.length).toBeGreaterThan(0);
      // The same steps, some restored instead of run; without restore every step runs.
      expect(off.restoredSteps).toBe(0);
      expect(on.steps + on.restoredSteps).toBe(off.steps);
      // Restores reach far: no step result stops them (an object result would), so in a search
      // of 100 complete executions or more most steps are restored (executions 2^i and every 61st
      // re-run in full by design, which dominates only small searches).
      if (on.executions >= 100) expect(on.restoredSteps / off.steps).toBeGreaterThan(0.6);
    }, 120_000);
  }
});
