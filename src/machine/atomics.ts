// Atomic operations on Cells (model variables, struct page fields, memory words). Each is one
// Step, named like the kernel's. Plain READ_ONCE / WRITE_ONCE are here too: also one Step each.
import type { Step } from '../engine/types.js';
import { type Cell, cellLabel, mkStep, rmwAccesses, textFor } from './step.js';

type Op<T> = Generator<Step, T, unknown>;

/** "read <name>" by cell name (see cellLabel). */
const readLabels = new Map<string, string>();

function* update<T>(label: string, c: Cell, f: (old: number) => { value: number; result: T }): Op<T> {
  return (yield mkStep(label, rmwAccesses(c), (say) => {
    const old = c.get();
    const { value, result } = f(old);
    if (value !== old) c.set(value, label);
    say(`${c.name}: ${old} → ${value}`);
    return result;
  })) as T;
}

/** Plain load (READ_ONCE / atomic_read). */
export function* READ_ONCE(c: Cell): Op<number> {
  return (yield mkStep(textFor(readLabels, c.name, (n) => `read ${n}`), c.readAccesses(), (say) => {
    const v = c.get();
    say(`${c.name} = ${v}`);
    return v;
  })) as number;
}
/** Plain store (WRITE_ONCE / atomic_set). */
export function* WRITE_ONCE(c: Cell, v: number): Op<void> {
  yield mkStep(`write ${c.name} := ${v}`, c.writeAccesses(), (say) => {
    const old = c.get();
    c.set(v, `write ${c.name}`);
    say(`${c.name}: ${old} → ${v}`);
  });
}
export const atomic_read = READ_ONCE;
export const atomic_set = WRITE_ONCE;

export function* atomic_add_return(c: Cell, n: number): Op<number> {
  return yield* update(cellLabel('atomic_add_return', c.name, n), c, (o) => ({ value: o + n, result: o + n }));
}
export function* atomic_sub_return(c: Cell, n: number): Op<number> {
  return yield* update(cellLabel('atomic_sub_return', c.name, n), c, (o) => ({ value: o - n, result: o - n }));
}
export function* atomic_add(c: Cell, n: number): Op<void> {
  yield* update(cellLabel('atomic_add', c.name, n), c, (o) => ({ value: o + n, result: undefined }));
}
export function* atomic_sub(c: Cell, n: number): Op<void> {
  yield* update(cellLabel('atomic_sub', c.name, n), c, (o) => ({ value: o - n, result: undefined }));
}
export function* atomic_inc(c: Cell): Op<void> {
  yield* update(cellLabel('atomic_inc', c.name), c, (o) => ({ value: o + 1, result: undefined }));
}
export function* atomic_dec(c: Cell): Op<void> {
  yield* update(cellLabel('atomic_dec', c.name), c, (o) => ({ value: o - 1, result: undefined }));
}
export function* atomic_inc_return(c: Cell): Op<number> {
  return yield* update(cellLabel('atomic_inc_return', c.name), c, (o) => ({ value: o + 1, result: o + 1 }));
}
export function* atomic_dec_return(c: Cell): Op<number> {
  return yield* update(cellLabel('atomic_dec_return', c.name), c, (o) => ({ value: o - 1, result: o - 1 }));
}
/** Decrement; true when the result is 0. */
export function* atomic_dec_and_test(c: Cell): Op<boolean> {
  return yield* update(cellLabel('atomic_dec_and_test', c.name), c, (o) => ({ value: o - 1, result: o - 1 === 0 }));
}
/** Add `a` unless the value is `u`; true when it added. */
export function* atomic_add_unless(c: Cell, a: number, u: number): Op<boolean> {
  return yield* update(`atomic_add_unless(${c.name}, ${a}, ${u})`, c, (o) =>
    o === u ? { value: o, result: false } : { value: o + a, result: true },
  );
}
export function* atomic_inc_not_zero(c: Cell): Op<boolean> {
  return yield* update(cellLabel('atomic_inc_not_zero', c.name), c, (o) =>
    o === 0 ? { value: o, result: false } : { value: o + 1, result: true },
  );
}
/** Compare-and-exchange; returns the old value (success iff it equals `old`). */
export function* cmpxchg(c: Cell, old: number, nu: number): Op<number> {
  return yield* update(`cmpxchg(${c.name}, ${old}, ${nu})`, c, (o) => ({ value: o === old ? nu : o, result: o }));
}
/** Exchange; returns the old value. */
export function* xchg(c: Cell, nu: number): Op<number> {
  return yield* update(`xchg(${c.name}, ${nu})`, c, (o) => ({ value: nu, result: o }));
}

const bit = (nr: number): number => {
  if (!Number.isInteger(nr) || nr < 0 || nr > 30) throw new RangeError(`bad bit number ${nr}`);
  return 1 << nr;
};
/** Set bit `nr`; returns its old value. */
export function* test_and_set_bit(nr: number, c: Cell): Op<boolean> {
  return yield* update(cellLabel('test_and_set_bit', c.name, nr), c, (o) => ({ value: o | bit(nr), result: (o & bit(nr)) !== 0 }));
}
/** Clear bit `nr`; returns its old value. */
export function* test_and_clear_bit(nr: number, c: Cell): Op<boolean> {
  return yield* update(cellLabel('test_and_clear_bit', c.name, nr), c, (o) => ({ value: o & ~bit(nr), result: (o & bit(nr)) !== 0 }));
}
export function* set_bit(nr: number, c: Cell): Op<void> {
  yield* update(cellLabel('set_bit', c.name, nr), c, (o) => ({ value: o | bit(nr), result: undefined }));
}
export function* clear_bit(nr: number, c: Cell): Op<void> {
  yield* update(cellLabel('clear_bit', c.name, nr), c, (o) => ({ value: o & ~bit(nr), result: undefined }));
}
export function* test_bit(nr: number, c: Cell): Op<boolean> {
  return (yield mkStep(cellLabel('test_bit', c.name, nr), c.readAccesses(), (say) => {
    const r = (c.get() & bit(nr)) !== 0;
    say(`${c.name} bit ${nr} = ${r ? 1 : 0}`);
    return r;
  })) as boolean;
}
