// Running a litmus test: explore its program exhaustively, collect the distinct final states and
// judge the condition the way herd7 does. The verdict is herd7's "kind" (its catalogue's
// kinds.txt): Allow when a final state satisfying the condition's proposition is reachable,
// Forbid when none is — for `exists`, `~exists` and `forall` alike. `validated` is herd7's
// Ok/No for the quantifier: exists P holds when some state satisfies P, ~exists P when none
// does, forall P when every one does.
import { exploreProgram } from '../engine/explore.js';
import type { MemoryModel } from '../machine/index.js';
import type { LitmusTest } from './ast.js';
import { evaluate } from './condition.js';
import { type FinalState, litmusProgram } from './program.js';

export type LitmusVerdict = 'Allow' | 'Forbid';
export type LitmusStrategy = 'dpor' | 'dfs';

export interface LitmusResult {
  readonly name: string;
  readonly file: string;
  readonly memoryModel: MemoryModel;
  readonly strategy: LitmusStrategy;
  readonly verdict: LitmusVerdict;
  /** herd7's Ok / No: the quantified condition holds. */
  readonly validated: boolean;
  /** herd7's Observation: Never, Sometimes or Always (states satisfying the proposition). */
  readonly observation: 'Never' | 'Sometimes' | 'Always';
  /** Distinct final states satisfying the proposition, and not. */
  readonly positive: number;
  readonly negative: number;
  /** The distinct final states, each `thread:reg=v` and `loc=v`, sorted. */
  readonly states: readonly string[];
  readonly executions: number;
  readonly steps: number;
  readonly elapsedMs: number;
}

export interface LitmusRunOptions {
  readonly memoryModel: MemoryModel;
  readonly strategy?: LitmusStrategy;
  /** Source of elapsed time (for the report only). */
  readonly now?: () => number;
}

export function runLitmus(t: LitmusTest, o: LitmusRunOptions): LitmusResult {
  const strategy = o.strategy ?? 'dpor';
  const r = exploreProgram(litmusProgram(t, o.memoryModel), { strategy, collectFinalStates: true, ...(o.now ? { now: o.now } : {}) });
  if (r.verdict !== 'holds') {
    const why = r.violation ? `${r.violation.kind}: ${r.violation.message}` : (r.cut ?? r.verdict);
    throw new Error(`litmus ${t.name}: the exploration did not complete (${why})`);
  }
  const finals = (r.finalStates ?? []).map((s) => JSON.parse(s) as FinalState);
  let positive = 0;
  for (const f of finals) {
    const reg = (thread: number, name: string): number => f.regs[`${thread}:${name}`] ?? 0;
    const mem = (loc: string): number => f.mem[loc] ?? 0;
    if (evaluate(t.condition, reg, mem)) positive++;
  }
  const negative = finals.length - positive;
  const validated = t.quantifier === 'exists' ? positive > 0 : t.quantifier === '~exists' ? positive === 0 : negative === 0;
  const states = finals.map((f) => [...Object.entries(f.regs).map(([k, v]) => `${k}=${v}`), ...Object.entries(f.mem).map(([k, v]) => `${k}=${v}`)].join('; ')).sort();
  return {
    name: t.name,
    file: t.file,
    memoryModel: o.memoryModel,
    strategy,
    verdict: positive > 0 ? 'Allow' : 'Forbid',
    validated,
    observation: positive === 0 ? 'Never' : negative === 0 ? 'Always' : 'Sometimes',
    positive,
    negative,
    states,
    executions: r.executions,
    steps: r.steps,
    elapsedMs: r.elapsedMs,
  };
}
