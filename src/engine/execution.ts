// One execution of a program: fresh state, threads advanced one Step at a time by whoever
// schedules them. It records every step; strategies only choose.
import {
  type Access,
  type Invariant,
  type Program,
  type Step,
  type ThreadBody,
  type Loc,
  type ThreadId,
} from './types.js';
import { AccessRecord, FootprintError, beginRecording, endRecording, uncovered } from './audit.js';
import { AssertionViolated, AssumptionFailed } from './control.js';
import { MAX_GROUPS } from './dependence.js';
import { truncate } from './arrays.js';
import type { InvariantChecks } from './invariant-checks.js';
import { EngineError, ModelError, errText } from './errors.js';
import { Ahead, AssumeMark, type ReplayPolicy, type Rewindable, type ThreadState, bringBack, isPlainStep, rewind, sameState } from './rewind.js';
import type { WatchTracker } from './watches.js';
import { CHAIN_START, type Fingerprint, Unhashable, extendChain, fingerprint, keyFingerprint, positionInOpFingerprint, stateFingerprint } from './fingerprint.js';

export { EngineError, errText } from './errors.js';
export { ReplayPolicy } from './rewind.js';
export { AssertionViolated, AssumptionFailed, assertHolds, assumeHolds } from './control.js';

export interface EventRecord {
  readonly tid: ThreadId;
  readonly label: string;
  readonly note?: string;
  readonly footprint: readonly Access[];
  /** The step had an `enabled` condition (a lock acquire, a wait): it may have been blocked. */
  readonly conditional: boolean;
}

export type ViolationKind = 'invariant' | 'deadlock' | 'step-bound' | 'error';

export interface Failure {
  readonly kind: ViolationKind;
  /** The invariant's name, or "deadlock", "step-bound", "model-error". */
  readonly invariant: string;
  readonly message: string;
}

/** The thread ids in `mask`, one list per mask (asked before every step: a new list each time
 * was among the search's largest allocations). */
const enabledLists = new Map<number, readonly ThreadId[]>();
function enabledList(mask: number): readonly ThreadId[] {
  let l = enabledLists.get(mask);
  if (l === undefined) {
    const out: ThreadId[] = [];
    for (let m = mask, t = 0; m !== 0; t++, m >>>= 1) if ((m & 1) !== 0) out.push(t);
    l = out;
    if (enabledLists.size < 1 << 14) enabledLists.set(mask, l);
  }
  return l;
}

/** A kept step run from a state that was then put back (Execution.runKept). */
interface KeptRun {
  readonly result: unknown;
  readonly threw: boolean;
  readonly note: string | undefined;
  readonly after: unknown;
}

/** Two results are alike: the same value, or plain data of the same fingerprint. */
function sameResult(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return sameState(a, b);
}

export interface ExecutionOptions {
  readonly maxSteps: number;
  /** Compare every access with the declared footprint / watch (default true). */
  readonly audit?: boolean;
  /** Told every location a step's footprint names and every location an invariant reads. */
  readonly watches?: WatchTracker;
  /** Keep each thread's position as a hash chain of its results (for the state cache). */
  readonly positions?: boolean;
  /** When per-step invariants are checked (one per search, built from the same invariants): again
   * only after a step that writes a location one watches (invariant-checks.ts). Omitted: every
   * invariant after every step. */
  readonly invariantChecks?: InvariantChecks;
}

/** The position of every thread that has finished. */
const FINISHED = fingerprint(['finished']);

export class Execution implements Rewindable {
  readonly program: Program;
  readonly events: EventRecord[] = [];
  /** What each step's `run` returned (or why its assumption failed), to bring threads back. */
  readonly results: unknown[] = [];
  /** The steps (ascending) after which their thread's code changed the program's unaudited
   * state (ProgramState.unaudited): no rewind runs kept steps in place of that code. */
  readonly wroteAfter: number[] = [];
  /** Index of the first step whose result is not plain data (a state restore cannot feed it back). */
  opaqueFrom = Infinity;
  failure: Failure | null = null;
  /** Set when a step's assumption failed: the execution ends, neither complete nor violated. */
  blocked: string | null = null;
  readonly maxSteps: number;
  private readonly audit: boolean;
  private readonly watches: WatchTracker | undefined;
  /** The one access record, reused by every audited call of this execution. */
  private readonly rec = new AccessRecord();
  /** @internal (rewind.ts) */
  readonly threads: ThreadState[];
  private readonly stepInvariants: readonly Invariant[];
  /** Set when `invariantChecks` describes this build's per-step invariants (checkInvariants). */
  private readonly checks: InvariantChecks | undefined;
  /** The bits (as in Dependence.visibleTo) of the per-step invariants without a watch list. */
  private readonly unwatchedInvariants: number;
  /** Each thread's position (a hash chain over the results it received), when kept; null once a
   * result was not plain data (the state is then never cached). */
  readonly chains: (Fingerprint | null)[] | null;
  /** The stepping thread's position after each event (when positions are kept): a rewind puts
   * them back instead of hashing every result it feeds again. */
  readonly chainAfter: (Fingerprint | null)[] = [];
  /** The step object each event ran: a thread taken back before its next event is pending there. */
  readonly ran: Step[] = [];
  /** The program's initial state (from the first rewind): a thread that cannot be brought back
   * alone is brought back with all the others, from the start (see bringBack). */
  initial: unknown = undefined;
  /** How rewinds bring threads back; shared by the executions of one search. */
  replay: ReplayPolicy | undefined;

  constructor(make: () => Program, options: ExecutionOptions | number) {
    const o = typeof options === 'number' ? { maxSteps: options } : options;
    this.maxSteps = o.maxSteps;
    this.audit = o.audit ?? true;
    this.watches = 'watches' in o && o.watches && !o.watches.done ? o.watches : undefined;
    this.program = make();
    this.stepInvariants = this.program.invariants.filter((i) => !i.atEnd);
    // Only with the audit on (it checks that an invariant reads what it watches), and never for
    // an invariant without a watch list: "may read anything" includes plain JS a step changes
    // with no write noted, so it is checked after every step.
    this.checks = this.audit && 'invariantChecks' in o && o.invariantChecks?.dep.describes(this.stepInvariants) ? o.invariantChecks : undefined;
    this.unwatchedInvariants = this.stepInvariants.reduce((bits, inv, g) => (inv.watch === undefined ? bits | (1 << Math.min(g, MAX_GROUPS)) : bits), 0);
    this.chains = 'positions' in o && o.positions ? this.program.threads.map(() => CHAIN_START) : null;
    this.threads = this.program.threads.map((spec) => ({
      name: spec.name,
      actor: spec.actor === true,
      memoryless: spec.memoryless === true,
      gen: undefined as unknown as ThreadBody,
      pending: null,
      lazy: false,
      assumeFailed: null,
      ahead: null,
      unwatched: false,
    }));
    // Start every thread up to its first shared operation, in declaration order.
    this.program.threads.forEach((spec, tid) => {
      if (this.failure) return;
      this.guard(tid, () => {
        const t = this.threads[tid]!;
        t.gen = spec.body();
        if (typeof (t.gen as { next?: unknown } | undefined)?.next !== 'function') throw new ModelError(`thread ${spec.name}: its body must be a generator function (function* …), got ${describe(t.gen)}`);
        t.pending = this.nextStep(t, this.advance(t, undefined));
        this.place(tid);
      });
    });
    if (!this.failure) this.checkInvariants(this.stepInvariants);
  }

  get threadCount(): number {
    return this.threads.length;
  }

  threadName(tid: ThreadId): string {
    return this.threads[tid]!.name;
  }

  pending(tid: ThreadId): Step | null {
    return this.threads[tid]!.pending;
  }

  /** Footprint of a thread's next step, in the current state. */
  pendingFootprint(tid: ThreadId): readonly Access[] {
    const step = this.threads[tid]!.pending;
    if (!step) throw new EngineError(`thread ${tid} has no pending step`);
    try {
      return this.footprint(tid, step);
    } catch (e) {
      this.fail(tid, e);
      return [];
    }
  }

  /** Changes whenever the shared state may have: a step ran, or a state was put back. */
  private epoch = 0;
  /** The footprint function last evaluated for each thread: its step, the epoch, the result. A
   * state's footprints are asked for by the enabled check's audit, the strategy and the step. */
  private readonly fpStep: (Step | undefined)[] = [];
  private readonly fpEpoch: number[] = [];
  private readonly fpList: (readonly Access[])[] = [];

  /** Thread `tid`'s step's footprint, evaluated unaudited (footprint functions read state
   * freely), once per state. */
  private footprint(tid: ThreadId, step: Step): readonly Access[] {
    const f = step.footprint;
    if (typeof f !== 'function') return f;
    if (this.fpStep[tid] === step && this.fpEpoch[tid] === this.epoch) return this.fpList[tid]!;
    const prev = beginRecording(null);
    let fp: readonly Access[];
    try {
      fp = f();
    } finally {
      endRecording(prev);
    }
    this.fpStep[tid] = step;
    this.fpEpoch[tid] = this.epoch;
    this.fpList[tid] = fp;
    return fp;
  }

  isEnabled(tid: ThreadId): boolean {
    const step = this.threads[tid]!.pending;
    if (!step) return false;
    if (!step.enabled) return true;
    let ok = false;
    const rec = this.audit ? this.rec.clear() : null;
    const prev = beginRecording(rec);
    try {
      ok = step.enabled();
    } catch (e) {
      endRecording(prev);
      this.fail(tid, e);
      return false;
    }
    endRecording(prev);
    if (rec && !rec.empty) {
      const bad = uncovered(rec, this.footprint(tid, step), true);
      if (bad) throw new FootprintError(`the enabled condition of "${this.threads[tid]!.name}: ${step.label}" ${bad}${bad.startsWith('writes') ? ' (an enabled condition must not change state)' : ''}`);
    }
    return ok && !this.failure;
  }

  /** Threads whose next step can run now, in id order (the scheduler's choices). The list is
   * shared by every execution that has the same threads enabled: never change it. */
  enabled(): readonly ThreadId[] {
    const n = this.threads.length;
    if (n > 30) {
      const out: ThreadId[] = [];
      for (let tid = 0; tid < n && !this.failure && this.blocked === null; tid++) if (this.isEnabled(tid)) out.push(tid);
      return out;
    }
    let mask = 0;
    for (let tid = 0; tid < n && !this.failure && this.blocked === null; tid++) if (this.isEnabled(tid)) mask |= 1 << tid;
    return enabledList(mask);
  }

  /** True once nothing can run: either every thread finished or the execution is stuck. */
  /** Runs thread `tid`'s pending step atomically, then checks the per-step invariants. `saved`:
   * the state now, when the driver has saved it. */
  step(tid: ThreadId, saved?: unknown): EventRecord {
    const event = this.runStep(tid, saved);
    if (this.chains !== null) this.chainAfter[this.events.length - 1] = this.chains[tid]!;
    return event;
  }

  /** `saved`: the state now, as the driver saved it (else saved here when needed). */
  private runStep(tid: ThreadId, saved: unknown): EventRecord {
    const t = this.threads[tid];
    if (!t || !t.pending) throw new EngineError(`thread ${tid} cannot step: it has finished`);
    if (this.failure || this.blocked !== null) throw new EngineError('stepping an execution that has ended');
    // A thread a rewind took back runs its kept step when its generator is kept and the step is
    // stable (Ahead); now and then that step is run beside the one the thread yields again.
    let ahead: Ahead | null = null;
    let probe: KeptRun | null = null;
    if (t.lazy) {
      const a = t.ahead;
      if (a !== null && t.pending.stable === true) {
        if (this.replay === undefined || !this.replay.checkKept(t.pending.label)) ahead = a;
        else probe = this.runKept(t.pending);
      }
      t.ahead = null;
      if (ahead === null) bringBack(this, tid);
    }
    let step = t.pending;
    // Put back if the kept step returns another result than its kept generator received.
    const before = ahead === null ? undefined : saved !== undefined ? saved : this.saveState();
    let { footprint, result, thrown, threw } = this.execute(tid, step);
    // Only a plain value is the same result: an object may have other contents now.
    if (ahead !== null && (threw || result !== ahead.results[ahead.at] || (typeof result === 'object' && result !== null) || typeof result === 'function')) {
      // Not where its kept generator went: the thread is brought back, in the state before the
      // step (as if it had not been kept), and takes the step its generator yields there.
      this.restoreState(before);
      ahead = null;
      bringBack(this, tid);
      step = t.pending!;
      ({ footprint, result, thrown, threw } = this.execute(tid, step));
    }
    const rec = this.audit ? this.rec : null;
    if (rec && !rec.empty) {
      // Checked even when run threw: an assumption or a model error after an undeclared access.
      const bad = uncovered(rec, footprint, false);
      if (bad) throw new FootprintError(`step "${t.name}: ${step.label}" ${bad}; add it to the step's footprint`);
      if (thrown instanceof AssumptionFailed && rec.firstWrite !== undefined) {
        throw new ModelError(`step "${t.name}: ${step.label}" wrote ${rec.firstWrite} before its assumption failed: assume before any write in a step`);
      }
    }
    if (threw) this.fail(tid, thrown, step);
    if (probe !== null) this.checkKept(t, step, probe, threw, result);
    const event: EventRecord = { tid, label: step.label, note: step.note, footprint, conditional: step.enabled !== undefined };
    this.events.push(event);
    this.ran.push(step);
    if (this.watches && !this.watches.done) this.watches.touchAll(footprint);
    if (t.assumeFailed !== null) {
      const mark = new AssumeMark(t.assumeFailed);
      this.results.push(mark);
      this.extend(tid, mark);
      t.pending = null;
      // Stopped: its kept generator (if it ran a kept step) is of no more use.
      t.lazy = false;
      this.place(tid);
      return event;
    }
    this.results.push(result);
    this.extend(tid, result);
    // Where the thread is after the step, before it is taken on: a thread brought back below
    // (followKept) from the start reads it (step() records it again once placed).
    if (this.chains !== null) this.chainAfter[this.events.length - 1] = this.chains[tid]!;
    if ((typeof result === 'object' && result !== null) || typeof result === 'function') this.opaqueFrom = Math.min(this.opaqueFrom, this.events.length - 1);
    if (this.failure || this.blocked !== null) return event;
    try {
      if (ahead !== null) this.followKept(tid, ahead);
      else t.pending = this.nextStep(t, this.advance(t, result));
      this.place(tid);
    } catch (e) {
      this.fail(tid, e);
    }
    if (this.failure || this.blocked !== null) return event;
    // An invariant reads only the locations it watches (the audit checks it, and DPOR already
    // rests on it), and it held in the state before this step: it holds still unless the step
    // wrote a location it watches, or the thread's code after it changed unaudited bookkeeping.
    const c = this.checks;
    this.checkInvariants(this.stepInvariants, c === undefined || this.wroteAfter.at(-1) === this.events.length - 1 ? -1 : c.dep.stepVisible(footprint) | this.unwatchedInvariants);
    if (!this.failure && this.events.length >= this.maxSteps && this.enabled().length > 0) {
      this.failure = {
        kind: 'step-bound',
        invariant: 'step-bound',
        message: `execution exceeded ${this.maxSteps} steps (livelock or unbounded loop?)`,
      };
    }
    return event;
  }

  /**
   * Takes this execution back to its first `k` steps without running any of them: the state
   * saved at `k` is put back, and the threads that moved since wait at their kept steps
   * (rewind.ts). Per-step invariants held in every state of the prefix when it first ran; they
   * are not checked again.
   */
  rewind(k: number, saved: unknown, initial: unknown, replay?: ReplayPolicy): void {
    rewind(this, k, saved, initial, replay);
  }

  /** @internal (rewind.ts) */
  truncate(k: number): void {
    truncate(this.events, k);
    const w = this.wroteAfter;
    while (w.length > 0 && w[w.length - 1]! >= k) w.pop();
    truncate(this.results, k);
    truncate(this.ran, k);
    truncate(this.chainAfter, k);
    if (this.opaqueFrom >= k) this.opaqueFrom = Infinity;
    this.failure = null;
    this.blocked = null;
  }

  /** @internal (rewind.ts) */
  restoreState(saved: unknown): void {
    this.epoch++;
    try {
      this.program.state!.restore(saved);
    } catch (err) {
      if (err instanceof ModelError || err instanceof EngineError) throw err;
      throw new ModelError(`the program's state.restore() threw: ${errText(err)}`);
    }
  }

  /** A memoryless thread is where its pending step is (see ThreadSpec.memoryless); a thread
   * whose pending step declares a position is there (Step.position). */
  /** @internal (rewind.ts) */
  place(tid: ThreadId): void {
    const t = this.threads[tid]!;
    if (this.chains === null) return;
    // A finished thread has nothing left to do: where it is no longer depends on how it got there.
    if (t.pending === null && t.assumeFailed === null) {
      this.chains[tid] = FINISHED;
      return;
    }
    const key = t.pending?.position;
    if (key !== undefined && !t.memoryless) {
      const inOp = t.pending!.positionInOp;
      // Within an operation: a pair, hashed apart from every plain key.
      this.chains[tid] = inOp === undefined ? keyFingerprint('position', key) : positionInOpFingerprint(key, inOp);
      return;
    }
    if (!t.memoryless) return;
    this.chains[tid] = t.assumeFailed !== null ? keyFingerprint('assume failed', t.assumeFailed) : keyFingerprint('at', t.pending!.label);
  }

  /** Moves thread `tid`'s position past a result it received. */
  private extend(tid: ThreadId, result: unknown): void {
    const chains = this.chains;
    if (chains === null || this.threads[tid]!.memoryless) return;
    const c = chains[tid];
    if (c === null || c === undefined) return;
    try {
      chains[tid] = extendChain(c, result instanceof AssumeMark ? `assume failed: ${result.reason}` : result);
    } catch (e) {
      if (!(e instanceof Unhashable)) throw e;
      chains[tid] = null;
    }
  }

  /** The program's state now, as its `state.save()` copies it. */
  saveState(): unknown {
    try {
      return this.program.state!.save();
    } catch (err) {
      if (err instanceof ModelError || err instanceof EngineError) throw err;
      throw new ModelError(`the program's state.save() threw: ${errText(err)}`);
    }
  }

  /** The state now is the one after step `m` of this execution (0: the initial state): the
   * steps since can repeat forever, which the stateless search would find as a step-bound
   * failure (the same verdict, found without running out the bound). */
  repeats(m: number): void {
    const after = m === 0 ? 'the initial state' : `the state after step ${m}`;
    this.failure = {
      kind: 'step-bound',
      invariant: 'step-bound',
      message: `the state after step ${this.events.length} is ${after}: the steps between can repeat forever (livelock or unbounded loop?)`,
    };
  }

  /** Called when no thread is enabled: a deadlock if a non-actor thread has not finished. */
  finish(): void {
    if (this.failure || this.blocked !== null) return;
    const assumed = this.threads.filter((t) => t.assumeFailed !== null);
    if (assumed.length > 0) {
      this.blocked = assumed.map((t) => `${t.name}: ${t.assumeFailed}`).join('; ');
      return;
    }
    const stuck = this.threads
      .map((t, tid) => ({ t, tid }))
      .filter(({ t }) => t.pending !== null && !t.actor);
    if (stuck.length > 0) {
      const who = stuck.map(({ t }) => `${t.name} at "${t.pending!.label}"`).join(', ');
      this.failure = { kind: 'deadlock', invariant: 'deadlock', message: `no thread can run: ${who}` };
      return;
    }
    this.checkInvariants(this.program.invariants);
  }

  finalState(): string | undefined {
    return this.program.finalState?.();
  }

  /** Evaluates `step`'s footprint and runs it, its accesses recorded in `rec` when auditing. */
  private execute(tid: ThreadId, step: Step): { footprint: readonly Access[]; result: unknown; thrown: unknown; threw: boolean } {
    let footprint: readonly Access[] = [];
    let result: unknown;
    let thrown: unknown;
    let threw = false;
    try {
      footprint = this.footprint(tid, step);
    } catch (e) {
      threw = true;
      thrown = e;
    }
    const rec = this.audit ? this.rec.clear() : null;
    if (!threw) {
      const prev = beginRecording(rec);
      try {
        result = step.run();
      } catch (e) {
        threw = true;
        thrown = e;
      }
      endRecording(prev);
      this.epoch++;
    }
    return { footprint, result, thrown, threw };
  }

  /**
   * Thread `tid` ran its kept step and received the result its kept generator received there:
   * it is at its next kept step, or, past the last one, that generator again (see Ahead).
   */
  private followKept(tid: ThreadId, a: Ahead): void {
    const t = this.threads[tid]!;
    a.at++;
    if (a.at === a.results.length) {
      t.gen = a.gen;
      t.pending = a.pending;
      t.lazy = false;
      return;
    }
    t.pending = a.steps[a.at - 1]!;
    t.ahead = a;
    // Its footprint or enabled condition may read locals of the code after it (rewind).
    if (!isPlainStep(t.pending)) bringBack(this, tid);
  }

  /** Runs a kept step from the state now, then puts the state back: what it returned, noted
   * and left, to compare with the step its thread yields again (Step.stable). */
  private runKept(kept: Step): KeptRun {
    const before = this.saveState();
    let result: unknown;
    let threw = false;
    const prev = beginRecording(null);
    try {
      result = kept.run();
    } catch {
      threw = true;
    } finally {
      endRecording(prev);
    }
    const out: KeptRun = { result, threw, note: kept.note, after: this.saveState() };
    this.restoreState(before);
    return out;
  }

  /** Two saved states of this program are equal (hashed by the program's own hash when it has
   * one: the machine's remembers its unchanged parts). */
  private sameSaved(a: unknown, b: unknown): boolean {
    const st = this.program.state!;
    if (a === b || st.hash === undefined) return sameState(a, b);
    const x = stateFingerprint(a, [], st);
    const y = stateFingerprint(b, [], st);
    return x.lo === y.lo && x.hi === y.hi;
  }

  /** The kept step ran as the step its thread yields again did (Step.stable), or the claim is
   * false: its run reads a variable of the thread's code that changed after it. */
  private checkKept(t: ThreadState, step: Step, kept: KeptRun, threw: boolean, result: unknown): void {
    if (kept.threw === threw && (threw || (sameResult(kept.result, result) && kept.note === step.note && this.sameSaved(kept.after, this.saveState())))) return;
    const what = (r: unknown, th: boolean, note: string | undefined) => (th ? 'threw' : `returned ${describe(r)}${note !== undefined ? ` (${note})` : ''}`);
    throw new ModelError(
      `step "${t.name}: ${step.label}" says it is stable (Step.stable, stableStep), but kept while its thread was taken back it ${what(kept.result, kept.threw, kept.note)} where the step its thread yields there again ${what(result, threw, step.note)}${kept.threw === threw && sameResult(kept.result, result) && kept.note === step.note ? ' and left another state' : ''}: its run reads a variable of the thread's code that changes after the step (make it with mkStep)`,
    );
  }

  /** Resumes a thread up to its next step. Thread code between steps is not atomic with
   * anything, so shared state it touches there is a model error; a change to the program's
   * unaudited state (model bookkeeping) is allowed, and noted (wroteAfter). */
  private advance(t: ThreadState, result: unknown): IteratorResult<Step, void> {
    const quiet = this.events.length > 0 ? this.program.state?.unaudited : undefined;
    const before = quiet?.();
    if (!this.audit) {
      const r = t.gen.next(result);
      if (quiet !== undefined && !sameState(quiet(), before)) this.wroteAfter.push(this.events.length - 1);
      return r;
    }
    const rec = this.rec.clear();
    const prev = beginRecording(rec);
    let r: IteratorResult<Step, void>;
    try {
      r = t.gen.next(result);
    } finally {
      endRecording(prev);
    }
    if (quiet !== undefined && !sameState(quiet(), before)) this.wroteAfter.push(this.events.length - 1);
    const loc = rec.firstWrite ?? rec.firstRead;
    if (loc !== undefined) {
      const what = rec.firstWrite !== undefined ? 'writes' : 'reads';
      throw new FootprintError(`thread ${t.name} ${what} ${loc} between steps (after "${this.events.at(-1)?.label ?? 'its start'}"); shared state may only be touched inside a step's run()`);
    }
    return r;
  }

  /** The pending step a thread's generator produced; anything but a Step is a model error. */
  /** @internal (rewind.ts) */
  nextStep(t: ThreadState, r: IteratorResult<Step, void>): Step | null {
    if (r.done) return null;
    const s = r.value as unknown;
    if (!isStep(s)) {
      throw new ModelError(
        `thread ${t.name} yielded ${describe(s)}, not a Step` +
          (s === undefined || isGenerator(s) ? ' — did you write `yield` where `yield*` was meant (yield* op(…), yield* cell.load())?' : ' (a thread yields Steps: { label, footprint, run })'),
      );
    }
    return s;
  }

  /** Per invariant, the locations it read that its watch list covers (checked once each). */
  private readonly watched = new Map<Invariant, Set<string>>();

  private watchedBy(inv: Invariant): Set<string> {
    let s = this.watched.get(inv);
    if (s === undefined) this.watched.set(inv, (s = new Set()));
    return s;
  }

  /** Each invariant's reads the last time they were all found within its watch list. */
  private readonly lastReads = new Map<Invariant, Loc[]>();

  /** The first location `rec` holds that `inv` read outside `watch`, or null. An invariant
   * mostly reads the same locations in the same order in every state: the reads the last
   * checked evaluation made, in the same places, are not looked up again (vmap's cache-type
   * check reads 72 locations a state; looking each up was 6 % of vmap fixed's time). */
  private readOutsideWatch(inv: Invariant, watch: readonly string[], rec: AccessRecord, tracking: boolean): Loc | null {
    let last = this.lastReads.get(inv);
    if (last === undefined) this.lastReads.set(inv, (last = []));
    const alike = rec.readsAlike(last);
    if (alike === rec.readCount && alike === last.length) return null;
    const loc = rec.firstReadOutside(watch, this.watchedBy(inv), tracking ? this.watches : undefined, alike);
    if (loc === null) rec.copyReads(last);
    return loc;
  }

  /** `visible`: the bit set (Dependence.visibleTo) of the per-step invariants to check; -1 all. */
  private checkInvariants(list: readonly Invariant[], visible = -1): void {
    for (let g = 0; g < list.length; g++) {
      // Skipped (the step wrote nothing it watches), but now and then checked all the same.
      let sampled = false;
      if ((visible & (1 << Math.min(g, MAX_GROUPS))) === 0) {
        if (this.checks === undefined || !this.checks.sample(g)) continue;
        sampled = true;
      }
      const inv = list[g]!;
      let msg: string | null = null;
      const rec = this.audit && !inv.atEnd ? this.rec.clear() : null;
      const prev = beginRecording(rec);
      try {
        msg = inv.check();
      } catch (e) {
        endRecording(prev);
        if (e instanceof ModelError || e instanceof EngineError) throw e;
        this.failure = { kind: 'error', invariant: 'model-error', message: `invariant ${inv.name} threw: ${errText(e)}` };
        return;
      }
      endRecording(prev);
      // The watch tracker is told each location an invariant reads: one with a watch list tells it
      // only the locations new to that list's known set (the same locations, told once).
      const tracking = rec !== null && this.watches !== undefined && !this.watches.done;
      if (tracking && inv.watch === undefined) rec.find((loc) => (this.watches!.touch(loc), null));
      if (rec) {
        if (rec.firstWrite !== undefined) throw new FootprintError(`invariant ${inv.name} writes ${rec.firstWrite}: an invariant must only read`);
        const loc = inv.watch === undefined ? null : this.readOutsideWatch(inv, inv.watch, rec, tracking);
        if (loc !== null) throw new FootprintError(`invariant ${inv.name} reads ${loc}, which its watch list (${inv.watch!.map((w) => JSON.stringify(w)).join(', ') || 'empty'}) does not cover; add it to watch`);
      }
      if (msg !== null) {
        if (sampled) throw this.unseenChange(inv, msg);
        this.failure = { kind: 'invariant', invariant: inv.name, message: msg };
        return;
      }
    }
  }

  /** An invariant that held fails after a step that wrote nothing it watches. */
  private unseenChange(inv: Invariant, msg: string): ModelError {
    const e = this.events.at(-1);
    const step = e ? `"${this.threads[e.tid]!.name}: ${e.label}"` : 'the start';
    return new ModelError(
      `invariant ${inv.name} held before ${step} and fails after it ("${msg}"), yet the step writes no location it watches (${inv.watch!.map((w) => JSON.stringify(w)).join(', ') || 'none'}): ` +
        `it reads something its watch list does not say — plain JS bookkeeping changed by a step or by thread code, which the audit cannot see. ` +
        `Partial-order reduction and the search's skipped checks rest on an invariant's answer following from the locations it watches: change that bookkeeping only in a step that writes a watched location`,
    );
  }

  /** Runs model code; its exceptions become failures. `running` is the step whose `run` this is. */
  /** Runs model code; its exceptions become failures (see `fail`). */
  private guard(tid: ThreadId, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(tid, e);
    }
  }

  /** What an exception thrown by model code means. `running`: the step whose `run` threw. */
  /** @internal (rewind.ts) */
  fail(tid: ThreadId, e: unknown, running?: Step): void {
    if (e instanceof EngineError || e instanceof ModelError) throw e;
    if (e instanceof AssertionViolated) {
      this.failure = { kind: 'invariant', invariant: e.name, message: e.message };
      return;
    }
    if (e instanceof AssumptionFailed) {
      if (!running) throw new ModelError(`${this.threads[tid]?.name ?? `thread ${tid}`}: assume may only be called inside a step's run()`);
      this.threads[tid]!.assumeFailed = e.reason;
      return;
    }
    this.failure = {
      kind: 'error',
      invariant: 'model-error',
      message: `${this.threads[tid]?.name ?? `thread ${tid}`} threw: ${errText(e)}`,
    };
  }
}

function isStep(x: unknown): x is Step {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return typeof s.label === 'string' && typeof s.run === 'function' && (Array.isArray(s.footprint) || typeof s.footprint === 'function');
}

function isGenerator(x: unknown): x is ThreadBody {
  return typeof x === 'object' && x !== null && typeof (x as Record<string, unknown>).next === 'function' && typeof (x as Record<string, unknown>).throw === 'function';
}

function describe(x: unknown): string {
  if (x === undefined || x === null) return String(x);
  if (isGenerator(x)) return 'a generator';
  if (typeof x === 'object') return 'an object without label, footprint and run';
  return `a ${typeof x}`;
}

