// Atomic operations on Cells (model variables, struct page fields, memory words). Each is one
// Step, named like the kernel's. Plain READ_ONCE / WRITE_ONCE are here too: also one Step each.
// Each takes the CPU that issues it as an optional first argument (`atomic_inc(cpu, c)`): on a
// TSO machine that CPU's store buffer takes part (see `Issued`).
import type { Step } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import { type Cell, cellLabel, rmwAccesses, textFor, stableStep } from './step.js';
import { bufferedStore, forwardedLoad, isCpu, lockedBy } from './tso/ops.js';

type Op<T> = Generator<Step, T, unknown>;

/**
 * An operation that takes the CPU issuing it as an optional first argument: `atomic_inc(c)` and
 * `atomic_inc(cpu, c)`. Without a CPU, or on an SC machine, both are the same step; on a TSO
 * machine the CPU's store buffer takes part (tso/ops.ts says how, with the SDM's rules).
 */
export interface Issued<A extends unknown[], R> {
  (...args: A): Op<R>;
  (cpu: Cpu, ...args: A): Op<R>;
}
/** `f` with the issuing CPU optional in front (`undefined` when the caller gave none); at most
 * four arguments after the CPU. */
export function issued<A extends unknown[], R>(f: (cpu: Cpu | undefined, ...args: A) => Op<R>): Issued<A, R> {
  const g = f as unknown as (cpu: Cpu | undefined, ...args: unknown[]) => Op<R>;
  const h = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): Op<R> => (isCpu(a) ? g(a, b, c, d, e) : g(undefined, a, b, c, d));
  return h as unknown as Issued<A, R>;
}

/** `f(cpu, ...args)`, or `f(...args)` when `cpu` is undefined: passes an optional CPU on. */
export function withCpu<A extends unknown[], R>(f: Issued<A, R>, cpu: Cpu | undefined, ...args: A): Op<R> {
  return cpu === undefined ? f(...args) : f(cpu, ...args);
}

/** "read <name>" by cell name (see cellLabel). */
const readLabels = new Map<string, string>();

/** A locked read-modify-write of `c` (`lock`-prefixed on x86): one step; issued by a TSO CPU it
 * waits for the CPU's store buffer to drain (tso/ops.ts, lockedBy). */
function* update<T>(cpu: Cpu | undefined, label: string, c: Cell, f: (old: number) => { value: number; result: T }): Op<T> {
  return (yield lockedBy(cpu, stableStep(label, rmwAccesses(c), (say) => {
    const old = c.get();
    const { value, result } = f(old);
    if (value !== old) c.set(value, label);
    say(`${c.name}: ${old} → ${value}`);
    return result;
  }))) as T;
}

/** Plain load (READ_ONCE / atomic_read: a `mov`); on a TSO CPU it forwards from its own buffer. */
export const READ_ONCE = issued(function* (cpu: Cpu | undefined, c: Cell): Op<number> {
  const label = textFor(readLabels, c.name, (n) => `read ${n}`);
  const sb = cpu?.sb;
  if (sb !== undefined) return (yield forwardedLoad(sb, label, c, (v) => ({ result: v, note: `${c.name} = ${v}` }))) as number;
  return (yield stableStep(label, c.readAccesses(), (say) => {
    const v = c.get();
    say(`${c.name} = ${v}`);
    return v;
  })) as number;
});
/** Plain store (WRITE_ONCE / atomic_set: a `mov`); on a TSO CPU it enters its buffer. */
export const WRITE_ONCE = issued(function* (cpu: Cpu | undefined, c: Cell, v: number): Op<void> {
  const label = `write ${c.name} := ${v}`;
  const sb = cpu?.sb;
  if (sb !== undefined) {
    yield bufferedStore(sb, label, c, v);
    return;
  }
  yield stableStep(label, c.writeAccesses(), (say) => {
    const old = c.get();
    c.set(v, `write ${c.name}`);
    say(`${c.name}: ${old} → ${v}`);
  });
});
export const atomic_read = READ_ONCE;
export const atomic_set = WRITE_ONCE;

// The read-modify-writes: `lock xadd`, `lock add/sub/inc/dec`, `lock cmpxchg`, `xchg`
// (arch/x86/include/asm/atomic.h, cmpxchg.h: every one LOCK_PREFIX'd, xchg locked implicitly).
export const atomic_add_return = issued(function* (cpu: Cpu | undefined, c: Cell, n: number): Op<number> {
  return yield* update(cpu, cellLabel('atomic_add_return', c.name, n), c, (o) => ({ value: o + n, result: o + n }));
});
export const atomic_sub_return = issued(function* (cpu: Cpu | undefined, c: Cell, n: number): Op<number> {
  return yield* update(cpu, cellLabel('atomic_sub_return', c.name, n), c, (o) => ({ value: o - n, result: o - n }));
});
export const atomic_add = issued(function* (cpu: Cpu | undefined, c: Cell, n: number): Op<void> {
  yield* update(cpu, cellLabel('atomic_add', c.name, n), c, (o) => ({ value: o + n, result: undefined }));
});
export const atomic_sub = issued(function* (cpu: Cpu | undefined, c: Cell, n: number): Op<void> {
  yield* update(cpu, cellLabel('atomic_sub', c.name, n), c, (o) => ({ value: o - n, result: undefined }));
});
export const atomic_inc = issued(function* (cpu: Cpu | undefined, c: Cell): Op<void> {
  yield* update(cpu, cellLabel('atomic_inc', c.name), c, (o) => ({ value: o + 1, result: undefined }));
});
export const atomic_dec = issued(function* (cpu: Cpu | undefined, c: Cell): Op<void> {
  yield* update(cpu, cellLabel('atomic_dec', c.name), c, (o) => ({ value: o - 1, result: undefined }));
});
export const atomic_inc_return = issued(function* (cpu: Cpu | undefined, c: Cell): Op<number> {
  return yield* update(cpu, cellLabel('atomic_inc_return', c.name), c, (o) => ({ value: o + 1, result: o + 1 }));
});
export const atomic_dec_return = issued(function* (cpu: Cpu | undefined, c: Cell): Op<number> {
  return yield* update(cpu, cellLabel('atomic_dec_return', c.name), c, (o) => ({ value: o - 1, result: o - 1 }));
});
/** Decrement; true when the result is 0. */
export const atomic_dec_and_test = issued(function* (cpu: Cpu | undefined, c: Cell): Op<boolean> {
  return yield* update(cpu, cellLabel('atomic_dec_and_test', c.name), c, (o) => ({ value: o - 1, result: o - 1 === 0 }));
});
/** Add `a` unless the value is `u`; true when it added (a `lock cmpxchg` loop: one locked step). */
export const atomic_add_unless = issued(function* (cpu: Cpu | undefined, c: Cell, a: number, u: number): Op<boolean> {
  return yield* update(cpu, `atomic_add_unless(${c.name}, ${a}, ${u})`, c, (o) =>
    o === u ? { value: o, result: false } : { value: o + a, result: true },
  );
});
export const atomic_inc_not_zero = issued(function* (cpu: Cpu | undefined, c: Cell): Op<boolean> {
  return yield* update(cpu, cellLabel('atomic_inc_not_zero', c.name), c, (o) =>
    o === 0 ? { value: o, result: false } : { value: o + 1, result: true },
  );
});
/** Compare-and-exchange; returns the old value (success iff it equals `old`). */
export const cmpxchg = issued(function* (cpu: Cpu | undefined, c: Cell, old: number, nu: number): Op<number> {
  return yield* update(cpu, `cmpxchg(${c.name}, ${old}, ${nu})`, c, (o) => ({ value: o === old ? nu : o, result: o }));
});
/** Exchange; returns the old value. */
export const xchg = issued(function* (cpu: Cpu | undefined, c: Cell, nu: number): Op<number> {
  return yield* update(cpu, `xchg(${c.name}, ${nu})`, c, (o) => ({ value: nu, result: o }));
});

const bit = (nr: number): number => {
  if (!Number.isInteger(nr) || nr < 0 || nr > 30) throw new RangeError(`bad bit number ${nr}`);
  return 1 << nr;
};
// Bit operations (arch/x86/include/asm/bitops.h): set_bit, clear_bit, test_and_set_bit and
// test_and_clear_bit are LOCK_PREFIX'd (`lock orb`/`andb`/`bts`/`btr`): locked; test_bit is a
// plain load.
/** Set bit `nr`; returns its old value. */
export const test_and_set_bit = issued(function* (cpu: Cpu | undefined, nr: number, c: Cell): Op<boolean> {
  return yield* update(cpu, cellLabel('test_and_set_bit', c.name, nr), c, (o) => ({ value: o | bit(nr), result: (o & bit(nr)) !== 0 }));
});
/** Clear bit `nr`; returns its old value. */
export const test_and_clear_bit = issued(function* (cpu: Cpu | undefined, nr: number, c: Cell): Op<boolean> {
  return yield* update(cpu, cellLabel('test_and_clear_bit', c.name, nr), c, (o) => ({ value: o & ~bit(nr), result: (o & bit(nr)) !== 0 }));
});
export const set_bit = issued(function* (cpu: Cpu | undefined, nr: number, c: Cell): Op<void> {
  yield* update(cpu, cellLabel('set_bit', c.name, nr), c, (o) => ({ value: o | bit(nr), result: undefined }));
});
export const clear_bit = issued(function* (cpu: Cpu | undefined, nr: number, c: Cell): Op<void> {
  yield* update(cpu, cellLabel('clear_bit', c.name, nr), c, (o) => ({ value: o & ~bit(nr), result: undefined }));
});
export const test_bit = issued(function* (cpu: Cpu | undefined, nr: number, c: Cell): Op<boolean> {
  const label = cellLabel('test_bit', c.name, nr);
  const sb = cpu?.sb;
  if (sb !== undefined) {
    return (yield forwardedLoad(sb, label, c, (v) => {
      const r = (v & bit(nr)) !== 0;
      return { result: r, note: `${c.name} bit ${nr} = ${r ? 1 : 0}` };
    })) as boolean;
  }
  return (yield stableStep(label, c.readAccesses(), (say) => {
    const r = (c.get() & bit(nr)) !== 0;
    say(`${c.name} bit ${nr} = ${r ? 1 : 0}`);
    return r;
  })) as boolean;
});
