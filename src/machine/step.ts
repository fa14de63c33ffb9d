// Building blocks for machine operations: a Step factory and Cells (shared words with a
// location name) that atomics, locks and struct page fields are made of.
import { noteRead, noteWrite } from '../engine/audit.js';
import { type Access, type Loc, type Step, perform, read, write } from '../engine/types.js';
import type { Stateful } from './state.js';

/** A mutable Step whose `run` can leave a note for traces. */
export interface NotedStep<T> extends Step<T> {
  note?: string;
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
): NotedStep<T> {
  const s: NotedStep<T> = {
    label,
    footprint,
    run: () => run((n) => (s.note = n)),
  };
  if (enabled) (s as { enabled?: () => boolean }).enabled = enabled;
  return s;
}

/** Yield one step and return its result: `const v = yield* op(mkStep(...))`. */
export function op<T>(s: Step<T>): Generator<Step, T, unknown> {
  return perform(s);
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
}

/**
 * A plain word at one location: read and written whole. Every get/set is reported to the
 * engine's access audit under `loc` (the string is built once, here), so a step, enabled
 * condition or invariant that touches the word without declaring it is a FootprintError.
 */
export abstract class WordAt implements Cell, Stateful<number> {
  abstract readonly name: string;
  constructor(readonly loc: Loc, protected value: number) {}
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
  readAccesses(): readonly Access[] {
    return [read(this.loc)];
  }
  writeAccesses(): readonly Access[] {
    return [write(this.loc)];
  }
}

/** A named shared variable that belongs to the model (`var:<name>`). */
export class Var extends WordAt {
  constructor(readonly name: string, init = 0, prefix = 'var') {
    super(`${prefix}:${name}`, init);
  }
}
