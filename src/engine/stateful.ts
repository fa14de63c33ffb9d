// Stateful search: depth-first over states, each explored once, with sleep sets (Godefroid,
// "Partial-Order Methods for the Verification of Concurrent Systems", LNCS 1032, 1996, §5.2:
// sleep sets with state caching, the sleep set stored with each state).
//
// Why it is sound (also in the README's design section):
// - A state's fingerprint covers the program's saved state and each thread's position (the
//   results it received), so equal fingerprints mean equal futures: the same threads can run, the
//   same steps, the same invariants hold. A result chain only grows; memoryless threads and
//   positions (Step.position) can bring a state round again, and a revisit of a state on the
//   execution's own path is reported as the step-bound failure the stateless search would find.
// - Without sleep sets (strategy dfs) every successor of a state is explored on its first visit,
//   and a revisit comes after that subtree is complete (no cycles): pruning it loses nothing.
// - With sleep sets, a thread asleep at a state is one whose step there leads to a state the
//   search reaches along another path; sleep sets cut transitions, never states, so every
//   reachable state is still visited and every invariant checked in it. That holds with a
//   plain footprint dependence: invariants see every state, so writes they watch need no extra
//   ordering (as stateless DPOR needs). A state revisited with sleep set Z, first explored with
//   Z_H, explores the threads in Z_H \ Z (asleep then, awake now) and stores Z_H ∩ Z.
// - Sleep sets assume that what they skip is reached along the other path; a failure ends an
//   execution, so a search that goes on past failures (an `accept` filter) keeps no sleep sets.
// - In bitstate mode the stored sleep sets are gone: a new state is explored with an empty sleep
//   set (all its threads), so a revisit, which prunes, loses nothing but by a bit collision.
import type { Execution } from './execution.js';
import { type Arrived, CheckpointError, checkResumed, type PinnedNode, type Strategy } from './strategy.js';
import { type Access, type ThreadId, sameFootprint } from './types.js';
import type { Fingerprint } from './fingerprint.js';
import { FRESH, FRESH_UNSLEPT, StateCache, type StateLookup } from './state-cache.js';
import { Dependence } from './dependence.js';
import { truncate } from './arrays.js';
import { parseState, statefulState } from './checkpoint-schema.js';

/** Sleep sets are bit masks of thread ids: past this many threads the search keeps none. */
const MASK_THREADS = 32;

interface Node {
  /** Threads enabled in the state at this depth. */
  readonly enabled: readonly ThreadId[];
  /** Pending footprint of each enabled thread, by thread id. */
  readonly pending: readonly (readonly Access[] | undefined)[];
  /** Sleep set on arrival (bit per thread). */
  readonly sleep: number;
  /** Threads explored from this state, in order. */
  readonly todo: readonly ThreadId[];
  index: number;
  /** The state's fingerprint (null: not recognisable), to tell a cycle back to it. */
  readonly fp: Fingerprint | null;
}

/** What the state at the next new depth was found to be. */
interface Arrival {
  readonly fp: Fingerprint | null;
  readonly sleep: number;
  /** null: a new state (explore every awake thread); else the threads to explore on a revisit. */
  readonly wake: number | null;
}

/**
 * The threads of `enabled` whose bit is set in `allow`, in the order a state's successors are
 * explored: the last declared first, as Spin's pan tries its processes (highest _pid first;
 * `-DP_REVERSE` for the other way). Any order is sound with sleep sets and caching; this one
 * takes fewer transitions to the same states on most models (two writers: 450,774 steps
 * against 494,972 lowest first; thp 2×2: 13,737 against 17,619; cpa fixed: 16,432 against
 * 20,600; not ptmigrate clear-flush-copy: 1,189 against 1,108), as models declare their
 * threads before the machine's actors (IPI delivery, store buffers), whose steps then come
 * first. The split (parallel/split.ts) keeps thread-id order at its own levels (fewer states
 * with its waves).
 */
export function explorationOrder(enabled: readonly ThreadId[], allow = -1): ThreadId[] {
  const todo: ThreadId[] = [];
  for (let i = enabled.length - 1; i >= 0; i--) {
    const t = enabled[i]!;
    if ((allow & (1 << t)) !== 0) todo.push(t);
  }
  return todo;
}

export class StatefulStrategy implements Strategy {
  readonly name: string;
  readonly exhaustive = true;
  readonly cache: StateCache;
  private readonly nodes: Node[] = [];
  private depth = 0;
  private started = false;
  private verifying = false;
  private arrival: Arrival | null = null;
  /** Executions that ended because every enabled thread was asleep. */
  sleepBlocked = 0;
  /** Executions stopped at a state explored before. */
  revisits = 0;
  private readonly dep = new Dependence([]);
  /** Length of the pinned prefix (a job of a split search); 0: none. */
  private pinned = 0;

  /** `base`: states explored by the jobs of earlier waves of a split search (read only). */
  constructor(
    private readonly sleepSets: boolean,
    maxCacheBytes = Infinity,
    base: StateLookup | null = null,
  ) {
    this.name = sleepSets ? 'stateful' : 'dfs+cache';
    this.cache = new StateCache(maxCacheBytes, base);
  }

  beginExecution(): boolean {
    this.depth = 0;
    this.arrival = null;
    if (!this.started) {
      this.started = true;
      return true;
    }
    while (this.nodes.length > 0) {
      const top = this.nodes[this.nodes.length - 1]!;
      if (top.index + 1 < top.todo.length) {
        top.index++;
        return true;
      }
      this.nodes.pop();
    }
    return false;
  }

  replayedPrefix(): number {
    return Math.max(0, this.nodes.length - 1);
  }

  skipPrefix(k: number): void {
    this.depth = k;
  }

  /**
   * The execution reached, after its branch point, a state with fingerprint `fp` (null: a thread
   * received a result that is not data, so the state cannot be recognised). False: a state
   * explored before, with nothing left to explore from it; the execution stops there.
   */
  arrive(fp: Fingerprint | null, threads: number): Arrived {
    // A job's prefix (pin) is the split's, not this search's: its states are not stored here.
    if (this.depth < this.pinned) return 'explore';
    const sleep = this.sleepSets && threads <= MASK_THREADS ? this.childSleep() : 0;
    if (fp === null) {
      this.arrival = { fp, sleep, wake: null };
      return 'explore';
    }
    const seen = this.cache.visit(fp, sleep);
    if (seen === FRESH) {
      this.arrival = { fp, sleep, wake: null };
      return 'explore';
    }
    if (seen === FRESH_UNSLEPT) {
      this.arrival = { fp, sleep: 0, wake: null };
      return 'explore';
    }
    // Seen before: on this very path, the execution has gone round a cycle.
    for (let d = 0; d < this.depth && d < this.nodes.length; d++) {
      const at = this.nodes[d]!.fp;
      if (at !== null && at.lo === fp.lo && at.hi === fp.hi) return { repeats: d };
    }
    // Explored before with sleep set `seen`: only threads asleep then but awake now are left.
    const wake = seen & ~sleep;
    if (wake === 0) {
      this.revisits++;
      return 'explored';
    }
    this.arrival = { fp, sleep, wake };
    return 'explore';
  }

  /** The sleep set of the state the top node's chosen step leads to. */
  private childSleep(): number {
    const parent = this.nodes[this.depth - 1];
    if (!parent) return 0;
    const chosen = parent.todo[parent.index]!;
    const ran = parent.pending[chosen]!;
    let asleep = parent.sleep;
    for (let i = 0; i < parent.index; i++) asleep |= 1 << parent.todo[i]!;
    let sleep = 0;
    for (let m = asleep & ~(1 << chosen), t = 0; m !== 0; t++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      const fp = parent.pending[t];
      if (fp !== undefined && !this.dep.dependent(fp, ran)) sleep |= 1 << t;
    }
    return sleep;
  }

  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const d = this.depth++;
    if (d < this.nodes.length) {
      const node = this.nodes[d]!;
      if (this.verifying) checkResumed(this.name, d, node.enabled, enabled, node.enabled.every((t) => sameFootprint(node.pending[t]!, exec.pendingFootprint(t))));
      return node.todo[node.index]!;
    }
    const arrival = this.arrival ?? { fp: null, sleep: 0, wake: null };
    this.arrival = null;
    const pending: (readonly Access[] | undefined)[] = [];
    for (const t of enabled) pending[t] = exec.pendingFootprint(t);
    // The threads to explore: the awake ones (a new state), or those asleep then and awake now
    // (a revisit), in explorationOrder.
    const allow = arrival.wake === null ? ~arrival.sleep : arrival.wake;
    const todo = explorationOrder(enabled, allow);
    if (todo.length === 0) {
      this.sleepBlocked++;
      return null;
    }
    this.nodes.push({ enabled, pending, sleep: arrival.sleep, todo, index: 0, fp: arrival.fp });
    return todo[0]!;
  }

  endExecution(): void {
    truncate(this.nodes, this.depth);
    this.verifying = false;
  }

  /** One thread to explore per prefix node (the search ends with the subtree); the last node's
   * sleep set (earlier siblings included) gives the subtree's root its sleep set. */
  pin(prefix: readonly PinnedNode[]): void {
    this.pinned = prefix.length;
    for (const n of prefix) {
      const pending: (readonly Access[] | undefined)[] = [];
      n.enabled.forEach((t, i) => (pending[t] = n.pending[i]));
      const sleep = this.sleepSets ? n.sleep.reduce((m, t) => m | (1 << t), 0) : 0;
      this.nodes.push({ enabled: [...n.enabled], pending, sleep, todo: [n.chosen], index: 0, fp: n.fp === null ? null : { lo: n.fp[0], hi: n.fp[1] } });
    }
  }

  save(): unknown {
    return {
      started: this.started,
      sleepBlocked: this.sleepBlocked,
      revisits: this.revisits,
      nodes: this.nodes.map((n) => ({ enabled: n.enabled, pending: n.enabled.map((t) => [t, n.pending[t]!]), sleep: n.sleep, todo: n.todo, index: n.index, fp: n.fp === null ? null : [n.fp.lo, n.fp.hi] })),
      cache: this.cache.save(),
    };
  }

  restore(state: unknown): void {
    const s = parseState(statefulState, state, this.name);
    this.started = s.started;
    this.verifying = true;
    this.sleepBlocked = s.sleepBlocked;
    this.revisits = s.revisits;
    this.nodes.length = 0;
    for (const n of s.nodes) {
      const pending: (readonly Access[] | undefined)[] = [];
      for (const [t, fp] of n.pending) pending[t] = fp;
      this.nodes.push({ enabled: n.enabled, pending, sleep: n.sleep, todo: n.todo, index: n.index, fp: n.fp === null ? null : { lo: n.fp[0], hi: n.fp[1] } });
    }
    try {
      this.cache.restore(s.cache);
    } catch (e) {
      throw new CheckpointError(`checkpoint state of ${this.name} field "cache": ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

