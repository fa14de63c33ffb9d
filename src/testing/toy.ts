// A tiny shared-memory language (variables, loads, stores, CAS, locks, waits, assume, assert)
// for testing and benchmarking the engine itself, and for generating random programs. Its
// shared state reports every access to the audit, like the machine's.
import { noteRead, noteWrite } from '../engine/audit.js';
import { assertHolds, assumeHolds } from '../engine/execution.js';
import { type Invariant, type Program, type Step, type ThreadBody, type ThreadSpec, at, perform as performStep, read, write } from '../engine/types.js';

export class Shared {
  private readonly values: number[];
  private readonly owners: (number | null)[];
  private readonly varLoc: string[];
  private readonly lockLoc: string[];
  /** `stable`: steps whose footprint or enabled is a function say they read no thread local
   * (Step.stable; they read only shared state and the constants they were made with). */
  constructor(nVars: number, nLocks = 0, private readonly stable = false) {
    this.values = new Array<number>(nVars).fill(0);
    this.owners = new Array<number | null>(nLocks).fill(null);
    this.varLoc = this.values.map((_, i) => `x${i}`);
    this.lockLoc = this.owners.map((_, i) => `l${i}`);
  }
  /** The value of x, noted as a read. */
  get(x: number): number {
    noteRead(this.varLoc[x]!);
    return this.values[x]!;
  }
  private set(x: number, v: number): void {
    noteWrite(this.varLoc[x]!);
    this.values[x] = v;
  }
  get vars(): readonly number[] {
    return this.values.map((_, i) => this.get(i));
  }
  load(x: number): Step<number> {
    return { label: `load x${x}`, footprint: [read(this.varLoc[x]!)], run: () => this.get(x) };
  }
  /** Loads x[x_i mod n]: a footprint that depends on the state it is evaluated in. */
  loadIndirect(i: number): Step<number> {
    const target = () => this.values[i]! % this.values.length;
    return {
      label: `load x[x${i}]`,
      stable: this.stable,
      footprint: () => [read(this.varLoc[i]!), read(this.varLoc[target()]!)],
      run: () => this.get(this.get(i) % this.values.length),
    };
  }
  store(x: number, v: number): Step<void> {
    return { label: `store x${x}=${v}`, footprint: [write(this.varLoc[x]!)], run: () => this.set(x, v) };
  }
  cas(x: number, expect: number, v: number): Step<boolean> {
    return {
      label: `cas x${x} ${expect}->${v}`,
      stable: this.stable,
      // A failing CAS only reads: its footprint is computed in the state it runs in.
      footprint: () => [this.values[x] === expect ? write(this.varLoc[x]!) : read(this.varLoc[x]!)],
      run: () => {
        if (this.get(x) !== expect) return false;
        this.set(x, v);
        return true;
      },
    };
  }
  lock(l: number, me: number): Step<void> {
    const loc = this.lockLoc[l]!;
    return {
      label: `lock l${l}`,
      footprint: [write(loc)],
      stable: this.stable,
      enabled: () => {
        noteRead(loc);
        return this.owners[l] === null;
      },
      run: () => {
        noteWrite(loc);
        this.owners[l] = me;
      },
    };
  }
  unlock(l: number): Step<void> {
    const loc = this.lockLoc[l]!;
    return {
      label: `unlock l${l}`,
      footprint: [write(loc)],
      run: () => {
        noteWrite(loc);
        this.owners[l] = null;
      },
    };
  }
  /** Blocks until x holds v (a wait on a flag). */
  await(x: number, v: number): Step<void> {
    return { label: `await x${x}==${v}`, footprint: [read(this.varLoc[x]!)], enabled: () => this.get(x) === v, run: () => undefined, stable: this.stable };
  }
  /** Sets x to 0, once it is not (an actor that takes whatever work is queued). */
  drain(x: number, tag: string): Step<void> {
    return { label: `drain x${x} (${tag})`, footprint: [write(this.varLoc[x]!)], enabled: () => this.get(x) !== 0, run: () => this.set(x, 0), stable: this.stable };
  }
  /** Goes on only in executions where x holds v; elsewhere the execution is blocked. */
  assume(x: number, v: number): Step<void> {
    return { label: `assume x${x}==${v}`, footprint: [read(this.varLoc[x]!)], run: () => assumeHolds(this.get(x) === v, `x${x} != ${v}`) };
  }
  /** Fails the execution (violation "assert") when x holds v. */
  assertNot(x: number, v: number): Step<void> {
    return { label: `assert x${x}!=${v}`, footprint: [read(this.varLoc[x]!)], run: () => assertHolds(this.get(x) !== v, 'assert', `x${x} == ${v}`) };
  }
  state(): string {
    return JSON.stringify(this.values);
  }
  /** All shared state (variables and lock owners), for the engine's state restore. */
  save(): { readonly values: readonly number[]; readonly owners: readonly (number | null)[] } {
    return { values: this.values.slice(), owners: this.owners.slice() };
  }
  /** This state equals `saved` (a save of it). */
  equals(saved: ReturnType<Shared['save']>): boolean {
    return sameNumbers(saved.values, this.values) && sameNumbers(saved.owners, this.owners);
  }
  restore(saved: unknown): void {
    const s = saved as ReturnType<Shared['save']>;
    for (let i = 0; i < this.values.length; i++) this.values[i] = s.values[i]!;
    for (let i = 0; i < this.owners.length; i++) this.owners[i] = s.owners[i]!;
  }
}

function sameNumbers(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** More of a toy program: `stable` steps (Shared), and a `drainer`, a memoryless actor that
 * zeroes x0 whenever it is not, in steps of two labels by turns. */
export interface ToyOptions {
  readonly stable?: boolean;
  readonly drainer?: boolean;
  /** Every step `stable` and the program `pureThreads`, with `seen` as its unaudited state: a
   * rewind runs kept steps in place of thread code (rewind.ts, Ahead), except after code that
   * writes `seen` (unless `recordInSteps`). */
  readonly pure?: boolean;
}

export type Op =
  | { kind: 'load'; x: number }
  | { kind: 'loadIndirect'; x: number }
  | { kind: 'store'; x: number; v: number }
  | { kind: 'cas'; x: number; expect: number; v: number }
  | { kind: 'inc'; x: number } // load then store (non-atomic)
  | { kind: 'await'; x: number; v: number }
  | { kind: 'assume'; x: number; v: number }
  | { kind: 'assertNot'; x: number; v: number }
  | { kind: 'locked'; l: number; ops: Op[] };

/** The position keys of an op list at `path`: op i is at `${path}${i}`, what it nests at
 * `${path}${i}.`, and a lock it takes is released at `${path}unlock`. Made once per list and
 * path, not at every step. */
interface Keys {
  readonly at: readonly string[];
  readonly inner: readonly string[];
  readonly unlock: string;
}
const keysMade = new WeakMap<Op[], Map<string, Keys>>();
function keysOf(ops: Op[], path: string): Keys {
  let byPath = keysMade.get(ops);
  if (byPath === undefined) keysMade.set(ops, (byPath = new Map()));
  let k = byPath.get(path);
  if (k === undefined || k.at.length !== ops.length) byPath.set(path, (k = { at: ops.map((_, i) => `${path}${i}`), inner: ops.map((_, i) => `${path}${i}.`), unlock: `${path}unlock` }));
  return k;
}

/**
 * One build's threads: what they share and see, and their operations as generator methods (one
 * closure for every build: a `function*` made per build costs V8 a new hidden class at its first
 * call, see machine/step.ts). A thread keeps nothing but where it is (what it read goes to
 * `seen`, in the state): each op starts at a position named by its place in the program (keys
 * made once per program).
 */
class ToyThreads {
  constructor(
    readonly s: Shared,
    readonly seen: number[][],
    /** What a thread reads goes to `seen` inside the step that reads it (toyProgram). */
    private readonly recordInSteps: boolean,
    /** Shared's steps are claimed stable (pure): their functions read shared state and constants. */
    private readonly pure: boolean,
  ) {}

  perform<T>(step: Step<T>): Generator<Step, T, unknown> {
    return performStep(this.pure ? { ...step, stable: true } : step);
  }

  /** A step whose result goes to seen[me] inside its run (recordInSteps). */
  private recorded(step: Step<number | boolean>, me: number): Step<number | boolean> {
    const seen = this.seen;
    return {
      label: step.label,
      footprint: step.footprint,
      ...(step.enabled ? { enabled: step.enabled } : {}),
      run: () => {
        const v = step.run();
        seen[me]!.push(num(v));
        return v;
      },
    };
  }

  /** A load or CAS: its result goes to seen[me], in its run when recordInSteps, else by the
   * thread's code right after it (runOps). */
  private observed(step: Step<number | boolean>, me: number): Generator<Step, unknown, unknown> {
    return this.perform(this.recordInSteps ? this.recorded(step, me) : step);
  }

  *runOps(ops: Op[], me: number, path = ''): ThreadBody {
    const k = keysOf(ops, path);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const v = yield* at(k.at[i]!, this.runOp(op, me, k.inner[i]!));
      if (!this.recordInSteps && (op.kind === 'load' || op.kind === 'loadIndirect' || op.kind === 'cas')) this.seen[me]!.push(num(v));
    }
  }

  // One generator per op: the step's own for a one-step op (fewer generators to pass each
  // result through than one wrapping it).
  private runOp(op: Op, me: number, path: string): Generator<Step, unknown, unknown> {
    const s = this.s;
    switch (op.kind) {
      case 'load':
        return this.observed(s.load(op.x), me);
      case 'loadIndirect':
        return this.observed(s.loadIndirect(op.x), me);
      case 'store':
        return this.perform(s.store(op.x, op.v));
      case 'cas':
        return this.observed(s.cas(op.x, op.expect, op.v), me);
      case 'await':
        return this.perform(s.await(op.x, op.v));
      case 'assume':
        return this.perform(s.assume(op.x, op.v));
      case 'assertNot':
        return this.perform(s.assertNot(op.x, op.v));
      case 'inc':
        return this.inc(op.x);
      case 'locked':
        return this.locked(op.l, op.ops, me, path);
    }
  }

  private *inc(x: number): Generator<Step, void, unknown> {
    const v = yield* this.perform(this.s.load(x));
    yield* this.perform(this.s.store(x, v + 1));
  }

  private *locked(l: number, ops: Op[], me: number, path: string): Generator<Step, void, unknown> {
    yield* this.perform(this.s.lock(l, me));
    yield* this.runOps(ops, me, path);
    yield* at(keysOf(ops, path).unlock, this.perform(this.s.unlock(l)));
  }

  /** The drainer actor: drains both buffers of variable 0, for ever. */
  *drainer(): ThreadBody {
    for (;;) {
      yield this.s.drain(0, 'a');
      yield this.s.drain(0, 'b');
    }
  }
}

const num = (v: unknown): number => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as number));

/** A program whose threads run the given op lists; locals are folded into the final state. */
/** `actors` threads (the last ones) need not finish: an execution may end with them blocked. */
/** `recordInSteps`: what a thread reads goes to `seen` inside the step that reads it, not in the
 * thread's code between steps (a model whose thread code writes no bookkeeping). */
export function toyProgram(threads: Op[][], nVars: number, nLocks: number, invariants: (s: Shared) => Invariant[] = () => [], actors = 0, recordInSteps = false, more: ToyOptions = {}): () => Program {
  return () => {
    const s = new Shared(nVars, nLocks, more.stable === true);
    const seen: number[][] = threads.map(() => []);
    const pure = more.pure === true;
    const k = new ToyThreads(s, seen, recordInSteps, pure);
    const specs: ThreadSpec[] = threads.map((ops, i) => ({ name: `t${i}`, body: () => k.runOps(ops, i), actor: i >= threads.length - actors }));
    if (more.drainer === true) specs.push({ name: 'drainer', actor: true, memoryless: true, body: () => k.drainer() });
    // A save of unchanged state is the last saved object again, as the machine's is (state.ts).
    let last: { shared: ReturnType<Shared['save']>; seen: number[][] } | undefined;
    let lastSeen: number[][] | undefined;
    const unchanged = (l: typeof last): l is NonNullable<typeof last> => l !== undefined && s.equals(l.shared) && l.seen.every((x, i) => sameNumbers(x, seen[i]!));
    return {
      threads: specs,
      invariants: invariants(s),
      finalState: () => `${s.state()}|${JSON.stringify(seen)}`,
      snapshot: () => ({ vars: JSON.parse(s.state()) as number[] }),
      ...(pure ? { pureThreads: true } : {}),
      // What threads saw is kept outside their generators, so it is part of the state.
      state: {
        // Shared reports its accesses; `seen` is plain JS.
        ...(pure ? { unaudited: () => (lastSeen !== undefined && lastSeen.every((x, i) => sameNumbers(x, seen[i]!)) ? lastSeen : (lastSeen = seen.map((x) => x.slice()))) } : {}),
        save: () => (unchanged(last) ? last : (last = { shared: s.save(), seen: seen.map((x) => x.slice()) })),
        restore: (saved) => {
          const v = saved as { shared: ReturnType<Shared['save']>; seen: number[][] };
          last = v;
          s.restore(v.shared);
          // In place: a thread holds its own list across a yield (`seen[me].push(yield …)`).
          v.seen.forEach((x, i) => seen[i]!.splice(0, Infinity, ...x));
        },
      },
    };
  };
}
