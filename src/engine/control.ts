// What a step's `run` may throw to steer its execution: `assume` (the thread stops, the
// execution ends blocked) and `assert` (a named violation). Branded, so that a model file with
// its own copy of mmcheck (loaded through tsx) throws what the engine recognises.
import { brand, hasBrand } from '../brand.js';

/**
 * Thrown inside a step by `assume` when its condition is false (GenMC's `__VERIFIER_assume`).
 * The thread stops there for good and the others go on, so partial-order reduction still sees
 * every race of the assuming step; the execution then ends *blocked* — not a violation, not a
 * complete execution. Sound because the failed step wrote nothing (checked): every state the
 * others reach after it is reached with the assuming thread simply not yet run. Not an Error,
 * so a model's own `catch (e: Error)` does not swallow it by accident.
 */
const ASSUMPTION_FAILED = brand('AssumptionFailed');
const ASSERTION_VIOLATED = brand('AssertionViolated');

export class AssumptionFailed {
  readonly [ASSUMPTION_FAILED] = true;
  constructor(readonly reason: string) {}
  static [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, ASSUMPTION_FAILED);
  }
}

/** Thrown inside a step by `assert` when its condition is false: a violation of `name`. */
export class AssertionViolated {
  readonly [ASSERTION_VIOLATED] = true;
  constructor(readonly name: string, readonly message: string) {}
  static [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, ASSERTION_VIOLATED);
  }
}

/** Fails the execution (a violation named `name`) unless `cond` holds; call it inside a step's `run`. */
export function assertHolds(cond: boolean, name: string, message: string): void {
  if (!cond) throw new AssertionViolated(name, message);
}

/** Blocks the current execution unless `cond` holds; call it inside a step's `run`. */
export function assumeHolds(cond: boolean, reason = 'assumption failed'): void {
  if (!cond) throw new AssumptionFailed(reason);
}
