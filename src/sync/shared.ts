// Shared variables for user models: each one mints its own location (`var:<name>`), declares
// it in the footprint of every operation and reports every access to the engine's audit, so a
// model built from these cannot leave an access out of a footprint or misspell a location.
import { noteRead, noteWrite, unaudited } from '../engine/audit.js';
import { type Access, type Loc, type Step, read, write } from '../engine/types.js';
import { mkStep } from '../machine/step.js';

export type Op<T> = Generator<Step, T, unknown>;

/** Something that lives at one location (a shared variable, a mutex, a machine Cell). */
export interface Located {
  readonly loc: Loc;
}

/**
 * A shared variable. Its operations are Steps (use them with `yield*` inside a thread); `value`
 * is a plain read for invariants and `finalState` (audited: an invariant that reads it must
 * watch `loc`, or watch nothing).
 */
export class Shared<T> implements Located {
  readonly loc: Loc;
  private v: T;

  /** Use `SharedState.variable`: it checks that no two variables share a location. */
  constructor(readonly name: string, init: T) {
    this.loc = `var:${name}`;
    this.v = init;
  }

  get value(): T {
    noteRead(this.loc);
    return this.v;
  }

  private set(v: T): void {
    noteWrite(this.loc);
    this.v = v;
  }

  /** The value as data, and putting it back (ProgramState: no step, not audited). */
  save(): T {
    return this.v;
  }
  restore(v: T): void {
    this.v = v;
  }

  /** x = READ_ONCE(var) */
  *load(): Op<T> {
    return (yield mkStep(`load ${this.name}`, [read(this.loc)], (say) => {
      const v = this.value;
      say(`${this.name} = ${show(v)}`);
      return v;
    })) as T;
  }

  /** WRITE_ONCE(var, v) */
  *store(v: T): Op<void> {
    yield mkStep(`store ${this.name} := ${show(v)}`, [write(this.loc)], (say) => {
      const old = unaudited(() => this.v); // for the note only
      this.set(v);
      say(`${this.name}: ${show(old)} → ${show(v)}`);
    });
  }

  /**
   * Compare-and-swap: stores `nu` if the value is `expected`; true when it did. A failing CAS
   * only reads, so its footprint, made in the state it runs in, declares a read: two failing
   * CASes (or a failing CAS and a load) commute.
   */
  *cas(expected: T, nu: T): Op<boolean> {
    const fp = (): readonly Access[] => (this.v === expected ? [write(this.loc)] : [read(this.loc)]);
    return (yield mkStep(`cas ${this.name}: ${show(expected)} → ${show(nu)}`, fp, (say) => {
      const old = this.value;
      if (old !== expected) {
        say(`${this.name} is ${show(old)}: failed`);
        return false;
      }
      this.set(nu);
      say(`${this.name}: ${show(old)} → ${show(nu)}`);
      return true;
    })) as boolean;
  }

  /** Atomic exchange; returns the old value. */
  *exchange(nu: T): Op<T> {
    return (yield mkStep(`exchange ${this.name} := ${show(nu)}`, [write(this.loc)], (say) => {
      const old = this.value;
      this.set(nu);
      say(`${this.name}: ${show(old)} → ${show(nu)}`);
      return old;
    })) as T;
  }

  /** Atomic fetch-and-add (atomic_fetch_add); returns the old value. */
  *fetchAdd(this: Shared<number>, n: number): Op<number> {
    return (yield mkStep(`fetch_add ${this.name} += ${n}`, [write(this.loc)], (say) => {
      const old = this.value;
      this.set(old + n);
      say(`${this.name}: ${old} → ${old + n}`);
      return old;
    })) as number;
  }
}

export const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));
