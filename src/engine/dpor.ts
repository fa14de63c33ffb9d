// Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL'14, Algorithm 1).
// Dependence comes from step footprints; vector clocks give happens-before; each race found in
// an execution adds one initial of the reversed sequence to the backtrack set of the prefix
// before it, unless some initial is already there or asleep.
import type { EventRecord, Execution } from './execution.js';
import { checkResumed, type PinnedNode, type Strategy } from './strategy.js';
import { dporState, parseState } from './checkpoint-schema.js';
import { type Access, type ThreadId, sameFootprint } from './types.js';
import { Dependence } from './dependence.js';
import { truncate } from './arrays.js';
import { type Clock, LocationClocks, join } from './location-clocks.js';

// A node's thread sets are small arrays in insertion order, not Sets and Maps: one node is made
// per new step, and making its two Sets and two Maps was most of choose()'s time (a handful of
// threads; `includes` on a few numbers costs less than hashing them).
interface Node {
  /** Threads enabled in the state before this position (the shared list: never changed). */
  readonly enabled: readonly ThreadId[];
  readonly backtrack: ThreadId[];
  readonly done: ThreadId[];
  /** Sleeping threads, and the footprint of each one's pending step here (by index). */
  readonly sleep: ThreadId[];
  readonly sleepFp: (readonly Access[])[];
  chosen: ThreadId;
  /** Footprints of the pending steps of the enabled threads, in `enabled`'s order (sleep sets). */
  readonly pending: readonly (readonly Access[])[];
}

/** The footprint of enabled thread `t`'s pending step at `node`. */
const footprintAt = (node: Node, t: ThreadId): readonly Access[] | undefined => node.pending[node.enabled.indexOf(t)];

interface Event {
  readonly tid: ThreadId;
  readonly footprint: readonly Access[];
  /** The footprint as location ids, `id << 1 | write` (Dependence.encode). */
  readonly codes: readonly number[];
  /** Bit set of the per-step invariants whose watched locations the footprint writes (computed once). */
  readonly visible: number;
  /** Footprint summaries (Dependence.summary): a quick test that two events are independent. */
  readonly all: number;
  readonly written: number;
  readonly conditional: boolean;
  readonly local: number; // index of this event among its thread's events, from 1
  readonly clock: Clock;
  /** Clock of the thread's previous event (what orders this one before any race). */
  readonly prevClock?: Clock;
  /** The thread's previous event (its last event again once this one is taken back). */
  readonly prev?: Event;
}

export class DporStrategy implements Strategy {
  readonly name = 'dpor';
  readonly exhaustive = true;
  private readonly nodes: Node[] = [];
  private events: Event[] = [];
  /** Happens-before summaries of the current execution, per location (see makeEvent). */
  private clocks = new LocationClocks();
  /** Last event of each thread in the current execution. */
  private last: (Event | undefined)[] = [];
  private depth = 0;
  private started = false;
  /** Set by `restore` until the first execution has replayed (and so checked) the saved nodes. */
  private verifying = false;
  /** Per location id, the race detection pass that marked it (`stamp`) and whether the event
   * there writes it. Plain arrays of small integers, grown densely: a typed array's storage is
   * allocated outside the heap, two more such allocations for every search. */
  private readonly mark: number[] = [];
  private readonly markWrite: number[] = [];
  private stamp = 0;
  /** detectRaces' scratch clock. */
  private readonly ordered: Clock = [];
  /** reverse's scratch: the events of notdep(i).j, and per thread the call that last saw it. */
  private readonly notdep: Event[] = [];
  private readonly seenStamp: number[] = [];
  private seenAt = 0;
  /** Executions abandoned because every enabled thread was asleep (redundant). */
  sleepBlocked = 0;
  // The steps of the current execution whose events and races are not worked out yet (settle):
  // the work waits until something reads it (the end of an execution that goes on, the next
  // execution, a checkpoint), so a search that stops at a violation does none of it for the
  // execution that found it. It reads only what the execution left, in the order it ran, so the
  // backtrack sets come out as they would step by step. By count, never emptied (truncate).
  private readonly waitTid: ThreadId[] = [];
  private readonly waitFp: (readonly Access[])[] = [];
  private readonly waitConditional: boolean[] = [];
  /** Each waiting step's visible-write groups, taken when it ran (Dependence.takeVisible). */
  private readonly waitVisible: number[] = [];
  private waiting = 0;
  /** An execution that ended at a failure left its nodes to be widened (endExecution). */
  private widenTo = -1;
  /** The program's thread count (a clock's length). */
  private threads = 0;

  constructor(private readonly dep: Dependence) {}

  get dependence(): Dependence {
    return this.dep;
  }

  beginExecution(): boolean {
    this.settle();
    this.depth = 0;
    if (!this.started) {
      this.started = true;
      this.keepPrefix(0);
      return true;
    }
    while (this.nodes.length > 0) {
      const node = this.nodes[this.nodes.length - 1]!;
      const fp = footprintAt(node, node.chosen);
      if (!node.done.includes(node.chosen)) node.done.push(node.chosen);
      if (fp && !node.sleep.includes(node.chosen)) {
        node.sleep.push(node.chosen);
        node.sleepFp.push(fp);
      }
      let next: ThreadId | undefined;
      for (const t of node.backtrack) if (!node.done.includes(t) && !node.sleep.includes(t) && (next === undefined || t < next)) next = t;
      if (next !== undefined) {
        node.chosen = next;
        this.keepPrefix(this.nodes.length - 1);
        return true;
      }
      this.nodes.pop();
    }
    return false;
  }

  /**
   * The next execution replays the first `k` steps of this one (the cursor checks they are the
   * same), so their events, clocks and races are already known: keep them, and take back what
   * the later ones recorded (the per-location summaries by their undo log, each thread's last
   * event by the link to its previous one). Race detection then runs for the new steps alone.
   */
  private keepPrefix(k: number): void {
    const events = this.events;
    for (let i = events.length - 1; i >= k; i--) {
      const e = events[i]!;
      this.last[e.tid] = e.prev;
    }
    truncate(events, k);
    this.clocks.truncate(events.length);
  }

  replayedPrefix(): number {
    return Math.max(0, this.nodes.length - 1);
  }

  skipPrefix(k: number): void {
    this.depth = k;
  }

  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const d = this.depth++;
    if (d < this.nodes.length) {
      const node = this.nodes[d]!;
      // The first execution after a resume replays the saved nodes: each must be this program's.
      if (this.verifying) checkResumed(this.name, d, node.enabled, enabled, node.enabled.every((t, i) => sameFootprint(node.pending[i]!, exec.pendingFootprint(t))));
      return node.chosen;
    }
    const pending = new Array<readonly Access[]>(enabled.length);
    for (let i = 0; i < enabled.length; i++) pending[i] = exec.pendingFootprint(enabled[i]!);
    const sleep: ThreadId[] = [];
    const sleepFp: (readonly Access[])[] = [];
    const parent = this.nodes[d - 1];
    if (parent) {
      const ran = footprintAt(parent, parent.chosen)!;
      for (let i = 0; i < parent.sleep.length; i++) {
        const fp = parent.sleepFp[i]!;
        if (this.dep.dependent(fp, ran)) continue;
        sleep.push(parent.sleep[i]!);
        sleepFp.push(fp);
      }
    }
    let first: ThreadId | undefined;
    for (let i = 0; i < enabled.length && first === undefined; i++) if (!sleep.includes(enabled[i]!)) first = enabled[i]!;
    if (first === undefined) {
      this.sleepBlocked++;
      return null;
    }
    this.nodes.push({ enabled, backtrack: [first], done: [], sleep, sleepFp, chosen: first, pending });
    return first;
  }

  afterStep(exec: Execution, record: EventRecord): void {
    if (exec.events.length <= this.events.length + this.waiting) {
      // A step of the kept prefix: its visibility is not taken, and must not outlive the step.
      this.dep.forgetVisible();
      return;
    }
    const w = this.waiting++;
    this.waitTid[w] = record.tid;
    this.waitFp[w] = record.footprint;
    this.waitConditional[w] = record.conditional;
    this.waitVisible[w] = this.dep.takeVisible(record.footprint);
    this.threads = exec.threadCount;
  }

  /** Works out the waiting steps' events and races, in the order they ran; then widens the
   * nodes of an execution that ended at a failure. */
  private settle(): void {
    for (let w = 0; w < this.waiting; w++) {
      const event = this.makeEvent(this.threads, this.waitTid[w]!, this.waitFp[w]!, this.waitConditional[w]!, this.waitVisible[w]!);
      this.events.push(event);
      this.last[event.tid] = event;
      this.clocks.record(event.codes, event.clock, event.visible);
      this.detectRaces(event);
    }
    this.waiting = 0;
    if (this.widenTo >= 0) {
      // The execution stopped at a failure, so the steps after it never ran and their races
      // were never seen. When the search goes on past it (an `accept` filter that did not take
      // this failure), every choice along this path is explored instead, as DFS would.
      for (let k = 0; k < this.widenTo; k++) {
        const node = this.nodes[k]!;
        for (const t of node.enabled) if (!node.sleep.includes(t) && !node.backtrack.includes(t)) node.backtrack.push(t);
      }
      this.widenTo = -1;
    }
  }

  endExecution(exec: Execution): void {
    // A step still disabled when the execution ends never ran, so no race of it was seen; yet
    // another thread's step may be what disabled it (a write it waits on, a lock taken under a
    // waiting actor) — whether that step ran before the wait became the thread's next step or
    // after. Treat each such pending step as if it ran last and reverse its races with every
    // earlier dependent step, so the orders where it goes first are explored too.
    if (!exec.failure || exec.failure.kind === 'deadlock') {
      this.settle();
      this.keepPrefix(Math.min(this.depth, this.events.length));
      for (let tid = 0; tid < exec.threadCount; tid++) {
        if (!exec.pending(tid) || exec.isEnabled(tid)) continue;
        const fp = exec.pendingFootprint(tid);
        const event = this.makeEvent(exec.threadCount, tid, fp, true, this.dep.writesVisible(fp));
        this.events.push(event);
        this.detectRaces(event, tid);
        this.events.pop();
      }
    } else {
      // Settled (with the widening) only if the search goes on: most stop here.
      this.widenTo = Math.min(this.depth, this.nodes.length);
    }
    truncate(this.nodes, this.depth);
    this.verifying = false;
  }

  /**
   * A prefix node's backtrack set is every enabled thread and all but the chosen one are done
   * (explored by other jobs, or asleep): a race with a prefix step adds nothing there, as at a
   * node whose backtrack set is full, and the search never returns into the prefix. The last
   * node's sleep set (earlier siblings included) gives the subtree's root its sleep set.
   */
  pin(prefix: readonly PinnedNode[]): void {
    for (const n of prefix) {
      const pending = [...n.pending];
      const sleepFp = n.sleep.map((t) => pending[n.enabled.indexOf(t)]!);
      this.nodes.push({ enabled: [...n.enabled], backtrack: [...n.enabled], done: n.enabled.filter((t) => t !== n.chosen), sleep: [...n.sleep], sleepFp, chosen: n.chosen, pending });
    }
  }

  save(): unknown {
    this.settle();
    return {
      started: this.started,
      sleepBlocked: this.sleepBlocked,
      nodes: this.nodes.map((n) => ({
        enabled: n.enabled,
        backtrack: [...n.backtrack],
        done: [...n.done],
        sleep: n.sleep.map((t, i) => [t, n.sleepFp[i]!]),
        chosen: n.chosen,
        pending: n.enabled.map((t, i) => [t, n.pending[i]!]),
      })),
    };
  }

  restore(state: unknown): void {
    // Validated as a whole before anything changes: a damaged node restores nothing.
    const s = parseState(dporState, state, this.name);
    this.started = s.started;
    this.verifying = true;
    this.sleepBlocked = s.sleepBlocked;
    this.nodes.length = 0;
    for (const n of s.nodes) {
      this.nodes.push({
        enabled: n.enabled,
        backtrack: [...n.backtrack],
        done: [...n.done],
        sleep: n.sleep.map(([t]) => t),
        sleepFp: n.sleep.map(([, fp]) => fp),
        chosen: n.chosen,
        // Validated: one footprint per enabled thread, in order.
        pending: n.pending.map(([, fp]) => fp),
      });
    }
  }

  /** The event for thread `tid` running a step with `footprint` after everything so far. */
  private makeEvent(n: number, tid: ThreadId, footprint: readonly Access[], conditional: boolean, visible: number): Event {
    const prev = this.last[tid];
    const clock: Clock = prev ? prev.clock.slice() : new Array<number>(n).fill(0);
    const local = (prev?.local ?? 0) + 1;
    const codes = this.dep.encode(footprint);
    const all = this.dep.all;
    const written = this.dep.written;
    // The join of every earlier dependent event's clock, from per-location summaries.
    this.clocks.joinDependencies(clock, codes, visible);
    clock[tid] = local;
    return { tid, footprint, codes, visible, all, written, conditional, local, clock, prevClock: prev?.clock, prev };
  }

  /**
   * Walks back over the events before `event` (the last one): a dependent event not already
   * ordered before it (through its thread or a later racing event) is in a race with it. A race
   * that settles nothing (the earlier event enabled this one, as a release enables an acquire)
   * orders nothing: the search goes on to the events before it (the earlier acquire).
   */
  private detectRaces(event: Event, pendingOf?: ThreadId): void {
    // What is already ordered before the event: a scratch clock (one per strategy, not one per
    // event: detectRaces runs for every new step), starting from the thread's previous event.
    const ordered = this.ordered;
    const prev = event.prevClock;
    if (ordered.length !== event.clock.length) ordered.length = event.clock.length;
    for (let k = 0; k < ordered.length; k++) ordered[k] = prev ? prev[k]! : 0;
    // The event's locations, marked (with whether it writes them) for one lookup per access.
    const mark = this.mark;
    const markWrite = this.markWrite;
    if (++this.stamp >= 0x3fffffff) {
      mark.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    while (mark.length < this.dep.locations) {
      mark.push(0);
      markWrite.push(0);
    }
    const codes = event.codes;
    for (let i = 0; i < codes.length; i++) {
      const id = codes[i]! >> 1;
      if (mark[id] !== stamp) {
        mark[id] = stamp;
        markWrite[id] = codes[i]! & 1;
      } else markWrite[id]! |= codes[i]! & 1;
    }
    for (let i = this.events.length - 2; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.tid === event.tid) continue;
      // Already ordered before the event (through its thread or a later racing event).
      if (ordered[e.tid]! >= e.local) continue;
      // Neither's writes meet the other's locations and no invariant sees both: independent.
      if ((e.visible & event.visible) === 0) {
        if (((e.written & event.all) | (event.written & e.all)) === 0) continue;
        // A common location that one of them writes (Dependence.dependentWith, by id).
        let dependent = false;
        const ec = e.codes;
        for (let k = 0; k < ec.length; k++) {
          const id = ec[k]! >> 1;
          if (mark[id] === stamp && ((ec[k]! & 1) | markWrite[id]!) !== 0) {
            dependent = true;
            break;
          }
        }
        if (!dependent) continue;
      }
      // A step that never ran (still disabled at the end) can only be brought before e by
      // running its thread there: where that thread could not run, reversing settles nothing.
      if (pendingOf !== undefined && !this.nodes[i]?.enabled.includes(pendingOf)) continue;
      if (this.reverse(i, event)) join(ordered, e.clock);
    }
  }

  private eventsOf(tid: ThreadId, upTo: number): number {
    return countEvents(this.events, tid, upTo);
  }

  /** Race between events[i] and the new event j: schedule an initial of notdep(i).j at i.
   * Returns false when the race settles nothing: no initial can run at i, or j could not. */
  private reverse(i: number, j: Event): boolean {
    const node = this.nodes[i];
    if (!node) return true;
    const ei = this.events[i]!;
    // v = notdep(i).j: the events after e_i not happening after it, then j (scratch, reused:
    // a race is reversed at most steps of a contended search).
    // Filled by index up to `nv`, never emptied: `length = 0` drops an array's storage in V8,
    // and the pushes after it allocate it again.
    const v = this.notdep;
    let nv = 0;
    for (let k = i + 1; k < this.events.length - 1; k++) {
      const e = this.events[k]!;
      if (e.clock[ei.tid]! < ei.local) v[nv++] = e; // not happens-after e_i
    }
    v[nv++] = j;
    // Its initials (each thread's first event in v with no earlier event of v before it) that
    // can run at the prefix: only those can start the reversed sequence.
    const seen = this.seenStamp;
    const stamp = ++this.seenAt;
    let runnable = 0;
    let least = -1;
    let hasJ = false;
    let taken = false;
    for (let k = 0; k < nv; k++) {
      const e = v[k]!;
      if (seen[e.tid] === stamp) continue;
      seen[e.tid] = stamp;
      let first = true;
      for (let m = 0; m < k; m++) {
        const f = v[m]!;
        if (e.clock[f.tid]! >= f.local) {
          first = false;
          break;
        }
      }
      if (!first || !node.enabled.includes(e.tid)) continue;
      runnable++;
      if (least < 0 || e.tid < least) least = e.tid;
      if (e.tid === j.tid) hasJ = true;
      if (node.backtrack.includes(e.tid) || node.sleep.includes(e.tid)) taken = true;
    }
    if (runnable === 0) return false;
    // A conditional step (a lock acquire, an IPI delivery) may have been enabled by e_i itself
    // (the release, the send): then reversing this race alone places nothing, and the caller
    // keeps looking for earlier races of j (the other acquire). It settles the race only when
    // j was the very next step of its thread at i, and could run there.
    const jReady = !j.conditional || (node.enabled.includes(j.tid) && this.eventsOf(j.tid, i) === j.local - 1);
    if (taken) return jReady;
    const add = hasJ ? j.tid : least;
    if (!node.backtrack.includes(add)) node.backtrack.push(add);
    return jReady;
  }
}


/** Number of events of thread `tid` among the first `upTo` events. */
function countEvents(events: readonly Event[], tid: ThreadId, upTo: number): number {
  let n = 0;
  for (let k = 0; k < upTo; k++) if (events[k]!.tid === tid) n++;
  return n;
}
