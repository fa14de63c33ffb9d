// Counterexample minimisation before a trace is written: first the fewest preemptions (iterative
// preemption bounding, looking only for the same invariant), then the fewest steps (drop steps
// from the schedule, as fast-check shrinks, while the same invariant still fails).
//
// The preemption phase is a search of its own, and the expensive part: proving that no
// counterexample has fewer than k preemptions means exploring every schedule with fewer. Two
// things keep it affordable:
// - the bounds it searches: a cheap pass first moves each preempting step to where its thread
//   would have run anyway, lowering the count the exhaustive bounds must beat;
// - state caching: two schedules that reach the same state (the program's saved state, each
//   thread's results so far, the thread that ran last, no more preemptions used, no deeper)
//   have the same futures within the bound, so the second is cut off there. Sound because the
//   program's `state` is all of its mutable shared state (the engine restores executions from
//   it and cross-checks that), and a thread's local state is a function of the results it got.
// A bound whose search runs out of executions or time is never passed over silently: the
// result says which bound was left unproven (`fewestPreemptions: false` and `stoppedEarly`).
import { createHash } from 'node:crypto';
import type { Execution, Failure } from '../engine/execution.js';
import { followSchedule } from '../engine/replay.js';
import { DfsStrategy } from '../engine/dfs.js';
import { type Progress, run, toViolation, type Violation } from '../engine/explore.js';
import type { Strategy } from '../engine/strategy.js';
import type { Program, ThreadId } from '../engine/types.js';

export interface MinimiseOptions {
  readonly maxSteps: number;
  /** Executions each preemption bound may use before minimisation settles for what it has. */
  readonly budgetPerBound?: number;
  /** Called as minimisation goes on (a heartbeat for the CLI's stall watchdog). */
  readonly onProgress?: (p: Progress) => void;
  /** Time minimisation may take; when it runs out, the best counterexample so far is kept. */
  readonly timeLimitMs?: number;
  /** Source of elapsed time, for the time limit only. Without a limit the result is the same on
   * every machine; with one, a slower machine may stop with a longer counterexample. */
  readonly now?: () => number;
  /** Polled between attempts: true stops minimising (Ctrl-C), keeping the best so far. */
  readonly shouldStop?: () => boolean;
}

/** What minimisation proved about the counterexample it returns. */
export interface Minimality {
  /** True when every schedule with fewer preemptions was explored and none fails the same way. */
  readonly fewestPreemptions: boolean;
  /** Why it is not proven ("preemption bound 1: 200000 executions, budget spent"); absent when proven. */
  readonly stoppedEarly?: string;
  /** Executions the preemption searches started (those cut off included), and how many of
   * them were cut off at a state already explored. */
  readonly searchExecutions: number;
  readonly cachedStates: number;
}

/** A minimised counterexample and what its minimisation proved. */
export interface Minimised {
  readonly violation: Violation;
  readonly minimality: Minimality;
}

/** Default executions per preemption bound (those cut off at a cached state included); the
 * built-in variants need at most a few thousand. */
export const DEFAULT_BUDGET_PER_BOUND = 100_000;

/** True once the time limit has passed. */
type Deadline = () => boolean;

function deadlineOf(o: MinimiseOptions): { passed: Deadline; left: () => number | undefined } {
  const stop = () => o.shouldStop?.() === true;
  if (o.timeLimitMs === undefined) return { passed: stop, left: () => undefined };
  const now = o.now ?? (() => performance.now());
  const end = now() + o.timeLimitMs;
  return { passed: () => now() >= end || stop(), left: () => Math.max(0, end - now()) };
}

const sameFailure = (a: Failure, b: Failure) => a.kind === b.kind && a.invariant === b.invariant;

/**
 * The counterexample with the fewest preemptions, then the fewest steps, for a trace. When the
 * fewest preemptions are not proven (a budget or the time limit ran out first), its message
 * says so — it is what the summary and the trace show — except after a stop request (Ctrl-C),
 * where the interrupted run is its own report. `minimiseCounterexample` gives the details.
 */
export function minimise(make: () => Program, found: Violation, o: MinimiseOptions): Violation {
  const { violation, minimality } = minimiseCounterexample(make, found, o);
  if (minimality.fewestPreemptions || o.shouldStop?.()) return violation;
  return { ...violation, message: `${violation.message} [${unprovenNote(violation, minimality)}]` };
}

/** "minimisation stopped early (…): a counterexample with fewer than 2 preemptions may exist". */
export function unprovenNote(v: Violation, m: Minimality): string {
  return `minimisation stopped early (${m.stoppedEarly ?? 'not proven'}): a counterexample with fewer than ${v.preemptions} preemptions may exist`;
}

export function minimiseCounterexample(make: () => Program, found: Violation, o: MinimiseOptions): Minimised {
  // A model whose build throws has nothing to minimise: its counterexample is the empty one.
  let probe: Program;
  try {
    probe = make();
  } catch {
    return { violation: found, minimality: { fewestPreemptions: found.preemptions === 0, searchExecutions: 0, cachedStates: 0 } };
  }
  const deadline = deadlineOf(o);
  let best = straighten(make, found, o.maxSteps, deadline.passed, o.onProgress);
  let searchExecutions = 0;
  let cachedStates = 0;
  let stoppedEarly: string | undefined;
  const stateful = probe.state !== undefined;
  for (let bound = 0; bound < best.preemptions; bound++) {
    if (deadline.passed()) {
      stoppedEarly = `preemption bound ${bound}: not searched (${o.shouldStop?.() ? 'stopped' : 'time limit reached'})`;
      break;
    }
    const budget = o.budgetPerBound ?? DEFAULT_BUDGET_PER_BOUND;
    const caching = stateful ? new CachingBoundedDfs(bound, budget) : undefined;
    const strategy = caching ?? new DfsStrategy(bound);
    const r = run(make, strategy, {
      maxSteps: o.maxSteps,
      maxExecutions: budget,
      timeLimitMs: deadline.left(),
      now: o.now,
      shouldStop: o.shouldStop,
      accept: (f) => sameFailure(f, found),
      onProgress: o.onProgress,
    });
    searchExecutions += caching ? caching.started : r.executions + r.blocked;
    cachedStates += caching?.cutOff ?? 0;
    if (r.violation) {
      best = r.violation;
      break;
    }
    // Finished without a violation: no counterexample has `bound` preemptions or fewer — unless
    // it was cut short (the bound's own pruning is what this search is meant to do).
    if (r.verdict === 'interrupted') {
      stoppedEarly = `preemption bound ${bound}: stopped before its search finished`;
      break;
    }
    if (caching?.outOfBudget || (r.cut !== undefined && r.cut !== strategy.cut)) {
      stoppedEarly = `preemption bound ${bound}: ${caching?.outOfBudget ? `${budget} executions` : r.cut} spent before its search finished`;
      break;
    }
  }
  const shrunk = shrinkSteps(make, best, o.maxSteps, deadline.passed, o.onProgress);
  const minimality: Minimality = {
    fewestPreemptions: stoppedEarly === undefined,
    ...(stoppedEarly === undefined ? {} : { stoppedEarly }),
    searchExecutions,
    cachedStates,
  };
  return { violation: shrunk, minimality };
}

/** Re-runs a schedule (through the driver); the violation it ends in, if it is the same kind as `want`. */
function attempt(make: () => Program, schedule: readonly ThreadId[], want: Failure, maxSteps: number): Violation | null {
  const { exec, enabled } = followSchedule(make, schedule, maxSteps);
  if (!exec.failure || !sameFailure(exec.failure, want)) return null;
  return toViolation(exec, enabled);
}

/**
 * Lowers the preemption count cheaply before any exhaustive search: for each preemption (a step
 * of thread u where the thread t that ran before could have gone on), try letting t go on —
 * moving t's next step up to here — and keep the new schedule when it replays to the same
 * failure with fewer preemptions. A heuristic (Jalbert and Sen's Tinertia in its simplest
 * form); the bounds below what it reaches are still searched exhaustively.
 */
function straighten(make: () => Program, v: Violation, maxSteps: number, passed: Deadline, onProgress?: (p: Progress) => void): Violation {
  let best = v;
  let attempts = 0;
  let improved = true;
  while (improved && best.preemptions > 0) {
    improved = false;
    const { enabled } = followSchedule(make, best.schedule, maxSteps);
    const s = best.schedule;
    for (let i = 1; i < s.length && !improved; i++) {
      const prev = s[i - 1]!;
      if (s[i] === prev || !enabled[i]!.includes(prev)) continue;
      // Move prev's next step (at j > i) up to position i.
      const j = s.indexOf(prev, i);
      if (j < 0) continue;
      if (passed()) return best;
      const candidate = [...s.slice(0, i), prev, ...s.slice(i, j), ...s.slice(j + 1)];
      const got = attempt(make, candidate, best, maxSteps);
      onProgress?.({ executions: ++attempts, steps: 0, elapsedMs: 0 });
      if (got && got.preemptions < best.preemptions) {
        best = got;
        improved = true;
      }
    }
  }
  return best;
}

function shrinkSteps(make: () => Program, v: Violation, maxSteps: number, passed: Deadline, onProgress?: (p: Progress) => void): Violation {
  let best = v;
  let attempts = 0;
  let improved = true;
  while (improved) {
    improved = false;
    for (let i = best.schedule.length - 1; i >= 0; i--) {
      if (passed()) return best;
      const candidate = [...best.schedule.slice(0, i), ...best.schedule.slice(i + 1)];
      const got = attempt(make, candidate, best, maxSteps);
      attempts++;
      onProgress?.({ executions: attempts, steps: 0, elapsedMs: 0 });
      if (got && got.schedule.length < best.schedule.length && got.preemptions <= best.preemptions) {
        best = got;
        improved = true;
        break;
      }
    }
  }
  return best;
}

interface Node {
  readonly options: readonly ThreadId[];
  index: number;
  /** Preemptions used before this choice. */
  readonly preemptions: number;
  readonly prev: ThreadId | null;
}

/**
 * Preemption-bounded DFS (as DfsStrategy) that cuts off a schedule at a state it has already
 * explored from with no fewer preemptions left and no fewer steps left (see the head comment).
 * Only for programs that declare `state`; a prefix with a result that is not a primitive (an
 * object a thread may hold on to, a failed assumption) is never cached.
 */
export class CachingBoundedDfs implements Strategy {
  readonly name: string;
  private readonly stack: Node[] = [];
  private depth = 0;
  private pruned = false;
  /** State key → the fewest preemptions used and the smallest depth it was explored from. */
  private readonly seen = new Map<string, { preemptions: number; depth: number }>();
  /** Executions started, and those cut off at a state already explored. */
  started = 0;
  cutOff = 0;
  /** Set when the budget ran out with schedules left to explore. */
  outOfBudget = false;

  constructor(private readonly bound: number, private readonly budget = Infinity) {
    this.name = `dfs(preemptions<=${bound}, cached states)`;
  }

  get exhaustive(): boolean {
    return !this.pruned && !this.outOfBudget;
  }

  get cut(): string | undefined {
    if (this.outOfBudget) return `${this.budget} executions`;
    return this.pruned ? `preemption bound ${this.bound}` : undefined;
  }

  beginExecution(): boolean {
    this.depth = 0;
    if (this.started === 0) {
      this.started++;
      return true;
    }
    if (this.started >= this.budget) {
      this.outOfBudget = this.stack.some((n) => n.index + 1 < n.options.length);
      return false;
    }
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.index + 1 < top.options.length) {
        top.index++;
        this.started++;
        return true;
      }
      this.stack.pop();
    }
    return false;
  }

  replayedPrefix(): number {
    return Math.max(0, this.stack.length - 1);
  }

  skipPrefix(k: number): void {
    this.depth = k;
  }

  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const d = this.depth++;
    if (d < this.stack.length) {
      const node = this.stack[d]!;
      return node.options[node.index]!;
    }
    const parent = this.stack[d - 1];
    const prev = parent ? parent.options[parent.index]! : null;
    // As DfsStrategy counts: choosing another thread where the one before could go on.
    const used = parent ? parent.preemptions + (parent.prev !== null && prev !== parent.prev && parent.options.includes(parent.prev) ? 1 : 0) : 0;
    const key = stateKey(exec, prev);
    if (key !== null) {
      const was = this.seen.get(key);
      if (was && was.preemptions <= used && was.depth <= d) {
        this.cutOff++;
        return null;
      }
      this.seen.set(key, { preemptions: was ? Math.min(was.preemptions, used) : used, depth: was ? Math.min(was.depth, d) : d });
    }
    let options = enabled;
    if (prev !== null && enabled.includes(prev) && used >= this.bound) {
      // Continuing `prev` is free; any other choice would be one preemption too many.
      if (enabled.length > 1) this.pruned = true;
      options = [prev];
    }
    this.stack.push({ options: [...options], index: 0, preemptions: used, prev });
    return options[0]!;
  }

  save(): unknown {
    throw new Error('the minimiser does not checkpoint its searches');
  }

  restore(): void {
    throw new Error('the minimiser does not checkpoint its searches');
  }

  endExecution(): void {
    this.stack.length = Math.min(this.stack.length, this.depth);
  }
}

/**
 * The state an execution is in before its next choice: the program's saved state, each
 * thread's results so far (its local state), and the thread that ran last (continuing it costs
 * no preemption). Null when a result is not a primitive, which the key could not tell apart.
 */
function stateKey(exec: Execution, last: ThreadId | null): string | null {
  const perThread: string[][] = Array.from({ length: exec.threadCount }, () => []);
  for (let i = 0; i < exec.events.length; i++) {
    const r = exec.results[i];
    if ((typeof r === 'object' && r !== null) || typeof r === 'function' || typeof r === 'symbol') return null;
    perThread[exec.events[i]!.tid]!.push(`${typeof r}:${String(r)}`);
  }
  let saved: string;
  try {
    saved = canonical(exec.saveState());
  } catch (e) {
    if (e === NOT_PLAIN) return null;
    throw e;
  }
  const h = createHash('sha1');
  h.update(saved);
  h.update(`|${last ?? -1}|`);
  for (const t of perThread) h.update(`${t.length}:${t.join(',')};`);
  return h.digest('base64');
}

/** Thrown by `canonical` for a value no spelling can stand for (a class instance, a function). */
export const NOT_PLAIN = Symbol('not plain data');

/**
 * Each saved object's spelling, by identity: a program's save returns the object it saved last
 * while that part is unchanged, and a saved state never changes afterwards (Program.state's
 * contract, which restoring relies on too), so most of a key is spelt once.
 */
const spelt = new WeakMap<object, string>();

/**
 * A spelling of plain data that tells apart every value it keeps (unlike JSON: undefined, NaN,
 * -0, Maps and Sets each have their own); a class instance or a function, which could hide
 * state no spelling sees, makes the state uncacheable.
 */
export function canonical(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'boolean':
      return v ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'bigint':
      return `${v}n`;
    case 'object': {
      if (v === null) return 'n';
      const known = spelt.get(v);
      if (known !== undefined) return known;
      let out: string;
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (let i = 0; i < v.length; i++) parts.push(canonical(v[i]));
        out = `[${parts.join(',')}]`;
      } else if (v instanceof Map) {
        out = `M[${[...v].map(([k, x]) => `${canonical(k)}:${canonical(x)}`).join(',')}]`;
      } else if (v instanceof Set) {
        out = `S[${[...v].map(canonical).join(',')}]`;
      } else {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
        const o = v as Record<string, unknown>;
        out = `{${Object.keys(o).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
      }
      spelt.set(v, out);
      return out;
    }
    default:
      throw NOT_PLAIN;
  }
}
