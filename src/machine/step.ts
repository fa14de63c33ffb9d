// Building blocks for machine operations: a Step factory and Cells (shared words with a
// location name) that atomics, locks and struct page fields are made of.
import { noteRead, noteWrite } from '../engine/audit.js';
import { type Access, type Loc, type OpPosition, type Step, perform, read, write } from '../engine/types.js';
import type { Stateful } from './state.js';

/** A mutable Step whose `run` can leave a note for traces. */
export interface NotedStep<T> extends Step<T> {
  note?: string;
}

// A step is made for every operation a thread yields, restored prefixes included (a thread is
// brought back by feeding it results, so it yields its steps again without running them). So a
// step is one object: `run` is a method, and `say` one shared function that writes the note of
// the step being run, instead of two closures per step.
let running: MachineStep<unknown> | null = null;
function say(note: string): void {
  if (running !== null) running.note = note;
}

class MachineStep<T> implements NotedStep<T> {
  note: string | undefined = undefined;
  readonly enabled: (() => boolean) | undefined;
  constructor(
    readonly label: string,
    readonly footprint: readonly Access[] | (() => readonly Access[]),
    private readonly body: (say: (note: string) => void) => T,
    enabled: (() => boolean) | undefined,
    readonly stable: boolean,
    readonly opPosition: OpPosition | undefined = undefined,
  ) {
    this.enabled = enabled;
  }
  run(): T {
    const outer = running;
    running = this as MachineStep<unknown>;
    // A step object may run again (a kept step, rewind.ts): no note from the run before.
    this.note = undefined;
    try {
      return this.body(say);
    } finally {
      running = outer;
    }
  }
}

/**
 * Make a Step. `run` receives a `say` callback that sets the step's trace note.
 * `footprint` may be a function, evaluated in the current state before the step runs.
 */
export function mkStep<T>(
  label: string,
  footprint: readonly Access[] | (() => readonly Access[]),
  run: (say: (note: string) => void) => T,
  enabled?: () => boolean,
  opPosition?: OpPosition,
): NotedStep<T> {
  return new MachineStep(label, footprint, run, enabled, false, opPosition);
}

/**
 * mkStep for a step whose `footprint`, `enabled` and `run` read only shared state and values
 * that never change once the step is made (parameters, constants; no `let` of the thread's code
 * assigned after the step): Step.stable. The machine's own operations are made with it, but for
 * the helpers that wrap a caller's function (tso forwardedLoad, bufferedWrite, locked), which
 * cannot know what that function reads.
 */
export function stableStep<T>(
  label: string,
  footprint: readonly Access[] | (() => readonly Access[]),
  run: (say: (note: string) => void) => T,
  enabled?: () => boolean,
  opPosition?: OpPosition,
): NotedStep<T> {
  return new MachineStep(label, footprint, run, enabled, true, opPosition);
}

// Footprints of one location, made once per location name and shared by every build (a
// footprint is never changed: the engine only reads it, and `readonly` keeps model code from
// it). Steps on a cell then allocate no access list, and equal footprints are one object.
// Not frozen: frozen arrays and objects have shapes of their own, and the engine's loops over
// footprints (race detection compares every access with every other) became polymorphic and
// slow — cpa fixed ran 1.35x slower frozen.
interface LocAccesses {
  readonly read: Access;
  readonly write: Access;
  readonly reads: readonly Access[];
  readonly writes: readonly Access[];
  readonly both: readonly Access[];
}
const locAccesses = new Map<Loc, LocAccesses>();
function accessesAt(loc: Loc): LocAccesses {
  let a = locAccesses.get(loc);
  if (a === undefined) {
    const r = read(loc);
    const w = write(loc);
    a = { read: r, write: w, reads: [r], writes: [w], both: [r, w] };
    locAccesses.set(loc, a);
  }
  return a;
}
/** A read of `loc` (one shared object per location). */
export const readOf = (loc: Loc): Access => accessesAt(loc).read;
/** A write of `loc` (one shared object per location). */
export const writeOf = (loc: Loc): Access => accessesAt(loc).write;
/** `[read(loc)]`, `[write(loc)]` and `[read(loc), write(loc)]`, each one shared list. */
export const readsOf = (loc: Loc): readonly Access[] => accessesAt(loc).reads;
export const writesOf = (loc: Loc): readonly Access[] => accessesAt(loc).writes;
export const rmwOf = (loc: Loc): readonly Access[] => accessesAt(loc).both;

/** `make(key)`, made once per key and kept in `cache` (labels and notes made of names: a
 * thread yields its steps again whenever its execution is brought back). */
export function textFor(cache: Map<string, string>, key: string, make: (key: string) => string): string {
  let t = cache.get(key);
  if (t === undefined) {
    if (cache.size >= 1 << 12) cache.clear(); // a bound, never reached by the built-in models
    cache.set(key, (t = make(key)));
  }
  return t;
}

/** The label `${op}(${args}${name})` of an operation on a cell named `name` (`args`: a number
 * argument and ", " before the name, or nothing), made once: by operation, argument, name. */
export function cellLabel(op: string, name: string, arg?: number): string {
  let byArg = cellLabels.get(op);
  if (byArg === undefined) cellLabels.set(op, (byArg = new Map()));
  const key = arg === undefined ? NaN : arg;
  let byName = byArg.get(key);
  if (byName === undefined) {
    if (byArg.size >= 1 << 12) byArg.clear(); // a bound, never reached by the built-in models
    byArg.set(key, (byName = new Map()));
  }
  return textFor(byName, name, (n) => (arg === undefined ? `${op}(${n})` : `${op}(${arg}, ${n})`));
}
const cellLabels = new Map<string, Map<number, Map<string, string>>>();

/** `parts` joined into one list, for footprints a cache keeps (and shares: never change it). */
export function joinAccesses(...parts: readonly (readonly Access[])[]): readonly Access[] {
  const out: Access[] = [];
  for (const p of parts) for (const a of p) out.push(a);
  return out;
}

/** Yield one step and return its result: `const v = yield* op(mkStep(...))`. (The machine's own
 * operations yield their steps directly, `(yield mkStep(...)) as T`: a step then costs no
 * generator of its own, and resuming a thread one delegation less.) */
export function op<T>(s: Step<T>): Generator<Step, T, unknown> {
  return perform(s);
}

// Generator functions made per build (a `function*` inside a model's build, a thread literal
// `body: function* () {…}`) cost V8 a new hidden class and prototype the first time each one is
// called, 2–4 µs, and that class, kept in old space, holds the closure and with it the whole
// build through young-generation collections (starting a build's threads was 20–40 µs against
// 5 µs for the build). Thread bodies and operations are therefore shared generators: methods of
// a module-level class, or these.

/** `step()`'s steps forever (an actor that repeats one step: IPI delivery, a store-buffer drain). */
export function* forever(step: () => Step): Generator<Step, void, unknown> {
  for (;;) yield step();
}

/** `step()`'s steps, `n` times. */
export function* times(n: number, step: () => Step): Generator<Step, void, unknown> {
  for (let i = 0; i < n; i++) yield step();
}

/**
 * One shared word with a name: a model variable, a struct page field, or a word of physical
 * memory. `get`/`set` are plain accessors for setup code and invariants (not Steps); operations
 * inside threads go through atomics.ts, which use the access lists for footprints.
 */
export interface Cell {
  /** Human name for labels ("page 3 _count", "pte O[1]", "lazy_nr"). */
  readonly name: string;
  readonly loc: Loc;
  get(): number;
  /** Raw store; a memory cell also records a write into a freed frame. */
  set(v: number, by?: string): void;
  /** Locations read by a load of the cell. */
  readAccesses(): readonly Access[];
  /** Locations touched by a store (or read-modify-write) of the cell. */
  writeAccesses(): readonly Access[];
  /** `[...readAccesses(), ...writeAccesses()]` (a read-modify-write), when the cell keeps it. */
  rmwAccesses?(): readonly Access[];
}

/** What a read-modify-write of `c` touches. */
export const rmwAccesses = (c: Cell): readonly Access[] => (c.rmwAccesses ? c.rmwAccesses() : [...c.readAccesses(), ...c.writeAccesses()]);

/**
 * A plain word at one location: read and written whole. Every get/set is reported to the
 * engine's access audit under `loc` (the string is built once, here), so a step, enabled
 * condition or invariant that touches the word without declaring it is a FootprintError.
 */
/** A cell at one location: its footprints are that location's shared lists. */
export abstract class AtLoc {
  abstract readonly loc: Loc;
  readAccesses(): readonly Access[] {
    return readsOf(this.loc);
  }
  writeAccesses(): readonly Access[] {
    return writesOf(this.loc);
  }
  rmwAccesses(): readonly Access[] {
    return rmwOf(this.loc);
  }
}

export abstract class WordAt extends AtLoc implements Cell, Stateful<number> {
  abstract readonly name: string;
  constructor(readonly loc: Loc, protected value: number) {
    super();
  }
  /** The word's value for `Program.state` (not a read of the program: not audited). */
  save(): number {
    return this.value;
  }
  restore(v: number): void {
    this.value = v;
  }
  get(): number {
    noteRead(this.loc);
    return this.value;
  }
  set(v: number): void {
    noteWrite(this.loc);
    this.value = v;
  }
}

/** A named shared variable that belongs to the model (`var:<name>`). */
export class Var extends WordAt {
  constructor(readonly name: string, init = 0, prefix = 'var') {
    super(`${prefix}:${name}`, init);
  }
}

/** A step under the name of the kernel function it runs in (`fn: label`): one small object a
 * step, its label made once per (function, label). It reads what `inner` reads, so it is
 * `stable` when `inner` is (a kept one waits at a rewind: engine/rewind.ts). */
class InFunction implements Step {
  readonly label: string;
  readonly footprint: Step['footprint'];
  readonly stable: boolean | undefined;
  note: string | undefined = undefined;
  constructor(
    fn: string,
    protected readonly inner: Step,
  ) {
    this.label = labelIn(fn, inner.label);
    this.footprint = inner.footprint;
    this.stable = inner.stable;
  }
  run(): unknown {
    // The inner step's note even when it throws (a kept step run again keeps none of before).
    try {
      return this.inner.run();
    } finally {
      this.note = this.inner.note;
    }
  }
}

/** An InFunction step whose inner step has an enabled condition (a method, not a closure). */
class InFunctionEnabled extends InFunction {
  enabled(): boolean {
    return this.inner.enabled!();
  }
}

const inFunction = (fn: string, s: Step): InFunction => (s.enabled ? new InFunctionEnabled(fn, s) : new InFunction(fn, s));
const fnLabels = new Map<string, Map<string, string>>();
function labelIn(fn: string, label: string): string {
  let m = fnLabels.get(fn);
  if (!m) fnLabels.set(fn, (m = new Map()));
  let l = m.get(label);
  if (l === undefined) {
    if (m.size >= 4096) m.clear(); // a bound on memory, never reached by the built-in models
    m.set(label, (l = `${fn}: ${label}`));
  }
  return l;
}

/**
 * Runs `op`, naming its steps after the kernel function `fn` they run in. Nested, the names add
 * up (`outer: inner: label`), or with `innermost` a step keeps the name its innermost function
 * gave it.
 */
export function* within<T>(fn: string, op: Generator<Step, T, unknown>, innermost = false): Generator<Step, T, unknown> {
  let r = op.next();
  while (!r.done) r = op.next(yield innermost && r.value instanceof InFunction ? r.value : inFunction(fn, r.value));
  return r.value;
}
