// Re-runs one recorded schedule. A schedule that no longer fits the program (a thread not able
// to run, a different step label) is reported as a divergence at its step number.
import { Execution, type Failure } from './execution.js';
import type { TraceStep } from './explore.js';
import type { Program, ThreadId } from './types.js';

export class ReplayDivergence extends Error {
  constructor(readonly step: number, readonly expected: string, readonly got: string) {
    super(`trace diverges at step ${step}: expected ${expected}, got ${got}`);
  }
}

export interface ReplayResult {
  readonly failure: Failure | null;
  readonly trace: readonly TraceStep[];
  /** Program snapshot before the first step and after each step (if the program has one). */
  readonly snapshots: readonly unknown[];
  readonly threads: readonly string[];
}

export function replaySchedule(
  make: () => Program,
  schedule: readonly ThreadId[],
  opts: { maxSteps?: number; expectedLabels?: readonly string[] } = {},
): ReplayResult {
  const exec = new Execution(make, opts.maxSteps ?? Math.max(schedule.length, 2000));
  const threads = Array.from({ length: exec.threadCount }, (_, t) => exec.threadName(t));
  const snap = () => (exec.program.snapshot ? exec.program.snapshot() : undefined);
  const snapshots: unknown[] = [snap()];
  schedule.forEach((tid, i) => {
    const n = i + 1;
    if (exec.failure) throw new ReplayDivergence(n, `${threads[tid] ?? `thread ${tid}`} to run`, `the execution already ended (${exec.failure.invariant})`);
    if (!Number.isInteger(tid) || tid < 0 || tid >= exec.threadCount) {
      throw new ReplayDivergence(n, `thread ${tid}`, `a program with ${exec.threadCount} threads`);
    }
    if (!exec.isEnabled(tid)) {
      const pending = exec.pending(tid);
      throw new ReplayDivergence(n, `${threads[tid]} to run`, pending ? `${threads[tid]} blocked at "${pending.label}"` : `${threads[tid]} finished`);
    }
    const label = exec.pending(tid)!.label;
    const want = opts.expectedLabels?.[i];
    if (want !== undefined && want !== label) throw new ReplayDivergence(n, `"${threads[tid]}: ${want}"`, `"${threads[tid]}: ${label}"`);
    exec.step(tid);
    snapshots.push(snap());
  });
  if (!exec.failure && exec.enabled().length === 0) exec.finish();
  return {
    failure: exec.failure,
    trace: exec.events.map((e) => ({ tid: e.tid, thread: threads[e.tid]!, label: e.label, note: e.note })),
    snapshots,
    threads,
  };
}
