// The driver: runs executions, asks a strategy for every choice, records every step, checks
// invariants, and turns the outcome into a verdict.
import { Dependence } from './dependence.js';
import { DfsStrategy, countPreemptions } from './dfs.js';
import { DporStrategy } from './dpor.js';
import { type EventRecord, Execution, type Failure, errText } from './execution.js';
import { PctStrategy } from './pct.js';
import { RandomStrategy } from './random.js';
import { CheckpointError, type Strategy } from './strategy.js';
import type { Program, ThreadId } from './types.js';

export type StrategyName = 'dfs' | 'dpor' | 'bounded' | 'random' | 'pct';
export const STRATEGIES: readonly StrategyName[] = ['dpor', 'dfs', 'bounded', 'random', 'pct'];

export interface ExploreOptions {
  strategy?: StrategyName;
  /** Steps after which an execution counts as a livelock. */
  maxSteps?: number;
  /** Stop (verdict "bounded") after this many executions. */
  maxExecutions?: number;
  /** Stop (verdict "bounded") after this long; elapsed time never steers a choice. */
  timeLimitMs?: number;
  /** For `bounded`: the largest preemption bound tried (0, 1, … up to it). For `dfs`: a fixed bound. */
  preemptionBound?: number;
  /** For `random` / `pct`. */
  seed?: string;
  /** For `random` / `pct`: executions to sample. */
  samples?: number;
  /** For `pct`: bug depth d. */
  pctDepth?: number;
  /** Record the canonical final state of every complete execution (for cross-checks). */
  collectFinalStates?: boolean;
  /** Polled between executions; true stops with verdict "interrupted". */
  shouldStop?: () => boolean;
  onProgress?: (p: Progress) => void;
  /** Called with the steps of every complete execution (for cross-checks and statistics). */
  onExecution?: (events: readonly EventRecord[], exec: Execution) => void;
  /** Only failures this accepts end the search; others count as ordinary executions
   * (used to look for a smaller counterexample of one particular invariant). */
  accept?: (f: Failure) => boolean;
  /** Continue an interrupted exploration from its checkpoint. */
  resume?: Checkpoint;
  /** Source of elapsed time (for reports and the time limit only). */
  now?: () => number;
}

export interface Progress {
  readonly executions: number;
  readonly steps: number;
  readonly elapsedMs: number;
}

export interface TraceStep {
  readonly tid: ThreadId;
  readonly thread: string;
  readonly label: string;
  readonly note?: string;
}

export interface Violation extends Failure {
  /** Thread chosen at each step. */
  readonly schedule: readonly ThreadId[];
  readonly trace: readonly TraceStep[];
  readonly preemptions: number;
}

/** Where an interrupted exploration stood, as plain JSON: enough to continue it exactly. */
export interface Checkpoint {
  readonly strategy: string;
  readonly executions: number;
  readonly steps: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
  readonly state: unknown;
}

export type Verdict = 'holds' | 'violated' | 'bounded' | 'interrupted';

export interface ExploreResult {
  readonly verdict: Verdict;
  readonly strategy: string;
  /** Complete executions run (each to its end or to a violation). */
  readonly executions: number;
  /** DPOR executions abandoned as redundant by sleep sets (not counted in `executions`). */
  readonly sleepBlocked: number;
  /** Steps run, counting the replayed prefixes of stateless search. */
  readonly steps: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
  readonly violation?: Violation;
  /** Why the search was not exhaustive, when verdict is "bounded". */
  readonly cut?: string;
  readonly finalStates?: readonly string[];
  readonly threads: readonly string[];
  /** Present when interrupted: pass it as `resume` to continue. */
  readonly checkpoint?: Checkpoint;
}

const DEFAULT_MAX_STEPS = 2000;

export function exploreProgram(make: () => Program, options: ExploreOptions = {}): ExploreResult {
  const strategy = options.strategy ?? 'dpor';
  let probe: Program;
  try {
    probe = make();
  } catch (e) {
    return buildFailure(strategy, e);
  }
  if (strategy === 'bounded') return exploreBounded(make, options);
  const s = makeStrategy(strategy, probe, options);
  return run(make, s, options);
}

function makeStrategy(name: StrategyName, probe: Program, o: ExploreOptions): Strategy {
  switch (name) {
    case 'dfs':
      return new DfsStrategy(o.preemptionBound ?? Infinity);
    case 'dpor':
      return new DporStrategy(new Dependence(probe.invariants));
    case 'random':
      return new RandomStrategy(o.seed ?? '0', o.samples ?? 1000);
    case 'pct':
      return new PctStrategy(o.seed ?? '0', o.samples ?? 1000, o.pctDepth ?? 3);
    case 'bounded':
      return new DfsStrategy(o.preemptionBound ?? 2);
  }
}

/** Iterative preemption bounding: bound 0, 1, 2, … so the first violation has the fewest. */
function exploreBounded(make: () => Program, o: ExploreOptions): ExploreResult {
  if (o.resume) throw new CheckpointError('the bounded strategy cannot resume from a checkpoint; use dpor, dfs, random or pct');
  const maxBound = o.preemptionBound ?? 3;
  let executions = 0;
  let steps = 0;
  let maxDepth = 0;
  let last: ExploreResult | undefined;
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const states = new Set<string>();
  for (let bound = 0; bound <= maxBound; bound++) {
    const dfs = new DfsStrategy(bound);
    const remaining = o.maxExecutions === undefined ? undefined : o.maxExecutions - executions;
    const elapsed = now() - t0;
    const timeLeft = o.timeLimitMs === undefined ? undefined : o.timeLimitMs - elapsed;
    last = run(make, dfs, { ...o, maxExecutions: remaining, timeLimitMs: timeLeft });
    executions += last.executions;
    steps += last.steps;
    maxDepth = Math.max(maxDepth, last.maxDepth);
    last.finalStates?.forEach((st) => states.add(st));
    if (last.verdict !== 'holds' && last.verdict !== 'bounded') break;
    if (last.verdict === 'holds') break; // this bound pruned nothing: the search was exhaustive
    if (last.cut !== dfs.cut) break; // cut by executions or time, not by the bound
  }
  return {
    ...last!,
    strategy: `bounded(<=${maxBound})`,
    executions,
    steps,
    maxDepth,
    elapsedMs: now() - t0,
    finalStates: o.collectFinalStates ? [...states].sort() : undefined,
  };
}

export function run(make: () => Program, strategy: Strategy, o: ExploreOptions): ExploreResult {
  const now = o.now ?? (() => performance.now());
  const maxSteps = o.maxSteps ?? DEFAULT_MAX_STEPS;
  const states = new Set<string>();
  let executions = 0;
  let steps = 0;
  let maxDepth = 0;
  let previousMs = 0;
  if (o.resume) {
    if (o.resume.strategy !== strategy.name) throw new CheckpointError(`checkpoint is for strategy ${o.resume.strategy}, not ${strategy.name}`);
    strategy.restore(o.resume.state);
    ({ executions, steps, maxDepth, elapsedMs: previousMs } = o.resume);
  }
  const t0 = now() - previousMs;
  let lastProgress = now();
  let violation: Violation | undefined;
  let stopped: 'interrupted' | 'bounded' | undefined;
  let cut: string | undefined;
  let threads: readonly string[] = make().threads.map((t) => t.name);
  while (true) {
    if (o.shouldStop?.()) {
      stopped = 'interrupted';
      break;
    }
    if (o.maxExecutions !== undefined && executions >= o.maxExecutions) {
      stopped = 'bounded';
      cut = `max executions ${o.maxExecutions}`;
      break;
    }
    if (o.timeLimitMs !== undefined && now() - t0 >= o.timeLimitMs) {
      stopped = 'bounded';
      cut = `time limit ${Math.round(o.timeLimitMs / 1000)} s`;
      break;
    }
    if (!strategy.beginExecution()) break;
    const exec = new Execution(make, maxSteps);
    threads = Array.from({ length: exec.threadCount }, (_, t) => exec.threadName(t));
    const enabledSets: ThreadId[][] = [];
    let abandoned = false;
    while (!exec.failure) {
      const enabled = exec.enabled();
      if (exec.failure) break;
      if (enabled.length === 0) {
        exec.finish();
        break;
      }
      const tid = strategy.choose(exec, enabled);
      if (tid === null) {
        abandoned = true;
        break;
      }
      enabledSets.push(enabled);
      const event = exec.step(tid);
      steps++;
      strategy.afterStep?.(exec, event);
    }
    strategy.endExecution(exec);
    maxDepth = Math.max(maxDepth, exec.events.length);
    if (abandoned) continue;
    executions++;
    o.onExecution?.(exec.events, exec);
    if (o.onProgress) {
      // Every 1000 executions, and at least twice a second (a heartbeat for watchdogs).
      const t = now();
      if (executions % 1000 === 0 || t - lastProgress >= 500) {
        lastProgress = t;
        o.onProgress({ executions, steps, elapsedMs: t - t0 });
      }
    }
    if (exec.failure && (o.accept?.(exec.failure) ?? true)) {
      violation = toViolation(exec, enabledSets);
      break;
    }
    if (o.collectFinalStates && !exec.failure) {
      const st = exec.finalState();
      if (st !== undefined) states.add(st);
    }
  }
  const verdict = violation ? 'violated' : stopped ?? (strategy.exhaustive ? 'holds' : 'bounded');
  return {
    verdict,
    strategy: strategy.name,
    executions,
    sleepBlocked: strategy instanceof DporStrategy ? strategy.sleepBlocked : 0,
    steps,
    maxDepth,
    elapsedMs: now() - t0,
    violation,
    cut: verdict === 'bounded' ? cut ?? strategy.cut : undefined,
    finalStates: o.collectFinalStates ? [...states].sort() : undefined,
    threads,
    checkpoint: stopped === 'interrupted' ? { strategy: strategy.name, executions, steps, maxDepth, elapsedMs: now() - t0, state: strategy.save() } : undefined,
  };
}

/** The model could not even build its program: a model error before the first step. */
function buildFailure(strategy: string, e: unknown): ExploreResult {
  const violation: Violation = { kind: 'error', invariant: 'model-error', message: `building the model threw: ${errText(e)}`, schedule: [], trace: [], preemptions: 0 };
  return { verdict: 'violated', strategy, executions: 0, sleepBlocked: 0, steps: 0, maxDepth: 0, elapsedMs: 0, violation, threads: [] };
}

export function toViolation(exec: Execution, enabledSets: readonly (readonly ThreadId[])[]): Violation {
  const schedule = exec.events.map((e) => e.tid);
  return {
    ...exec.failure!,
    schedule,
    trace: exec.events.map((e) => ({ tid: e.tid, thread: exec.threadName(e.tid), label: e.label, note: e.note })),
    preemptions: countPreemptions(schedule, enabledSets),
  };
}
