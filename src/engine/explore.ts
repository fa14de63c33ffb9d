// Exploring a program: pick the strategy, run the driver. The pieces live in their own modules
// (driver.ts the loop and the determinism cursor, strategies.ts the registry, bounded.ts the
// iterative preemption bounding, results.ts the data); this module is the entry point.
import { exploreBounded } from './bounded.js';
import { run } from './driver.js';
import { errText } from './execution.js';
import { ModelError } from './errors.js';
import type { ExploreOptions, ExploreResult, Violation } from './results.js';
import { makeStrategy } from './strategies.js';
import type { Program } from './types.js';

export * from './results.js';
export { run, toViolation } from './driver.js';

export function exploreProgram(make: () => Program, options: ExploreOptions = {}): ExploreResult {
  const strategy = options.strategy ?? 'dpor';
  let probe: Program;
  try {
    probe = make();
  } catch (e) {
    if (e instanceof ModelError) throw e;
    return buildFailure(strategy, e);
  }
  if (strategy === 'bounded') return exploreBounded(make, options);
  const r = run(make, makeStrategy(strategy, probe, options), options, probe);
  // Asked (by default) to store states, but a fingerprint needs the program's saved state.
  const wanted = options.cache === true && (strategy === 'dpor' || (strategy === 'dfs' && options.preemptionBound === undefined));
  return wanted && probe.state === undefined ? { ...r, stateless: 'the model declares no Program.state, so its states cannot be stored' } : r;
}

/** The model could not even build its program: a model error before the first step. */
function buildFailure(strategy: string, e: unknown): ExploreResult {
  const violation: Violation = { kind: 'error', invariant: 'model-error', message: `building the model threw: ${errText(e)}`, schedule: [], trace: [], preemptions: 0 };
  return { verdict: 'violated', strategy, executions: 0, blocked: 0, sleepBlocked: 0, steps: 0, restoredSteps: 0, maxDepth: 0, elapsedMs: 0, violation, threads: [] };
}
