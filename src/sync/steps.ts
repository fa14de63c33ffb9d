// Control steps for user models: assume (block executions that do not satisfy a condition),
// assert (fail the execution), and waitUntil (a step enabled only once a condition holds).
import { assertHolds, assumeHolds } from '../engine/execution.js';
import { read } from '../engine/types.js';
import { mkStep } from '../machine/step.js';
import type { Located, Op } from './shared.js';

/**
 * assume(cond): executions in which `cond` (computed by the thread from values it loaded) is
 * false are *blocked*: neither complete nor violated, and no invariant is checked on them
 * (GenMC's __VERIFIER_assume). The step touches nothing.
 */
export function* assume(cond: boolean, reason = 'assumption'): Op<void> {
  yield mkStep(`assume ${reason}`, [], () => assumeHolds(cond, reason));
}

/** The name of the violation a failed `assert` reports. */
export const ASSERTION = 'assertion';

/**
 * assert(cond): a step that fails the execution — a violation named `assertion`, "assertion
 * failed: <message>" — when `cond` (computed by the thread from values it loaded) is false. It
 * touches nothing.
 */
export function* assert(cond: boolean, message: string): Op<void> {
  yield mkStep(`assert ${message}`, [], (say) => {
  assertHolds(cond, ASSERTION, `assertion failed: ${message}`);
  say('holds');
});
}

/**
 * await: one step, enabled only while `cond()` holds — a waiter is blocked, not spinning, so
 * a condition that never comes true is a deadlock the engine reports. `cond` may read only the
 * locations of `reads` (the audit checks it).
 */
export function* waitUntil(label: string, reads: readonly Located[], cond: () => boolean): Op<void> {
  yield mkStep(`wait until ${label}`, reads.map((x) => read(x.loc)), (say) => say('condition holds'), cond);
}
