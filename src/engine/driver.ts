// The driver: the one execution loop. It runs executions, asks a strategy for every choice,
// records every step, and turns the outcome into a verdict. Exploration, replay, minimisation
// and the vitest matchers all go through `runExecution`.
//
// It is also the cursor (loom's `Path`): while an execution follows the schedule of the one
// before it, a deterministic model must offer the same enabled threads and run the same steps
// (label, note, footprint). Stateless search is only sound under that assumption — every
// execution re-runs its prefix to reach the next branch — so a difference is a model error.
import { countPreemptions } from './dfs.js';
import { EngineError, NondeterminismError } from './errors.js';
import { type EventRecord, Execution, ReplayPolicy } from './execution.js';
import { type ExploreOptions, type ExploreResult, DEFAULT_MAX_STEPS, type Violation } from './results.js';
import { CheckpointError, type Strategy } from './strategy.js';
import { WatchTracker } from './watches.js';
import { Dependence } from './dependence.js';
import { truncate } from './arrays.js';
import { InvariantChecks } from './invariant-checks.js';
import { StatefulStrategy } from './stateful.js';
import { type Fingerprint, stateFingerprint } from './fingerprint.js';
import { type Access, type Program, type ThreadId, sameFootprint } from './types.js';

/** One execution's record, for the next execution's determinism check. */
interface Path {
  readonly events: readonly EventRecord[];
  readonly opaqueFrom: number;
  /** Enabled threads before each step, and at the end (where nothing was enabled). The next
   * execution truncates and extends this very list. */
  readonly enabled: readonly (readonly ThreadId[])[];
  /** Each thread's first step (null: it had none). */
  readonly start: readonly FirstStep[];
}

export interface ExecutionOutcome {
  /** The strategy gave up on this execution (sleep-set blocked, bound-pruned). */
  readonly abandoned: boolean;
  /** Enabled threads before each step (and before the end). */
  readonly enabled: readonly (readonly ThreadId[])[];
  /** Leading steps brought back by restoring a saved state instead of running them. */
  readonly restored: number;
}

/** Checks an execution against the previous one while they share a schedule. */
export class Cursor {
  private prev: Path | null = null;
  /** State before step d of the current path, for programs that declare `state`. */
  private readonly saved: unknown[] = [];
  private executions = 0;
  /** The execution whose prefix was last re-run, and the steps run since (see restorable). */
  private lastRecheck = 0;
  private sinceRecheck = 0;

  /** `restore`: start from a saved state at the branch point when the program allows it.
   * `resumed`: the strategy continues a checkpoint (its first execution replays a saved path). */
  constructor(private readonly restore = false, private readonly resumed = false) {}

  /** The execution before, kept to be rewound to the next one's branch point. */
  private last: Execution | null = null;
  /** How rewinds bring threads back (ExploreOptions.replay). */
  readonly replay = new ReplayPolicy();

  /**
   * Runs the next execution of a search: the previous one taken back to the branch point when
   * the program declares `state` (Execution.rewind), else a fresh build from the start.
   */
  runNext(build: () => Execution, strategy: Strategy, afterStep?: (event: EventRecord) => void): { exec: Execution; outcome: ExecutionOutcome } {
    const prev = this.prev;
    const last = this.last;
    const k = this.restore && prev && last && last.program.state !== undefined ? this.restorable(strategy, prev) : 0;
    if (k > 0) {
      last!.rewind(k, this.saved[k], this.saved[0], this.replay);
      strategy.skipPrefix!(k);
      return { exec: last!, outcome: this.drive(last!, strategy, k, afterStep) };
    }
    const exec = build();
    this.last = exec;
    return { exec, outcome: this.runExecution(exec, strategy, afterStep) };
  }

  /** Runs one freshly built execution to its end under `strategy`'s choices. */
  runExecution(exec: Execution, strategy: Strategy, afterStep?: (event: EventRecord) => void): ExecutionOutcome {
    const prev = this.prev;
    // Every execution starts from the same state: each thread's first step is the same one.
    const start = startOf(exec);
    if (prev !== null) {
      for (let t = 0; t < Math.max(start.length, prev.start.length); t++) {
        const a = prev.start[t];
        const b = start[t];
        if (a === undefined || b === undefined || a.label !== b.label || !sameFootprint(a.footprint, b.footprint)) {
          throw nondeterministic(exec, 0, `thread ${t}'s first step was ${firstText(exec, t, a)}`, `it is ${firstText(exec, t, b)}`);
        }
      }
    }
    this.start = start;
    return this.drive(exec, strategy, 0, afterStep);
  }

  /** Each thread's first step in the initial state (from the last fresh build). */
  private start: readonly FirstStep[] = [];

  /** The enabled sets of the execution before from the branch point on (drive's scratch). */
  private readonly tail: (readonly ThreadId[])[] = [];

  /** Runs `exec`, whose first `k` steps are already there, to its end. */
  private drive(exec: Execution, strategy: Strategy, k: number, afterStep?: (event: EventRecord) => void): ExecutionOutcome {
    const prev = this.prev;
    let enabledSets: (readonly ThreadId[])[] = [];
    let following = prev !== null;
    let abandoned = false;
    let revisit = false;
    // A search over states asks the strategy about every state after the branch point.
    const stateful = strategy.arrive !== undefined && exec.chains !== null && exec.program.state !== undefined;
    // The state before each step, for the next execution to start from its branch point; but
    // after the 2^i-th execution the next one re-runs its prefix (restorable), so nothing saved
    // would be read, unless a search over states fingerprints it. A search that ends in its first
    // execution (a violation found at once) saved a state before every step for nothing (4 % of
    // cpa no-cache-flush's instructions).
    const next = this.executions + 1;
    const saving = exec.program.state !== undefined && (stateful || (this.restore && (next & (next - 1)) !== 0));
    if (!saving) this.saved.length = 0;
    // States up to the branch point were visited by the executions before; the cache is asked
    // about the states after it.
    const branch = strategy.replayedPrefix?.() ?? 0;
    // The sets the execution before had from k on, which this one must have while it follows
    // it; its first k sets are this one's, not copied, as the events are not (below): a copy of
    // the prefix per execution was 9 % of two writers' allocation.
    let before: readonly (readonly ThreadId[])[] = prev?.enabled ?? [];
    let beforeLength = before.length;
    if (k > 0) {
      // Copied into one list kept for it (a slice per execution was a tenth of drive's
      // allocation), by index: `length = 0` would drop its storage (V8), and pushes make it again.
      const tail = this.tail;
      const n = prev!.enabled.length - k;
      for (let i = 0; i < n; i++) tail[i] = prev!.enabled[k + i]!;
      before = tail;
      beforeLength = n;
      enabledSets = prev!.enabled as (readonly ThreadId[])[];
      truncate(enabledSets, k);
    }
    if (saving) this.saved.length = Math.max(k + 1, 1);
    if (saving && k === 0) this.saved[0] = exec.saveState();
    for (let d = k; !exec.failure && exec.blocked === null; d++) {
      if (saving && d > k) this.saved.push(exec.saveState());
      // The initial state too, on the first execution: a cycle may lead back to it.
      if (stateful && (d > branch || (d === 0 && prev === null && !this.resumed))) {
        const seen = strategy.arrive!(fingerprintOf(exec, this.saved[d]), exec.threadCount);
        if (seen === 'explored') {
          revisit = true;
          break;
        }
        if (seen !== 'explore') {
          exec.repeats(seen.repeats);
          break;
        }
      }
      const enabled = exec.enabled();
      if (exec.failure || exec.blocked !== null) break;
      enabledSets.push(enabled);
      if (following && d - k < beforeLength && !sameThreads(before[d - k]!, enabled)) {
        throw nondeterministic(exec, d, `the threads able to run were ${names(exec, before[d - k]!)}`, `they are ${names(exec, enabled)}`);
      }
      if (enabled.length === 0) {
        exec.finish();
        break;
      }
      const tid = strategy.choose(exec, enabled);
      if (tid === null) {
        abandoned = true;
        break;
      }
      if (!enabled.includes(tid)) throw this.offPath(exec, strategy, d, tid, enabled);
      const was = following && d < prev!.events.length ? prev!.events[d]! : undefined;
      if (was && was.tid !== tid) following = false;
      const event = exec.step(tid, saving ? this.saved[d] : undefined);
      if (following && was) checkSameStep(exec, d, was, event);
      else following = false;
      strategy.afterStep?.(exec, event);
      afterStep?.(event);
    }
    // The events are not copied: a fresh build leaves this execution's list as it is, and a
    // rewind keeps its first k events, where the next execution follows this one (the branch
    // point's step is another thread's, so it stops following there).
    this.prev = { opaqueFrom: exec.opaqueFrom, enabled: enabledSets, start: this.start, events: exec.events };
    this.sinceRecheck += exec.events.length - k;
    // A revisit ends the execution like an abandonment: everything after it was explored.
    return { abandoned: abandoned || revisit, enabled: enabledSets, restored: k };
  }

  /** A strategy chose a thread that cannot run. Right after a resume the checkpoint's saved
   * position does not fit the program; otherwise it is a bug in the strategy. */
  private offPath(exec: Execution, strategy: Strategy, d: number, tid: ThreadId, enabled: readonly ThreadId[]): Error {
    const what = `step ${d + 1} chooses ${tid >= 0 && tid < exec.threadCount ? exec.threadName(tid) : `thread ${tid}`}, which cannot run (able to run: ${names(exec, enabled)})`;
    if (this.resumed && this.prev === null) return new CheckpointError(`the checkpoint's ${strategy.name} position does not fit this program: ${what}`);
    return new EngineError(`strategy ${strategy.name}: ${what}`);
  }

  /** How many leading steps of the execution about to run can be restored rather than run. */
  private restorable(strategy: Strategy, prev: Path): number {
    // Now and then the prefix is re-run instead, so the cursor compares a real run with what
    // restored executions did: a state that save/restore does not cover, like any
    // nondeterminism, shows up as a difference. Executions 2^i, then one in 61 at most, and only
    // once the steps run since the last re-run are 16 times the prefix it re-runs: a search over
    // states ends most executions a few steps after a deep branch point, and re-running every
    // 61st prefix there was 15 % of all steps (two writers).
    const n = ++this.executions;
    if ((n & (n - 1)) === 0) return this.recheck(n);
    if (!strategy.skipPrefix) return 0;
    const k = strategy.replayedPrefix?.() ?? 0;
    // The saved state at k, the prefix's results as plain data, and the prefix itself.
    if (k <= 0 || k >= this.saved.length || k > prev.events.length || k > prev.opaqueFrom) return 0;
    if (n - this.lastRecheck >= 61 && this.sinceRecheck >= 16 * k) return this.recheck(n);
    return k;
  }

  /** The execution about to run re-runs its prefix (restorable's check). */
  private recheck(n: number): 0 {
    this.lastRecheck = n;
    this.sinceRecheck = 0;
    return 0;
  }
}

/** The state now: the saved program state and every thread's position (null: a thread received
 * a result that is not data, so the state cannot be recognised). */
function fingerprintOf(exec: Execution, saved: unknown): Fingerprint | null {
  const chains = exec.chains!;
  for (let t = 0; t < chains.length; t++) if (chains[t] === null) return null;
  return stateFingerprint(saved, chains as readonly Fingerprint[], exec.program.state);
}

interface FirstStep {
  readonly label: string | null;
  readonly footprint: readonly Access[];
}

function startOf(exec: Execution): FirstStep[] {
  const out: FirstStep[] = [];
  for (let t = 0; t < exec.threadCount; t++) {
    const step = exec.pending(t);
    out.push(step ? { label: step.label, footprint: exec.pendingFootprint(t) } : { label: null, footprint: [] });
  }
  return out;
}

function firstText(exec: Execution, t: number, s: FirstStep | undefined): string {
  if (!s) return 'none (no such thread)';
  return s.label === null ? `none (\`${exec.threadName(t)}\` had finished)` : `\`${exec.threadName(t)}: ${s.label}\` ${fpText(s.footprint)}`;
}

function checkSameStep(exec: Execution, d: number, was: EventRecord, now: EventRecord): void {
  const what = (e: EventRecord) => `\`${exec.threadName(e.tid)}: ${e.label}\`${e.note ? ` (${e.note})` : ''}`;
  if (was.label !== now.label || was.note !== now.note) throw nondeterministic(exec, d, `step ${d + 1} was ${what(was)}`, `it is ${what(now)}`);
  if (!sameFootprint(was.footprint, now.footprint)) {
    throw nondeterministic(exec, d, `step ${d + 1} (${what(now)}) touched ${fpText(was.footprint)}`, `it touches ${fpText(now.footprint)}`);
  }
}

function nondeterministic(exec: Execution, d: number, then: string, now: string): NondeterminismError {
  return new NondeterminismError(
    `the model is not deterministic: on the same schedule, ${d === 0 ? 'at the start' : `after step ${d}`} ${then}, now ${now}. ` +
      `A model must build fresh state in build() and take no input from outside it (a counter kept between executions, Math.random, the clock); ` +
      `a program that declares \`state\` must save and restore everything its steps change`,
  );
}

function sameThreads(a: readonly ThreadId[], b: readonly ThreadId[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const names = (exec: Execution, tids: readonly ThreadId[]) => (tids.length ? tids.map((t) => exec.threadName(t)).join(', ') : 'none');
const fpText = (f: readonly Access[]) => `[${f.map((a) => `${a.write ? 'w' : 'r'} ${a.loc}`).join(', ')}]`;

/** Explores with `strategy` until it has nothing left, a violation, a budget or a stop. */
export function run(make: () => Program, strategy: Strategy, o: ExploreOptions, probe: Program = make()): ExploreResult {
  const now = o.now ?? (() => performance.now());
  const audit = o.audit ?? true;
  // Only with the audit on: invariant reads are what it records.
  // The invariants and thread names of a build that never runs (`probe`, the caller's when it
  // has one: a build costs more than a small search's every step).
  const watches = audit ? new WatchTracker(probe.invariants) : undefined;
  const execOptions = { maxSteps: o.maxSteps ?? DEFAULT_MAX_STEPS, audit, watches, positions: strategy.arrive !== undefined, ...(o.invariantChecks === 'every' ? {} : { invariantChecks: new InvariantChecks(strategy.dependence ?? new Dependence(probe.invariants)) }) };
  const states = new Set<string>();
  const cursor = new Cursor(o.restore ?? true, o.resume !== undefined);
  if (o.replay === 'full') cursor.replay.lazy = false;
  if (o.keptCheck !== undefined) cursor.replay.keptCheck = o.keptCheck;
  let executions = 0;
  let restoredSteps = 0;
  let blocked = 0;
  let steps = 0;
  let maxDepth = 0;
  let previousMs = 0;
  if (o.resume) {
    if (o.resume.strategy !== strategy.name) throw new CheckpointError(`checkpoint is for strategy ${o.resume.strategy}, not ${strategy.name}`);
    strategy.restore(o.resume.state);
    ({ executions, steps, maxDepth, elapsedMs: previousMs } = o.resume);
    blocked = o.resume.blocked ?? 0;
    restoredSteps = o.resume.restoredSteps ?? 0;
  }
  const t0 = now() - previousMs;
  const statesNow = () => (strategy instanceof StatefulStrategy ? { states: strategy.cache.size } : {});
  let lastProgress = now();
  let violation: Violation | undefined;
  let stopped: 'interrupted' | 'bounded' | undefined;
  let cut: string | undefined;
  // The probe, never run, is the first execution's program.
  let unused: Program | undefined = probe;
  const build = (): Program => {
    const p = unused ?? make();
    unused = undefined;
    return p;
  };
  let ended = 0;
  // Made once, not per execution: an execution of the search over states is a few steps long.
  // Inside a very long execution too, a heartbeat every 4096 steps (at most twice a second),
  // so a watchdog never takes a long but progressing execution for a hung model.
  // Counted here, not read off the execution: a rewound one is not `current` (it was the
  // clock, read at every step of every rewound execution, 2.7 % of two writers' time).
  let current: Execution | undefined;
  let sinceBeat = 0;
  const beat = o.onProgress
    ? () => {
        if (++sinceBeat < 4096) return;
        sinceBeat = 0;
        const n = current?.events.length ?? 0;
        const t = now();
        if (t - lastProgress < 500) return;
        lastProgress = t;
        o.onProgress!({ executions: executions + blocked, steps: steps + n, elapsedMs: t - t0, ...statesNow() });
      }
    : undefined;
  const fresh = (): Execution => (current = new Execution(build, execOptions));
  let last: Execution | undefined;
  while (true) {
    if (o.shouldStop?.()) {
      stopped = 'interrupted';
      break;
    }
    if (o.maxExecutions !== undefined && executions + blocked >= o.maxExecutions) {
      stopped = 'bounded';
      cut = `max executions ${o.maxExecutions}`;
      break;
    }
    if (o.timeLimitMs !== undefined && now() - t0 >= o.timeLimitMs) {
      stopped = 'bounded';
      cut = `time limit ${Math.round(o.timeLimitMs / 1000)} s`;
      break;
    }
    watches?.settle(); // what the last execution touched (nothing to do when the search stopped at it)
    if (!strategy.beginExecution()) break;
    current = undefined;
    const { exec, outcome } = cursor.runNext(fresh, strategy, beat);
    current = last = exec;
    const { abandoned, enabled, restored } = outcome;
    steps += exec.events.length - restored;
    restoredSteps += restored;
    strategy.endExecution(exec);
    maxDepth = Math.max(maxDepth, exec.events.length);
    if (o.onProgress) {
      // Progress counts executions ended complete or blocked (what --max-executions counts).
      // Every 1000 executions, and at least twice a second — counting abandoned and blocked
      // executions too, so a long stretch of them is never mistaken for a hung model.
      const t = now();
      if (++ended % 1000 === 0 || t - lastProgress >= 500) {
        lastProgress = t;
        o.onProgress({ executions: executions + blocked, steps, elapsedMs: t - t0, ...statesNow() });
      }
    }
    if (abandoned) continue;
    if (exec.blocked !== null) {
      blocked++;
      continue;
    }
    executions++;
    o.onExecution?.(exec.events, exec);
    if (exec.failure && (o.accept?.(exec.failure) ?? true)) {
      violation = toViolation(exec, enabled);
      break;
    }
    if (o.collectFinalStates && !exec.failure) {
      const st = exec.finalState();
      if (st !== undefined) states.add(st);
    }
  }
  const verdict = violation ? 'violated' : stopped ?? (strategy.exhaustive ? 'holds' : 'bounded');
  // Only a complete search can tell that no step ever touches a location.
  const warnings = verdict === 'holds' && executions + blocked > 0 ? watches?.warnings() ?? [] : [];
  const sleepBlocked = 'sleepBlocked' in strategy && typeof strategy.sleepBlocked === 'number' ? strategy.sleepBlocked : 0;
  return {
    verdict,
    strategy: strategy.name,
    executions,
    blocked,
    sleepBlocked,
    steps,
    restoredSteps,
    maxDepth,
    elapsedMs: now() - t0,
    ...(strategy instanceof StatefulStrategy ? { cache: { ...strategy.cache.stats(), revisits: strategy.revisits } } : {}),
    violation,
    cut: verdict === 'bounded' ? cut ?? strategy.cut : undefined,
    finalStates: o.collectFinalStates ? [...states].sort() : undefined,
    ...(warnings.length ? { warnings } : {}),
    threads: last ? threadNames(last) : probe.threads.map((t) => t.name),
    checkpoint:
      stopped === 'interrupted' ? { strategy: strategy.name, executions, blocked, steps, restoredSteps, maxDepth, elapsedMs: now() - t0, state: strategy.save() } : undefined,
  };
}

/** Every thread's name, in order (a loop: `Array.from({ length }, f)` took a microsecond). */
function threadNames(exec: Execution): string[] {
  const names: string[] = [];
  for (let t = 0; t < exec.threadCount; t++) names.push(exec.threadName(t));
  return names;
}

export function toViolation(exec: Execution, enabledSets: readonly (readonly ThreadId[])[]): Violation {
  const schedule = exec.events.map((e) => e.tid);
  // Object.assign, not `{ ...failure, schedule }`: V8 builds a spread followed by new properties
  // on its slow path (microseconds: a tenth of this function in a short search).
  return Object.assign({}, exec.failure!, {
    schedule,
    trace: exec.events.map((e) => ({ tid: e.tid, thread: exec.threadName(e.tid), label: e.label, note: e.note })),
    preemptions: countPreemptions(schedule, enabledSets),
  });
}
