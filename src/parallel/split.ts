// The split of a search into jobs, the same for every worker count and every shard count: it
// depends on the program alone. The tree of schedules is explored breadth-first from the
// root, every enabled thread that is not asleep taken at every node (a plain search with sleep
// sets, Godefroid 1996), down to the first depth whose frontier holds TARGET_JOBS prefixes (or
// MAX_SPLIT_DEPTH). Each frontier prefix, with the sleep set of its last node, is one job:
// the requested strategy explores the subtree below it (Strategy.pin). An execution that ends
// above the frontier is a leaf, reported by the coordinator.
//
// Why it is sound (README "Parallel exploration"): at a node above the frontier every enabled
// thread is explored or asleep, so its backtrack set is full — whatever DPOR would add there for
// a race with a step below, it already has; a sleep set computed as the strategy computes it
// (the siblings explored before, in thread-id order, independent of the step taken) is what the
// strategy itself would carry into that child. A search over states gets one cache per job:
// forgetting a state explores at least as much as remembering it.
import { Dependence } from '../engine/dependence.js';
import { Execution, type ExecutionOptions } from '../engine/execution.js';
import { toViolation, type Violation } from '../engine/explore.js';
import { stateFingerprint, type Fingerprint } from '../engine/fingerprint.js';
import type { PinnedNode } from '../engine/strategy.js';
import { WatchTracker } from '../engine/watches.js';
import type { Access, Program, ThreadId } from '../engine/types.js';

/** Jobs wanted at the frontier: enough to keep 16 workers busy with uneven subtrees. */
export const TARGET_JOBS = 64;
/** The frontier goes no deeper (a long single-thread stretch would make the split costly). */
export const MAX_SPLIT_DEPTH = 12;
/** Sleep sets are bit masks in the search over states (stateful.ts): past this, none. */
const MASK_THREADS = 32;

/** The strategies that can be split, by the name the engine gives them (strategies.ts). */
export type SplitKind = 'dpor' | 'dfs' | 'stateful' | 'dfs+cache';
export const SPLIT_KINDS: readonly string[] = ['dpor', 'dfs', 'stateful', 'dfs+cache'];

export interface SplitOptions {
  readonly kind: SplitKind;
  readonly maxSteps: number;
  readonly audit: boolean;
  readonly collectFinalStates?: boolean;
  /** Tests only (a small program never reaches 64 prefixes): other frontier rules. The CLI
   * always splits by TARGET_JOBS and MAX_SPLIT_DEPTH. */
  readonly targetJobs?: number;
  readonly maxDepth?: number;
}

/** An execution that ended above the frontier. */
export interface Leaf {
  /** 'revisit': a search over states reached a state explored (or to be) from an earlier node. */
  readonly outcome: 'complete' | 'blocked' | 'violated' | 'sleep-blocked' | 'revisit';
  readonly steps: number;
  readonly violation?: Violation;
  readonly finalState?: string;
}

/** A subtree to explore: the prefix to it, node by node. Plain data (it crosses to workers). */
export interface SubtreeJob {
  readonly prefix: readonly PinnedNode[];
}

/** One part of the search, in the order of its schedule (the order results are merged in). */
export type Unit = { readonly schedule: readonly ThreadId[]; readonly job: SubtreeJob } | { readonly schedule: readonly ThreadId[]; readonly leaf: Leaf };

export interface Split {
  /** The strategy every job runs (its name is the result's). */
  readonly kind: SplitKind;
  /** The frontier's depth. */
  readonly depth: number;
  readonly units: readonly Unit[];
  /** Watch prefixes no step above the frontier touched (see merge.ts). */
  readonly warnings: readonly string[];
  /** Distinct states above the frontier, for a search over states. */
  readonly states: number;
}

/** A node above or at the frontier whose state is not an end. */
interface Open {
  readonly prefix: readonly PinnedNode[];
  readonly schedule: readonly ThreadId[];
  /** Asleep on arrival. */
  readonly sleep: readonly ThreadId[];
  readonly enabled: readonly ThreadId[];
  readonly pending: readonly (readonly Access[])[];
  readonly fp: readonly [number, number] | null;
}

export function splitSearch(make: () => Program, o: SplitOptions): Split {
  const probe = make();
  const sleeping = o.kind === 'dpor' || (o.kind === 'stateful' && probe.threads.length <= MASK_THREADS);
  // The dependence each strategy's sleep sets use: DPOR orders writes invariants watch too.
  const dep = new Dependence(o.kind === 'dpor' ? probe.invariants : []);
  const watches = o.audit ? new WatchTracker(probe.invariants) : undefined;
  const execOptions: ExecutionOptions = { maxSteps: o.maxSteps, audit: o.audit, watches, positions: o.kind === 'stateful' || o.kind === 'dfs+cache' };
  const units: Unit[] = [];
  const leaf = (schedule: readonly ThreadId[], l: Leaf) => units.push({ schedule, leaf: l });

  const states = o.kind === 'stateful' || o.kind === 'dfs+cache' ? new UpperStates() : undefined;
  const root = visit(make, execOptions, [], [], [], o, leaf, states);
  let level: Open[] = root ? [root] : [];
  let depth = 0;
  const target = o.targetJobs ?? TARGET_JOBS;
  const maxDepth = o.maxDepth ?? MAX_SPLIT_DEPTH;
  while (level.length > 0 && level.length < target && depth < maxDepth) {
    const next: Open[] = [];
    for (const node of level) {
      const asleep = new Set(node.sleep);
      const awake = node.enabled.filter((t) => !asleep.has(t));
      if (awake.length === 0) {
        leaf(node.schedule, { outcome: 'sleep-blocked', steps: node.schedule.length });
        continue;
      }
      const explored: ThreadId[] = [];
      // In thread-id order, for the search over states too (its jobs explore below in their
      // own order, stateful.ts's explorationOrder): with the waves, this order stores fewer
      // states (ptmigrate delimbo pages=4 reclaim=4 stores=2: 664,693 against 902,744).
      for (const t of awake) {
        const fpOf = (u: ThreadId) => node.pending[node.enabled.indexOf(u)]!;
        const here = sleeping ? [...node.sleep, ...explored].sort((a, b) => a - b) : [];
        const pinned: PinnedNode = { chosen: t, enabled: node.enabled, pending: node.pending, sleep: here, fp: node.fp };
        const childSleep = here.filter((u) => !dep.dependent(fpOf(u), fpOf(t)));
        const child = visit(make, execOptions, [...node.prefix, pinned], [...node.schedule, t], childSleep, o, leaf, states);
        if (child) next.push(child);
        explored.push(t);
      }
    }
    level = next;
    depth++;
  }
  for (const node of level) units.push({ schedule: node.schedule, job: { prefix: node.prefix } });
  units.sort((a, b) => compareSchedules(a.schedule, b.schedule));
  return { kind: o.kind, depth, units, warnings: watches?.warnings() ?? [], states: states?.size ?? 0 };
}

/**
 * The states above the frontier, for a search over states: a node whose state an earlier node
 * (in breadth-first order) has with no more threads asleep is explored there — its whole future
 * is, in that node's subtree — so it is cut, as the search over states cuts a revisit. A state
 * that comes round again on its own path is the step-bound failure the search reports.
 */
class UpperStates {
  private readonly seen = new Map<string, readonly ThreadId[]>();

  get size(): number {
    return this.seen.size;
  }

  arrive(fp: readonly [number, number], sleep: readonly ThreadId[], path: readonly PinnedNode[]): 'explore' | 'explored' | { readonly repeats: number } {
    for (let d = 0; d < path.length; d++) {
      const at = path[d]!.fp;
      if (at !== null && at[0] === fp[0] && at[1] === fp[1]) return { repeats: d };
    }
    const key = `${fp[0]}:${fp[1]}`;
    const before = this.seen.get(key);
    if (before !== undefined && before.every((t) => sleep.includes(t))) return 'explored';
    // As the cache keeps Z_H ∩ Z: only threads asleep both times stay unexplored.
    this.seen.set(key, before === undefined ? sleep : before.filter((t) => sleep.includes(t)));
    return 'explore';
  }
}

/** Runs `schedule` from the start: a leaf when the execution ends there, else the open node. */
function visit(
  make: () => Program,
  execOptions: ExecutionOptions,
  prefix: readonly PinnedNode[],
  schedule: readonly ThreadId[],
  sleep: readonly ThreadId[],
  o: SplitOptions,
  leaf: (schedule: readonly ThreadId[], l: Leaf) => void,
  states: UpperStates | undefined,
): Open | null {
  const exec = new Execution(make, execOptions);
  const enabledSets: (readonly ThreadId[])[] = [];
  for (const t of schedule) {
    if (exec.failure || exec.blocked !== null) break;
    enabledSets.push(exec.enabled());
    exec.step(t);
  }
  const enabled = exec.failure || exec.blocked !== null ? [] : exec.enabled();
  if (!exec.failure && exec.blocked === null && enabled.length === 0) exec.finish();
  const steps = exec.events.length;
  if (exec.failure) {
    enabledSets.push(enabled);
    leaf(schedule, { outcome: 'violated', steps, violation: toViolation(exec, enabledSets) });
    return null;
  }
  if (exec.blocked !== null) {
    leaf(schedule, { outcome: 'blocked', steps });
    return null;
  }
  if (enabled.length === 0) {
    const finalState = o.collectFinalStates ? exec.finalState() : undefined;
    leaf(schedule, { outcome: 'complete', steps, ...(finalState === undefined ? {} : { finalState }) });
    return null;
  }
  const fp = states ? fingerprintNow(exec) : null;
  const seen = fp === null ? 'explore' : states!.arrive(fp, sleep, prefix);
  if (seen === 'explored') {
    leaf(schedule, { outcome: 'revisit', steps });
    return null;
  }
  if (seen !== 'explore') {
    exec.repeats(seen.repeats);
    enabledSets.push(enabled);
    leaf(schedule, { outcome: 'violated', steps, violation: toViolation(exec, enabledSets) });
    return null;
  }
  const pending = enabled.map((t) => [...exec.pendingFootprint(t)]);
  return { prefix, schedule, sleep, enabled, pending, fp };
}

/** The state's fingerprint as the search over states computes it (driver.ts), when it keeps one. */
function fingerprintNow(exec: Execution): readonly [number, number] | null {
  const chains = exec.chains;
  if (chains === null || exec.program.state === undefined || chains.some((c) => c === null)) return null;
  const fp = stateFingerprint(exec.saveState(), chains as readonly Fingerprint[], exec.program.state);
  return [fp.lo, fp.hi];
}

/** Lexicographic order of schedules (none of the units' schedules is a prefix of another's). */
export function compareSchedules(a: readonly ThreadId[], b: readonly ThreadId[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
