// When a per-step invariant is checked (Execution.checkInvariants): after a step that writes a
// location it watches. It held in the state before and reads only what it watches (the audit
// checks its recorded reads; DPOR's visible steps rest on the same fact), so a step that writes
// none of those locations cannot change its answer. What the audit cannot see is plain JS
// bookkeeping a step or thread code changes without noting a write: so now and then (the first
// two skips of each invariant, then one in 64) a skipped check runs anyway, and a failure there
// is a model error, not a finding — the invariant reads something its watch list does not say.
import type { Dependence } from './dependence.js';

export class InvariantChecks {
  /** Per invariant (its bit's index), the checks skipped so far in this search. */
  private readonly skipped: number[] = [];

  /** `dep`: which invariants each location's writes are visible to (Dependence.visibleTo). */
  constructor(readonly dep: Dependence) {}

  /** Whether invariant `g`'s skipped check runs anyway. */
  sample(g: number): boolean {
    const n = this.skipped[g] ?? 0;
    this.skipped[g] = n + 1;
    return n < 2 || (n & 63) === 0;
  }
}
