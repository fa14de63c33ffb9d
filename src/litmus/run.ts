// Running a litmus test: explore its program exhaustively, collect the distinct final states and
// judge the condition the way herd7 does. The verdict is herd7's "kind" (its catalogue's
// kinds.txt): Allow when a final state satisfying the condition's proposition is reachable,
// Forbid when none is — for `exists`, `~exists` and `forall` alike. `validated` is herd7's
// Ok/No for the quantifier: exists P holds when some state satisfies P, ~exists P when none
// does, forall P when every one does.
import { exploreProgram } from '../engine/explore.js';
import type { MemoryModel } from '../machine/index.js';
import type { CondLoc, LitmusTest, Prop } from './ast.js';
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
  /** Distinct final states (projected on the condition's locations, as herd7 counts them)
   * satisfying the proposition, and not. */
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
  // herd7 counts final states as it prints them: projected on the condition's locations.
  const observed = conditionLocs(t.condition);
  const seen = new Map<string, boolean>();
  for (const f of finals) {
    const reg = (thread: number, name: string): number => f.regs[`${thread}:${name}`] ?? 0;
    const mem = (loc: string): number => f.mem[loc] ?? 0;
    const key = observed.map((l) => (l.k === 'reg' ? reg(l.thread, l.r) : mem(l.loc))).join(',');
    seen.set(key, evaluate(t.condition, reg, mem));
  }
  const positive = [...seen.values()].filter((v) => v).length;
  const negative = seen.size - positive;
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

/** The locations the condition reads, in order of first mention. */
function conditionLocs(p: Prop): CondLoc[] {
  const out = new Map<string, CondLoc>();
  const walk = (q: Prop): void => {
    if (q.k === 'eq') out.set(q.at.k === 'reg' ? `${q.at.thread}:${q.at.r}` : q.at.loc, q.at);
    if (q.k === 'not') walk(q.a);
    if (q.k === 'and' || q.k === 'or' || q.k === 'implies') {
      walk(q.a);
      walk(q.b);
    }
  };
  walk(p);
  return [...out.values()];
}
