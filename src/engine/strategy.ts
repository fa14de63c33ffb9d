// The one interface every exploration strategy implements. The driver (explore.ts) runs the
// execution and records every step; a strategy only chooses which thread goes next.
import type { EventRecord, Execution } from './execution.js';
import type { Access, ThreadId } from './types.js';
import type { Fingerprint } from './fingerprint.js';
import type { Dependence } from './dependence.js';

export interface Strategy {
  readonly name: string;
  /** Prepares the next execution; false when there is nothing left to explore. */
  beginExecution(): boolean;
  /** Picks the next thread among `enabled` (non-empty, id order); null abandons the execution
   * (a sleep-set-blocked or bound-pruned prefix that needs no completion). */
  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null;
  afterStep?(exec: Execution, event: EventRecord): void;
  /** The strategy's dependence relation, made from the program's invariants: the driver's
   * invariant checks use the same one (one location table, one cache of what each location's
   * writes are visible to). */
  readonly dependence?: Dependence;
  /**
   * How many leading choices of the execution just begun repeat the previous execution's (its
   * branch point). The driver may then restore the state there instead of replaying: it calls
   * `skipPrefix(k)` and asks `choose` only from step k on. Absent: 0.
   */
  replayedPrefix?(): number;
  skipPrefix?(k: number): void;
  /**
   * For a search over states (stateful.ts): the execution reached, after its branch point, a state
   * with fingerprint `fp` (null: one that cannot be fingerprinted). 'explored' stops the
   * execution there (the state was explored before); `{ repeats }`: the state is the one at
   * that earlier depth of this very execution, which can therefore go round forever. Absent:
   * the strategy keeps no states.
   */
  arrive?(fp: Fingerprint | null, threads: number): Arrived;
  endExecution(exec: Execution): void;
  /** True when finishing without a violation proves the program correct. */
  readonly exhaustive: boolean;
  /** Why the search was not exhaustive (a bound that pruned choices), if it was not. */
  readonly cut?: string;
  /** The strategy's position between two executions, as plain JSON (for checkpoints). */
  save(): unknown;
  /** Continues from a `save()`d position; throws CheckpointError if it does not fit. */
  restore(state: unknown): void;
  /**
   * Before the first execution: explore only the subtree below this fixed prefix (a job of the
   * parallel search, src/parallel/split.ts). Every other choice at a prefix node is another job's
   * or asleep, so the strategy never backtracks into the prefix. Absent: the strategy cannot be split.
   */
  pin?(prefix: readonly PinnedNode[]): void;
}

/** One step of a pinned prefix, as the search above the frontier saw it. */
export interface PinnedNode {
  readonly chosen: ThreadId;
  /** Threads enabled there (id order), and the footprint of each one's pending step. */
  readonly enabled: readonly ThreadId[];
  readonly pending: readonly (readonly Access[])[];
  /** Threads asleep there, the siblings explored before `chosen` included (each enabled). */
  readonly sleep: readonly ThreadId[];
  /** The state's fingerprint there ([lo, hi]), for a search over states; null: none. */
  readonly fp: readonly [number, number] | null;
}

export type Arrived = 'explore' | 'explored' | { readonly repeats: number };

export class CheckpointError extends Error {}

/** A saved node replayed after a resume must show this program's enabled threads and steps. */
export function checkResumed(strategy: string, d: number, saved: readonly ThreadId[], now: readonly ThreadId[], samePending = true): void {
  const same = saved.length === now.length && saved.every((t, i) => t === now[i]);
  if (!same || !samePending) {
    throw new CheckpointError(
      `the checkpoint's ${strategy} position does not fit this program: before step ${d + 1} it says threads [${saved.join(', ')}] can run${same ? ' with other steps' : `, the program has [${now.join(', ')}]`}`,
    );
  }
}

