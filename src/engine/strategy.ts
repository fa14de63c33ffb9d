// The one interface every exploration strategy implements. The driver (explore.ts) runs the
// execution and records every step; a strategy only chooses which thread goes next.
import type { EventRecord, Execution } from './execution.js';
import type { ThreadId } from './types.js';

export interface Strategy {
  readonly name: string;
  /** Prepares the next execution; false when there is nothing left to explore. */
  beginExecution(): boolean;
  /** Picks the next thread among `enabled` (non-empty, id order); null abandons the execution
   * (a sleep-set-blocked or bound-pruned prefix that needs no completion). */
  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null;
  afterStep?(exec: Execution, event: EventRecord): void;
  endExecution(exec: Execution): void;
  /** True when finishing without a violation proves the program correct. */
  readonly exhaustive: boolean;
  /** Why the search was not exhaustive (a bound that pruned choices), if it was not. */
  readonly cut?: string;
}
