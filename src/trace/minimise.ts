// Counterexample minimisation before a trace is written: first the fewest preemptions (iterative
// preemption bounding, looking only for the same invariant), then the fewest steps (drop steps
// from the schedule, as fast-check shrinks, while the same invariant still fails).
import type { Failure } from '../engine/execution.js';
import { followSchedule } from '../engine/replay.js';
import { DfsStrategy } from '../engine/dfs.js';
import { type Progress, run, toViolation, type Violation } from '../engine/explore.js';
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

export function minimise(make: () => Program, found: Violation, o: MinimiseOptions): Violation {
  let best = found;
  const deadline = deadlineOf(o);
  for (let bound = 0; bound < best.preemptions; bound++) {
    if (deadline.passed()) return best;
    const r = run(make, new DfsStrategy(bound), {
      maxSteps: o.maxSteps,
      maxExecutions: o.budgetPerBound ?? 20_000,
      timeLimitMs: deadline.left(),
      now: o.now,
      shouldStop: o.shouldStop,
      accept: (f) => sameFailure(f, found),
      onProgress: o.onProgress,
    });
    if (r.violation) {
      best = r.violation;
      break;
    }
  }
  return shrinkSteps(make, best, o.maxSteps, deadline.passed, o.onProgress);
}

/** Re-runs a schedule (through the driver); the violation it ends in, if it is the same kind as `want`. */
function attempt(make: () => Program, schedule: readonly ThreadId[], want: Failure, maxSteps: number): Violation | null {
  const { exec, enabled } = followSchedule(make, schedule, maxSteps);
  if (!exec.failure || !sameFailure(exec.failure, want)) return null;
  return toViolation(exec, enabled);
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
