// Re-runs one recorded schedule through the driver, as one more strategy. A schedule that no
// longer fits the program (a thread not able to run, a different step label) is reported as a
// divergence at its step number. Snapshots are copied (structuredClone) as they are taken, so a
// model that hands out its live state cannot make step 0 show what happened at step 9.
import { Cursor } from './driver.js';
import { Execution, type Failure } from './execution.js';
import { ModelError } from './errors.js';
import type { TraceStep } from './results.js';
import type { Strategy } from './strategy.js';
import type { Program, ThreadId } from './types.js';

export class ReplayDivergence extends Error {
  constructor(readonly step: number, readonly expected: string, readonly got: string) {
    super(`trace diverges at step ${step}: expected ${expected}, got ${got}`);
  }
}

export interface ReplayResult {
  readonly failure: Failure | null;
  /** Set when a step's assumption failed at the end of the schedule. */
  readonly blocked: string | null;
  readonly trace: readonly TraceStep[];
  /** Program snapshot before the first step and after each step (if the program has one). */
  readonly snapshots: readonly unknown[];
  readonly threads: readonly string[];
  /** Enabled threads before each step. */
  readonly enabled: readonly (readonly ThreadId[])[];
}

/** Chooses what the schedule says, checking that it can; gives up when the schedule ends. */
export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  readonly exhaustive = false;
  private d = 0;
  private started = false;

  constructor(private readonly schedule: readonly ThreadId[], private readonly expectedLabels?: readonly string[]) {}

  beginExecution(): boolean {
    if (this.started) return false;
    this.started = true;
    return true;
  }

  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const i = this.d++;
    if (i >= this.schedule.length) return null;
    const tid = this.schedule[i]!;
    const n = i + 1;
    if (!Number.isInteger(tid) || tid < 0 || tid >= exec.threadCount) throw new ReplayDivergence(n, `thread ${tid}`, `a program with ${exec.threadCount} threads`);
    const name = exec.threadName(tid);
    if (!enabled.includes(tid)) {
      const pending = exec.pending(tid);
      throw new ReplayDivergence(n, `${name} to run`, pending ? `${name} blocked at "${pending.label}"` : `${name} finished`);
    }
    const label = exec.pending(tid)!.label;
    const want = this.expectedLabels?.[i];
    if (want !== undefined && want !== label) throw new ReplayDivergence(n, `"${name}: ${want}"`, `"${name}: ${label}"`);
    return tid;
  }

  endExecution(): void {}
  save(): unknown {
    return { d: this.d };
  }
  restore(): void {}
}

/** Chooses what a candidate schedule says while it can; gives up where it does not fit. */
class FollowStrategy implements Strategy {
  readonly name = 'follow';
  readonly exhaustive = false;
  private d = 0;
  constructor(private readonly schedule: readonly ThreadId[]) {}
  beginExecution(): boolean {
    return true;
  }
  choose(_exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const tid = this.schedule[this.d++];
    return tid !== undefined && enabled.includes(tid) ? tid : null;
  }
  endExecution(): void {}
  save(): unknown {
    return null;
  }
  restore(): void {}
}

/**
 * Runs as much of a candidate schedule as fits (minimisation tries schedules that may not):
 * through the driver, up to the first choice that cannot run, the end of the schedule, or the
 * end of the execution. The execution and the enabled threads before each step.
 */
export function followSchedule(make: () => Program, schedule: readonly ThreadId[], maxSteps: number): { readonly exec: Execution; readonly enabled: readonly (readonly ThreadId[])[] } {
  const exec = new Execution(make, { maxSteps });
  const { enabled } = new Cursor().runExecution(exec, new FollowStrategy(schedule));
  return { exec, enabled };
}

export function replaySchedule(
  make: () => Program,
  schedule: readonly ThreadId[],
  opts: { maxSteps?: number; expectedLabels?: readonly string[]; audit?: boolean } = {},
): ReplayResult {
  const exec = new Execution(make, { maxSteps: opts.maxSteps ?? Math.max(schedule.length, 2000), audit: opts.audit });
  const threads = Array.from({ length: exec.threadCount }, (_, t) => exec.threadName(t));
  const snap = () => (exec.program.snapshot ? copy(exec.program.snapshot()) : undefined);
  const snapshots: unknown[] = [snap()];
  const strategy = new ReplayStrategy(schedule, opts.expectedLabels);
  strategy.beginExecution();
  const { enabled } = new Cursor().runExecution(exec, strategy, () => snapshots.push(snap()));
  if (exec.events.length < schedule.length) {
    const n = exec.events.length + 1;
    const tid = schedule[exec.events.length]!;
    const why = exec.failure ? `the execution already ended (${exec.failure.invariant})` : exec.blocked !== null ? `the execution was blocked (${exec.blocked})` : 'no thread able to run';
    throw new ReplayDivergence(n, `${threads[tid] ?? `thread ${tid}`} to run`, why);
  }
  return {
    failure: exec.failure,
    blocked: exec.blocked,
    trace: exec.events.map((e) => ({ tid: e.tid, thread: threads[e.tid]!, label: e.label, note: e.note })),
    snapshots,
    threads,
    enabled,
  };
}

function copy(x: unknown): unknown {
  try {
    return structuredClone(x);
  } catch (e) {
    throw new ModelError(`the model's snapshot() returned something that cannot be copied (${e instanceof Error ? e.message : String(e)}); return plain data`);
  }
}
