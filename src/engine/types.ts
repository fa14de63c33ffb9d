// Core vocabulary of the engine. The engine knows threads, steps and footprints — nothing of
// pages or TLBs — so any program of Steps can be explored.
import type { StateHasher } from './fingerprint.js';

/** A shared location, named by whoever owns it ("mem:12:3", "tlb:1:0x1000", "lock:pgd_lock"). */
export type Loc = string;

/** One location touched by a step; two steps are dependent when they touch a common
 * location and at least one of them writes it. */
export interface Access {
  readonly loc: Loc;
  readonly write: boolean;
}

export const read = (loc: Loc): Access => ({ loc, write: false });
export const write = (loc: Loc): Access => ({ loc, write: true });

/**
 * One atomic shared-memory operation, yielded by a thread *before* it happens so the scheduler
 * can see what every thread is about to do.
 *
 * `footprint` may be a function: it is evaluated in the current state, just before the step is
 * compared or run (a TLB lookup reads page tables only on a miss). It must include every
 * location that `enabled` and `run` read, and every location `run` writes.
 */
export interface Step<T = unknown> {
  readonly label: string;
  readonly footprint: readonly Access[] | (() => readonly Access[]);
  /** false while the step cannot run (a lock held by another thread disables its acquire). */
  enabled?(): boolean;
  /** Performs the operation atomically; the value is sent back into the thread. */
  run(): T;
  /** Set by `run` to say what happened ("D set in pte O[0]"); shown in traces. */
  note?: string;
  /**
   * The thread, about to take this step, is in a state this key alone describes: everything it
   * will do from here depends on the key, the shared state and the results it receives from now
   * on — not on what it received before (see `at`). Lets the state cache merge states that
   * differ only in a thread's dead history. A key that leaves out a live local is unsound.
   */
  readonly position?: string;
  /**
   * `footprint`, `enabled` and `run` read only shared state and values fixed when the step was
   * made, never a variable of its thread's code that changes after the step: a rewind may then
   * keep the step pending as it is while the thread's generator is behind, and run it there
   * (rewind.ts). The machine's steps are (`stableStep`); a step that is not is brought back with
   * its thread. Checked: when its thread is brought back, the kept step and the one yielded
   * again must have the same footprint and enabled condition; and, the first times a kept step
   * of each label runs (then now and then), it is run beside the step its thread yields again,
   * from the same state, and the two must return, note and change the same.
   */
  readonly stable?: boolean;
  /**
   * Where the operation that yields this step is, when the operation was made by `scopedOp`:
   * everything the operation does from here, and what it returns, depends on `key`, the shared
   * state and the results it receives from now on — not on what its code received before (a
   * store's write of memory, however the translation before it went). An `at(outer, op)` whose
   * body is that very operation makes the step's position `outer › key`; anywhere else (the
   * operation called inside another body, which may keep locals of its own) it means nothing.
   */
  readonly opPosition?: OpPosition;
  /** Set by `at` alone, on a step whose opPosition it honoured: that key. The thread's
   * position is then the pair (`position`, `positionInOp`). */
  readonly positionInOp?: string;
}

/** The operation a step belongs to (scopedOp): its generator, once made. */
export class OpScope {
  gen: Generator<Step, unknown, unknown> | undefined = undefined;
}

/** Step.opPosition: the operation and where it is (`key` may be a getter, read only when the
 * thread is placed at the step — and, a kept step being placed again after a rewind, it must
 * read only values fixed when the step was made). */
export interface OpPosition {
  readonly scope: OpScope;
  readonly key: string;
}

/**
 * `make(scope)`'s generator, with `scope` knowing it: the operation's steps may say where it is
 * (`opPosition: { scope, key }`), and an `at` whose body is this generator makes that part of
 * the thread's position.
 */
export function scopedOp<T>(make: (scope: OpScope) => Generator<Step, T, unknown>): Generator<Step, T, unknown> {
  const scope = new OpScope();
  const gen = make(scope);
  scope.gen = gen;
  return gen;
}

/** A thread body: yields Steps, receives each step's result. */
export type ThreadBody = Generator<Step, void, unknown>;

export type ThreadId = number;

export interface ThreadSpec {
  /** Stable, human name: "cpu0", "migrator", "ipi→cpu1". */
  readonly name: string;
  readonly body: () => ThreadBody;
  /**
   * An actor acts by itself (IPI delivery, speculative TLB fill). It is scheduled like a
   * thread, but an execution is complete once every non-actor thread has finished.
   */
  readonly actor?: boolean;
  /**
   * The thread keeps nothing from one step to the next: what it does depends on the shared
   * state alone (an IPI handler that takes whatever is queued, forever). Its position for the
   * state cache is then its pending step, not the results it has received, so states that differ
   * only in how often it ran are one. A thread that counts, or remembers a result, is not.
   */
  readonly memoryless?: boolean;
}

/** An invariant over the model's state; returns a message when violated, else null. */
export interface Invariant {
  readonly name: string;
  readonly description?: string;
  /** Checked after every step (and at the end) unless `atEnd` is set. */
  readonly atEnd?: boolean;
  /**
   * Location prefixes the check reads. Partial-order reduction keeps every ordering of writes
   * to them, so no intermediate state the invariant could see is skipped, and the check runs
   * again only after a step that writes one of them. Its answer must follow from them: plain JS
   * bookkeeping it reads may change only in a step that writes a watched location (a skipped
   * check is sampled, and one that fails is a model error). Omitted: the invariant may read
   * anything and is checked after every step (sound, but reduces less).
   */
  readonly watch?: readonly string[];
  check(): string | null;
}

/** One execution's worth of model: fresh state, fresh threads. */
export interface Program {
  readonly threads: readonly ThreadSpec[];
  readonly invariants: readonly Invariant[];
  /** Canonical description of the final state (used to cross-check reductions). */
  finalState?(): string;
  /** Compact description of the state for traces (TLBs, page tables, counts). */
  snapshot?(): unknown;
  /**
   * The program's whole mutable shared state, saved as data and put back. With it, the search
   * starts each execution from the saved state at its branch point instead of re-running the
   * prefix: threads are brought back by feeding their generators the results they received
   * (thread code between steps touches no shared state — the audit checks that), and `run()`
   * is not called again. Everything a step's `run` changes must be covered; a program without
   * `state` is explored by re-running prefixes. A thread is brought back alone, in a later state
   * of the same execution (Execution.rewind): its code may keep bookkeeping here (the engine
   * then brings every thread back from the start), but should not read bookkeeping that another
   * thread's code wrote and later changed, unless its step labels show what it read.
   */
  readonly state?: ProgramState;
  /**
   * What each thread's code yields — its steps and their labels — and keeps depends on the
   * results it receives alone, not on state it reads between steps for display (frame names
   * another thread's allocation changes, say), and the code writes none of the program's state
   * between steps (a change to `state.unaudited()` is seen, and that code runs again; a write of
   * the value already there is not): a rewind may then run a thread's kept `stable` steps in
   * place of its generator while the thread receives the same results again (rewind.ts, Ahead).
   * Optional; without it a thread a rewind took back is brought back to step.
   */
  readonly pureThreads?: boolean;
}

export interface ProgramState {
  /** A copy of the state now (later changes must not alter it: the state cache remembers a
   * saved object's hash by identity, and the search puts one saved state back many times). */
  save(): unknown;
  /** Puts a saved state back into this (freshly built) program, without changing `saved`. */
  restore(saved: unknown): void;
  /** Mixes a state `save` returned into a fingerprint, field by field (optional: without it the
   * state cache hashes the saved data by a generic walk). It must mix everything `saved` holds,
   * and read nothing but `saved`. */
  hash?(saved: unknown, h: StateHasher): void;
  /**
   * A copy of the parts of the state whose changes are not reported to the audit (a model's
   * bookkeeping in plain JS), the same object again while they do not change (optional). With
   * it the engine sees thread code that changes them between steps, and never runs a thread's
   * kept steps in place of such code (rewind.ts); without it, it never does.
   */
  unaudited?(): unknown;
}

export function* perform<T>(step: Step<T>): Generator<Step, T, unknown> {
  return (yield step as Step) as T;
}

/** A step of `inner` marked with the thread's position before it (see Step.position). It reads
 * what `inner` reads and nothing of its own, so it is `stable` when `inner` is: a kept one then
 * waits at a rewind instead of having its thread brought back there (rewind.ts). */
class Positioned<T> implements Step<T> {
  readonly label: string;
  readonly footprint: Step['footprint'];
  readonly stable: boolean | undefined;
  note: string | undefined = undefined;
  constructor(
    readonly position: string,
    protected readonly inner: Step<T>,
    private readonly inOp: OpPosition | undefined,
  ) {
    this.label = inner.label;
    this.footprint = inner.footprint;
    this.stable = inner.stable;
  }
  /** Read when the thread is placed here, not when the step is made (an operation's key may be
   * made on demand: most steps are made again by threads brought back, never placed). */
  get positionInOp(): string | undefined {
    return this.inOp?.key;
  }
  run(): T {
    // The inner step's note even when it throws (a kept step run again keeps none of before).
    try {
      return this.inner.run();
    } finally {
      this.note = this.inner.note;
    }
  }
}

/** A Positioned step whose inner step has an enabled condition (a method, not a closure per step). */
class PositionedEnabled<T> extends Positioned<T> {
  enabled(): boolean {
    return this.inner.enabled!();
  }
}

/**
 * Runs `body`, saying that the thread's state before its first step is `key` alone
 * (`yield* at(\`store ${page} attempt ${n}\`, cpu.store(va, v))`): the key must name every
 * local the thread still needs — loop counters, values it will use — and nothing it received
 * before may matter any more. The key describes the code around `body` until `body` returns:
 * a step `body` marks with its own position (Step.opPosition) is placed at the pair.
 */
export function* at<T>(key: string, body: Generator<Step, T, unknown>): Generator<Step, T, unknown> {
  let r = body.next();
  if (r.done) return r.value;
  r = body.next(yield positioned(key, r.value));
  while (!r.done) {
    // A later step of `body` itself (not of an operation nested inside it, whose caller in
    // `body` may keep locals) may say where `body` is: the thread is then at `key › there`.
    const s = r.value;
    const p = s.opPosition;
    r = body.next(yield p !== undefined && p.scope.gen === body && s.position === undefined ? positioned(key, s, p) : s);
  }
  return r.value;
}

function positioned<T>(key: string, s: Step<T>, inOp?: OpPosition): Step<T> {
  return s.enabled ? new PositionedEnabled(key, s, inOp) : new Positioned(key, s, inOp);
}

export function footprintOf(step: Step): readonly Access[] {
  const f = step.footprint;
  return typeof f === 'function' ? f() : f;
}

/** Two footprints list the same accesses in the same order. */
export function sameFootprint(a: readonly Access[], b: readonly Access[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.loc !== b[i]!.loc || a[i]!.write !== b[i]!.write) return false;
  return true;
}

export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) {
    for (const y of b) {
      if (x.loc === y.loc && (x.write || y.write)) return true;
    }
  }
  return false;
}
