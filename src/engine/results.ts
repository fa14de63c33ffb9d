// What an exploration is asked to do and what it reports: plain data shared by the driver, the
// strategies' registry, the CLI and the test-runner integration.
import type { EventRecord, Execution, Failure } from './execution.js';
import type { ThreadId } from './types.js';
import type { CacheStats, StateLookup } from './state-cache.js';

export type StrategyName = 'dfs' | 'dpor' | 'bounded' | 'random' | 'pct';
export const STRATEGIES: readonly StrategyName[] = ['dpor', 'dfs', 'bounded', 'random', 'pct'];

export interface ExploreOptions {
  strategy?: StrategyName;
  /** Steps after which an execution counts as a livelock. */
  maxSteps?: number;
  /** Stop (verdict "bounded") after this many executions. */
  maxExecutions?: number;
  /** Stop (verdict "bounded") after this long; elapsed time never steers a choice. */
  timeLimitMs?: number;
  /** For `bounded`: the largest preemption bound tried (0, 1, … up to it). For `dfs`: a fixed bound. */
  preemptionBound?: number;
  /** For `random` / `pct`. */
  seed?: string;
  /** For `random` / `pct`: executions to sample. */
  samples?: number;
  /** For `pct`: bug depth d. */
  pctDepth?: number;
  /** Check every access against the declared footprints and watch lists (default true). */
  audit?: boolean;
  /** Start each execution from the saved state at its branch point, for programs that declare
   * `state` (default true); false re-runs every prefix. */
  restore?: boolean;
  /** How a restored execution brings back a thread that stepped after the branch point:
   * 'lazy' (default) only when it steps again, from its own results; 'full' every such
   * thread at once, with every other, from the initial state (the safe way, for cross-checks). */
  replay?: 'lazy' | 'full';
  /** With 'lazy' and a program that declares `pureThreads`: which runs of a kept step (a thread
   * taken back runs the step object it took before, Step.stable) are also run beside the step
   * its thread yields again, to check the claim — 'sampled' (default: the first two of each
   * label, then one in 64), 'every', or 'never' (tests that count kept runs). */
  keptCheck?: 'sampled' | 'every' | 'never';
  /** When a per-step invariant is checked: 'visible' (default) after a step that writes a
   * location it watches (it held before, and reads nothing else), or 'every' step (the plain
   * way, for cross-checks). */
  invariantChecks?: 'visible' | 'every';
  /** Store visited states and stop an execution at a state seen before (dfs; dpor becomes the
   * stateful search with sleep sets). Default false here; the CLI and the matchers turn it on. */
  cache?: boolean;
  /** Bytes the state cache may take before it turns into a bit array (bitstate). */
  maxCacheBytes?: number;
  /** A job of a split search over states: the states the jobs of earlier waves explored, looked
   * up (never changed) when the job's own cache has not seen a state (src/parallel/waves.ts). */
  explored?: StateLookup;
  /** Record the canonical final state of every complete execution (for cross-checks). */
  collectFinalStates?: boolean;
  /** Polled between executions; true stops with verdict "interrupted". */
  shouldStop?: () => boolean;
  onProgress?: (p: Progress) => void;
  /** Called with the steps of every complete execution (for cross-checks and statistics). */
  onExecution?: (events: readonly EventRecord[], exec: Execution) => void;
  /** Only failures this accepts end the search; others count as ordinary executions
   * (used to look for a smaller counterexample of one particular invariant). */
  accept?: (f: Failure) => boolean;
  /** Continue an interrupted exploration from its checkpoint. */
  resume?: Checkpoint;
  /** Source of elapsed time (for reports and the time limit only). */
  now?: () => number;
}

export interface Progress {
  readonly executions: number;
  readonly steps: number;
  readonly elapsedMs: number;
  /** States stored so far, for a search over states. */
  readonly states?: number;
}

export interface TraceStep {
  readonly tid: ThreadId;
  readonly thread: string;
  readonly label: string;
  readonly note?: string;
}

export interface Violation extends Failure {
  /** Thread chosen at each step. */
  readonly schedule: readonly ThreadId[];
  readonly trace: readonly TraceStep[];
  readonly preemptions: number;
}

/** Where an interrupted exploration stood, as plain JSON: enough to continue it exactly. */
export interface Checkpoint {
  readonly strategy: string;
  readonly executions: number;
  /** Executions ended by a failed `assume` (absent in checkpoints of older versions). */
  readonly blocked?: number;
  readonly steps: number;
  readonly restoredSteps?: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
  readonly state: unknown;
}

export type Verdict = 'holds' | 'violated' | 'bounded' | 'interrupted';

export interface ExploreResult {
  readonly verdict: Verdict;
  readonly strategy: string;
  /** Complete executions run (each to its end or to a violation). */
  readonly executions: number;
  /** Executions ended by a failed `assume`: explored, but neither complete nor violating. */
  readonly blocked: number;
  /** DPOR executions abandoned as redundant by sleep sets (not counted in `executions`). */
  readonly sleepBlocked: number;
  /** Steps run, counting the prefixes stateless search re-ran. */
  readonly steps: number;
  /** Prefix steps brought back by restoring a saved state instead of running them again. */
  readonly restoredSteps: number;
  readonly maxDepth: number;
  readonly elapsedMs: number;
  /** The state cache, when on: states stored, executions stopped at a visited state. */
  readonly cache?: CacheReport;
  /** Why a search asked to store states did not (the program declares no `state`). */
  readonly stateless?: string;
  readonly violation?: Violation;
  /** Why the search was not exhaustive, when verdict is "bounded". */
  readonly cut?: string;
  readonly finalStates?: readonly string[];
  /** Things the search noticed that do not change the verdict (a watch prefix that named nothing). */
  readonly warnings?: readonly string[];
  readonly threads: readonly string[];
  /** Present when interrupted: pass it as `resume` to continue. */
  readonly checkpoint?: Checkpoint;
}

export const DEFAULT_MAX_STEPS = 2000;

export interface CacheReport extends CacheStats {
  /** Executions stopped because they reached a state already explored. */
  readonly revisits: number;
}
