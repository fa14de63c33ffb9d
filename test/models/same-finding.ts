// Two searches of one built-in variant met the same kind of end. A variant that declares several
// invariants its bug can break (cpa pgd-lock-irqs-off: a deadlock, or conflicting translations)
// may have each search meet a different one first, as DPOR, bounded and PCT search do (README):
// then each must be one it declares.
import { expect } from 'vitest';
import { declaredViolations, type ModelResult } from '../../src/index.js';

export function sameFinding(a: ModelResult, b: ModelResult): void {
  expect(a.verdict).toBe(b.verdict);
  const declared = declaredViolations(a.expected);
  if (declared.length > 1 && a.violation && b.violation) {
    expect(declared).toContain(a.violation.invariant);
    expect(declared).toContain(b.violation.invariant);
  } else expect(a.violation?.invariant).toBe(b.violation?.invariant);
}
