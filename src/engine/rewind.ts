// Taking an execution back to a branch point without running its prefix again (state
// restore): the state saved there is put back, and each thread that moved since is left pending
// at the step it took first after the branch point; its generator — which cannot be copied — is
// brought back, by feeding it the results it received, only if the thread steps again (lazy
// replay), or every thread is brought back at once from the initial state (the full replay, and
// the fallback when thread code keeps bookkeeping). README, Design: "State restore".
import { type Access, type Program, type Step, type ThreadBody, type ThreadId, sameFootprint } from './types.js';
import { beginRecording, endRecording } from './audit.js';
import { EngineError, ModelError, NondeterminismError, errText } from './errors.js';
import { CHAIN_START, type Fingerprint, Unhashable, fingerprint } from './fingerprint.js';
import type { EventRecord, Failure } from './execution.js';

/** What of an Execution taking it back reads and changes (Execution implements it). */
export interface Rewindable {
  readonly program: Program;
  readonly threads: readonly ThreadState[];
  readonly events: EventRecord[];
  readonly results: unknown[];
  /** The step object each event ran. */
  readonly ran: Step[];
  readonly chains: (Fingerprint | null)[] | null;
  /** The stepping thread's position after each event. */
  readonly chainAfter: (Fingerprint | null)[];
  /** The steps after which their thread's code changed the program's unaudited state. */
  readonly wroteAfter: readonly number[];
  failure: Failure | null;
  readonly blocked: string | null;
  /** The program's initial state, and how rewinds bring threads back (set by rewind). */
  initial: unknown;
  replay: ReplayPolicy | undefined;
  /** Drops the events from `k` on. */
  truncate(k: number): void;
  restoreState(saved: unknown): void;
  saveState(): unknown;
  nextStep(t: ThreadState, r: IteratorResult<Step, void>): Step | null;
  place(tid: ThreadId): void;
  fail(tid: ThreadId, e: unknown): void;
}

export interface ThreadState {
  readonly name: string;
  readonly actor: boolean;
  readonly memoryless: boolean;
  gen: ThreadBody;
  pending: Step | null;
  /** The generator is past this point (a rewind took the execution back before its later
   * steps): `pending` is the step it yielded here, kept from when it ran; the generator is
   * brought back, by feeding it its results, only if the thread steps again (see rewind). */
  lazy: boolean;
  /** Why the thread stopped on a failed assumption; null while it has not. */
  assumeFailed: string | null;
  /** While `lazy`: the generator the thread had when a rewind took it back, and what it had
   * received since (Ahead); null when none is kept (the thread is brought back to step). */
  ahead: Ahead | null;
  /** The thread's code ran where nothing watched it change the program's unaudited state
   * (brought back from the start, replayFromStart): no kept step of its runs in its place. */
  unwatched: boolean;
}

/**
 * A thread taken back by a rewind whose generator is kept: `gen` received, from the thread's
 * position now on, `results[at..]`, yielding `steps[j]` after `results[j]` and, after the last,
 * `pending`. While the thread receives those very results again, its kept steps run in place
 * of the steps its generator would yield again (they are `stable`: nothing of the code after
 * them changes what they do), and once it has received them all it is `gen` again, where it
 * was. A different result brings it back (bringBack). Most threads a rewind takes back receive
 * the same results again (two writers: 172,611 of 183,160 kept steps run).
 */
export class Ahead {
  at = 0;
  constructor(
    readonly gen: ThreadBody,
    readonly pending: Step | null,
    readonly results: unknown[],
    readonly steps: Step[],
  ) {}
}

/** The recorded result of a step whose assumption failed. */
export class AssumeMark {
  constructor(readonly reason: string) {}
}

/** Two saved states are equal: the same object (a save of unchanged parts hands back the last
 * one), or, for a program whose save copies afresh, the same data (compared as it is when it is
 * plain data, else by fingerprint: the same answer). */
export function sameState(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Plain data (most saves, and every model's bookkeeping) is compared as it is: no two
  // fingerprints to hash for each thread resumed while a model's bookkeeping changes.
  const plain = samePlain(a, b, 0);
  return plain !== undefined ? plain : sameFingerprint(a, b);
}

/** `a` and `b` have the same fingerprint (false when either is not data). */
export function sameFingerprint(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    const x = fingerprint(a);
    const y = fingerprint(b);
    return x.lo === y.lo && x.hi === y.hi;
  } catch (e) {
    if (e instanceof Unhashable) return false;
    throw e;
  }
}

/** Primitive types the fingerprint hashes by value (a function or symbol is not data). */
const PRIMITIVE = new Set(['number', 'string', 'boolean', 'undefined']);

/** `a` and `b` are equal plain data (numbers, strings, arrays and plain objects, keys in the
 * same order): true or false; undefined when either holds anything else (a Map, an instance of
 * a class, a cycle deeper than the walk goes), which the fingerprint then decides. */
function samePlain(a: unknown, b: unknown, depth: number): boolean | undefined {
  const ta = typeof a;
  if (ta !== typeof b) return a === null || b === null || ta === 'object' || typeof b === 'object' ? undefined : PRIMITIVE.has(ta) && PRIMITIVE.has(typeof b) ? false : undefined;
  // As the fingerprint tells them: 0 and -0 alike (an integer), NaN by its bits.
  if (ta === 'number') return a === b ? true : a !== a && b !== b ? undefined : false;
  if (ta !== 'object') return PRIMITIVE.has(ta) ? a === b : undefined;
  if (a === null || b === null) return a === b;
  // No shortcut for one object at the same place in both: it is walked all the same, since the
  // fingerprint would refuse a Map or an instance inside it (and call the two states different).
  if (depth > 32) return undefined;
  const arrays = Array.isArray(a);
  if (arrays !== Array.isArray(b)) return undefined;
  if (arrays) {
    const x = a as readonly unknown[];
    const y = b as readonly unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const r = samePlain(x[i], y[i], depth + 1);
      if (r !== true) return r;
    }
    return true;
  }
  const pa = Object.getPrototypeOf(a) as unknown;
  const pb = Object.getPrototypeOf(b) as unknown;
  if ((pa !== Object.prototype && pa !== null) || pa !== pb) return undefined;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return undefined;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return undefined;
    const r = samePlain((a as Record<string, unknown>)[ka[i]!], (b as Record<string, unknown>)[ka[i]!], depth + 1);
    if (r !== true) return r;
  }
  return true;
}

/** A step that is plain data but for `run` (its footprint a list, no enabled condition), or
 * that declares its functions read nothing of its thread's (Step.stable). A kept one answers
 * for its thread as a freshly yielded one would. */
export function isPlainStep(s: Step): boolean {
  return s.stable === true || (typeof s.footprint !== 'function' && s.enabled === undefined);
}

/** How rewinds bring threads back, for the executions of one search: lazily (a thread's
 * generator is brought back only when it steps again) until that fails too often for the model. */
export class ReplayPolicy {
  lazy = true;
  /** Which runs of kept steps are checked against the step their thread yields again
   * (ExploreOptions.keptCheck). */
  keptCheck: 'sampled' | 'every' | 'never' = 'sampled';
  /** Kept steps run, by label. */
  private readonly kept = new Map<string, number>();
  /** Whether this run of a kept step of `label` is one checked against the step its thread
   * yields again: the first two of each label, then one in 64. */
  checkKept(label: string): boolean {
    if (this.keptCheck !== 'sampled') return this.keptCheck === 'every';
    const n = this.kept.get(label) ?? 0;
    this.kept.set(label, n + 1);
    return n < 2 || n % 64 === 0;
  }
  /** Threads brought back one by one, and how many of them needed every thread brought back. */
  broughtBack = 0;
  fallbacks = 0;
}

/**
 * Takes execution `x` back to its first `k` steps without running any of them, as a fresh
 * build brought forward would be, without building the program again: the state is put back
 * as it was saved at `k`. A thread that has not stepped since `k` is where it was. A thread
 * that has is pending at the step it took first after `k` (the same step object, whose
 * `enabled` and footprint are read in the state of the moment), and its generator is brought
 * back only if it steps again (bringBack): most executions after a rewind end within a few
 * steps at a state explored before, and their other threads are never resumed at all.
 * Per-step invariants held in every state of the prefix when it first ran; they are not
 * checked again. With `replay.lazy` off, every thread is brought back at once, from the start.
 */
export function rewind(x: Rewindable, k: number, saved: unknown, initial: unknown, replay?: ReplayPolicy): void {
  if (!x.program.state) throw new EngineError('rewind of a program that declares no state');
  if (k < 0 || k > x.events.length) throw new EngineError(`rewind to step ${k} of an execution of ${x.events.length}`);
  x.initial = initial;
  x.replay = replay;
  const events = x.events;
  if (replay !== undefined && replay.lazy) {
    // The first step after k of every thread that stepped after k is where that thread is at k.
    // A memoryless thread whose generator is at a step of that label now is there already: its
    // next steps depend on the shared state alone (ThreadSpec.memoryless), so it stays as it is.
    // Any other keeps its generator and what it received since k (Ahead).
    const first = new Int32Array(x.threads.length).fill(-1);
    for (let i = k; i < events.length; i++) if (first[events[i]!.tid] === -1) first[events[i]!.tid] = i;
    for (let tid = 0; tid < first.length; tid++) {
      const from = first[tid]!;
      if (from === -1) continue;
      const t = x.threads[tid]!;
      if (t.memoryless) {
        if (!t.lazy && t.assumeFailed === null && t.pending !== null && sameLabelsFrom(x, tid, from, t.pending.label)) continue;
        t.ahead = null;
      } else t.ahead = aheadOf(x, t, tid, from);
      t.pending = x.ran[from]!;
      t.lazy = true;
      t.assumeFailed = null;
    }
    if (x.chains !== null) {
      const done = new Uint8Array(x.threads.length);
      for (let i = events.length - 1; i >= k; i--) done[events[i]!.tid] = 1;
      for (let i = k - 1; i >= 0; i--) {
        const tid = events[i]!.tid;
        if (done[tid] !== 1) continue;
        done[tid] = 2;
        x.chains[tid] = x.chainAfter[i]!;
      }
      // Moved threads that had not stepped before k are at their start.
      for (let tid = 0; tid < done.length; tid++) {
        if (done[tid] !== 1) continue;
        x.chains[tid] = CHAIN_START;
        x.place(tid);
      }
    }
  } else {
    x.restoreState(initial);
    replayFromStart(x, k);
  }
  x.truncate(k);
  x.restoreState(saved);
  // A kept step whose footprint or enabled condition is a function may read its thread's
  // locals, which the thread's code changed after the step (a loop counter): such a thread is
  // brought back now, in the state at k, and only one whose kept step is plain data or stable
  // (Step.stable) waits.
  for (let tid = 0; tid < x.threads.length; tid++) {
    const t = x.threads[tid]!;
    if (t.lazy && !isPlainStep(t.pending!)) bringBack(x, tid);
  }
}

/** Every step of thread `tid` from event `from` on has the label `label`. */
function sameLabelsFrom(x: Rewindable, tid: ThreadId, from: number, label: string): boolean {
  const events = x.events;
  for (let i = from; i < events.length; i++) if (events[i]!.tid === tid && x.ran[i]!.label !== label) return false;
  return true;
}

/** What thread `t` (`tid`), whose first step since a rewind's point is event `from`, keeps of its
 * generator (see Ahead); null when it keeps none. */
function aheadOf(x: Rewindable, t: ThreadState, tid: ThreadId, from: number): Ahead | null {
  // Without ProgramState.unaudited nothing shows thread code changing the model's bookkeeping;
  // code that did, after one of these steps, must run again.
  if (t.unwatched || t.assumeFailed !== null || x.program.pureThreads !== true || x.program.state?.unaudited === undefined) return null;
  const w = x.wroteAfter;
  for (let j = w.length - 1; j >= 0 && w[j]! >= from; j--) if (x.events[w[j]!]!.tid === tid) return null;
  const results: unknown[] = [];
  const steps: Step[] = [];
  const events = x.events;
  // An execution that ended in a failure may have ended before the thread's generator received
  // the result of its last step.
  if ((x.failure !== null || x.blocked !== null) && events[events.length - 1]!.tid === tid) return null;
  for (let i = from; i < events.length; i++) {
    if (events[i]!.tid !== tid) continue;
    const r = x.results[i];
    if (r instanceof AssumeMark) return null;
    if (i !== from) steps.push(x.ran[i]!);
    results.push(r);
  }
  if (!t.lazy) return new Ahead(t.gen, t.pending, results, steps);
  // Taken back before and still catching up: what it ran since, then what it had not yet.
  const a = t.ahead;
  if (a === null) return null;
  for (let j = a.at; j < a.results.length; j++) results.push(a.results[j]);
  steps.push(t.pending!);
  for (let j = a.at; j < a.steps.length; j++) steps.push(a.steps[j]!);
  return new Ahead(a.gen, a.pending, results, steps);
}

/**
 * Brings a thread pending at a kept step (a rewind took it back) to life: a new generator fed
 * the results the thread received, in the state of now. Thread code between steps reads and
 * writes no shared state (the audit checks that), so this is where the thread was — unless the
 * model's own bookkeeping, kept in plain JS, is read or written by that code: every step it
 * yields must then be the one it took, and the state must be as it was, or the thread is
 * brought back the safe way, with every other thread, from the initial state (and after
 * many such cases the search stops trying).
 */
export function bringBack(x: Rewindable, tid: ThreadId): void {
  const t = x.threads[tid]!;
  const kept = t.pending!;
  t.ahead = null;
  const before = x.saveState();
  let ok = true;
  let gen: ThreadBody | undefined;
  let now: Step | null = null;
  try {
    gen = x.program.threads[tid]!.body();
    now = x.nextStep(t, gen.next(undefined));
    const events = x.events;
    for (let i = 0; i < events.length && ok; i++) {
      const e = events[i]!;
      if (e.tid !== tid) continue;
      if (now === null || now.label !== e.label) ok = false;
      else now = x.nextStep(t, gen.next(x.results[i]));
    }
  } catch {
    ok = false;
  }
  if (ok && (now === null || now.label !== kept.label)) ok = false;
  // Thread code that writes the model's bookkeeping may read it too, into its locals, where
  // no label shows it: such a thread is brought back with all the others, in order.
  if (ok && !sameState(x.saveState(), before)) ok = false;
  const replay = x.replay;
  if (replay !== undefined) replay.broughtBack++;
  if (ok) {
    t.gen = gen!;
    t.pending = now;
    t.lazy = false;
  } else {
    if (replay !== undefined && ++replay.fallbacks >= 16 && replay.fallbacks * 8 >= replay.broughtBack) replay.lazy = false;
    x.restoreState(x.initial);
    replayFromStart(x, x.events.length);
    x.restoreState(before);
  }
  checkStable(t, kept);
}

/**
 * A kept step that declared itself stable waited in place of the step its thread yields
 * again now (t.pending, brought back): in the same state the two must have the same footprint
 * and enabled condition, or the claim is false — its functions read a local of the thread's
 * code that changed after it — and the search may have followed a wrong footprint.
 */
function checkStable(t: ThreadState, kept: Step): void {
  const fresh = t.pending;
  if (kept.stable !== true || fresh === null || fresh === kept) return;
  if (typeof kept.footprint !== 'function' && kept.enabled === undefined) return;
  let same = true;
  let shown = '';
  const prev = beginRecording(null);
  try {
    const a = typeof kept.footprint === 'function' ? kept.footprint() : kept.footprint;
    const b = typeof fresh.footprint === 'function' ? fresh.footprint() : fresh.footprint;
    const ea = kept.enabled?.() ?? true;
    const eb = fresh.enabled?.() ?? true;
    same = sameFootprint(a, b) && ea === eb;
    if (!same) shown = `footprint [${a.map(accessText).join(', ')}]${ea ? '' : ', disabled'} against [${b.map(accessText).join(', ')}]${eb ? '' : ', disabled'}`;
  } catch {
    // Either throws when it runs, where the failure is reported.
  } finally {
    endRecording(prev);
  }
  if (!same) {
    throw new ModelError(
      `step "${t.name}: ${kept.label}" says it is stable (Step.stable, stableStep), but kept while its thread was taken back it gives ${shown} for the step the thread yields there again: its footprint or enabled condition reads a variable of the thread's code that changes after the step (make it with mkStep)`,
    );
  }
}

/**
 * Brings every thread that stepped in the first `k` events, or is pending at a kept step,
 * back from the initial state (already put back): each is started afresh and fed, in the
 * order they ran, the results it received up to `k`. All of them, and in the initial state: a
 * model may keep, in its declared state, what thread code does between steps (thp's ledger of
 * references), so a thread fed alone, or in another state, could take another turn.
 */
function replayFromStart(x: Rewindable, k: number): void {
  const events = x.events;
  const again = new Uint8Array(x.threads.length);
  const moved = new Uint8Array(x.threads.length);
  for (let i = 0; i < events.length; i++) again[events[i]!.tid] = 1;
  for (let i = k; i < events.length; i++) moved[events[i]!.tid] = 1;
  for (let tid = 0; tid < x.threads.length; tid++) if (x.threads[tid]!.lazy) again[tid] = 1;
  // Started again in id order, as the constructor starts them.
  const pendingAt: (Step | null)[] = x.threads.map((t) => (t.lazy ? t.pending : null));
  for (let tid = 0; tid < x.threads.length; tid++) {
    if (again[tid] !== 1) continue;
    const t = x.threads[tid]!;
    t.assumeFailed = null;
    t.lazy = false;
    t.ahead = null;
    // Its code ran here unwatched (in the initial state, put back after): no later rewind runs
    // its kept steps in place of that code.
    t.unwatched = true;
    try {
      t.gen = x.program.threads[tid]!.body();
      // Unaudited: this thread code ran, audited, when the prefix first ran.
      t.pending = x.nextStep(t, t.gen.next(undefined));
      if (x.chains !== null) x.chains[tid] = CHAIN_START;
      x.place(tid);
    } catch (err) {
      if (err instanceof ModelError || err instanceof EngineError) throw err;
      throw new NondeterminismError(`the model is not deterministic: starting ${t.name} again threw (${errText(err)}), the first time it did not`);
    }
  }
  for (let i = 0; i < k; i++) {
    const e = events[i]!;
    if (again[e.tid] !== 1) continue;
    const t = x.threads[e.tid]!;
    const step = t.pending;
    if (!step || step.label !== e.label) {
      throw new NondeterminismError(
        `the model is not deterministic: on the same schedule, after step ${i} step ${i + 1} was \`${t.name}: ${e.label}\`, now it is ${step ? `\`${t.name}: ${step.label}\`` : `${t.name} finished`} (brought back by feeding its thread the results it received)`,
      );
    }
    const r = x.results[i];
    if (r instanceof AssumeMark) {
      t.assumeFailed = r.reason;
      t.pending = null;
      continue;
    }
    try {
      t.pending = x.nextStep(t, t.gen.next(r));
    } catch (err) {
      x.fail(e.tid, err);
      throw new NondeterminismError(`the model is not deterministic: bringing ${t.name} back through step ${i + 1} failed (${x.failure?.message ?? errText(err)})`);
    }
  }
  // A thread that was pending at a kept step must be at that step again.
  for (let tid = 0; tid < x.threads.length; tid++) {
    const was = pendingAt[tid];
    if (was === null || was === undefined || moved[tid] === 1) continue;
    const t = x.threads[tid]!;
    if (t.pending === null || t.pending.label !== was.label) {
      throw new NondeterminismError(
        `the model is not deterministic: on the same schedule, after step ${k} ${t.name} was at \`${was.label}\`, now it is ${t.pending ? `at \`${t.pending.label}\`` : 'finished'} (brought back by feeding its thread the results it received)`,
      );
    }
  }
  // Positions: the chains after each event are kept (chainAfter), not hashed again.
  if (x.chains !== null) {
    for (let i = 0; i < k; i++) {
      const tid = events[i]!.tid;
      x.chains[tid] = x.chainAfter[i]!;
    }
  }
}


const accessText = (a: Access): string => `${a.write ? 'w' : 'r'} ${a.loc}`;
