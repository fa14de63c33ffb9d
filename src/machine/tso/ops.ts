// Software memory operations issued by a CPU, on any Cell (a memory word, a model variable):
// the plain loads and stores of x86 (`mov`), its fences and its locked read-modify-writes.
// On an SC machine they act on memory directly (a fence is then no step at all); on a TSO
// machine stores are buffered, loads forward from the CPU's own buffer, and fences and locked
// operations wait for the buffer to drain (tso/store-buffer.ts).
//
// Linux on x86 (arch/x86/include/asm/barrier.h): smp_mb() is `lock; addl $0,-4(%rsp)` — a
// locked operation, a full barrier; mb() is MFENCE; smp_wmb() and smp_rmb() are barrier(),
// compiler barriers only (TSO keeps stores in order and loads in order, SDM vol. 3A §8.2.3.2);
// smp_store_release() is barrier() + WRITE_ONCE and smp_load_acquire() is READ_ONCE + barrier().
import type { Access, Loc, Step } from '../../engine/types.js';
import type { Cpu } from '../cpu.js';
import type { Lock } from '../locks.js';
import { type Cell, rmwAccesses, textFor, mkStep, stableStep } from '../step.js';
import { type StoreBuffer, serialised } from './store-buffer.js';

type Op<T> = Generator<Step, T, unknown>;

/** No accesses of a store's own before the buffer's. */
const NONE: readonly Access[] = [];

// ---- the machine's software operations, issued by a CPU ----
//
// The operations of atomics.ts, pte.ts, locks.ts and page.ts take the issuing CPU as an
// optional first argument (`set_pte(cpu, ptep, v)`, `atomic_inc(cpu, c)`, `spin_lock(cpu, l)`).
// Without one, or on an SC machine (no buffer), each is the step it always was: same label,
// footprint and effect. On a TSO machine the CPU's buffer decides, by the instruction x86-64
// Linux compiles the operation to:
// - a plain store (`mov`: WRITE_ONCE, atomic_set, set_pte/set_pmd/pte_clear — native_set_pte is
//   WRITE_ONCE(*ptep, pte) —, spin_unlock's byte store) enters the buffer (SDM vol. 3A §8.2.2,
//   §8.2.3.2: stores reach memory in program order): `bufferedStore`;
// - a plain load (READ_ONCE, atomic_read, test_bit, ptep_get) reads the CPU's own youngest
//   buffered store to the location, else memory (§8.2.3.5, "Intra-Processor Forwarding Is
//   Allowed"): `forwardedLoad`;
// - a locked read-modify-write (`lock`-prefixed atomics and bit operations, xchg — locked
//   implicitly, §8.1.2.1 —, cmpxchg, spin_lock's and mutex_lock's cmpxchg) waits until the buffer
//   has drained and acts on memory (§8.1.2.2, §8.2.3.8 "Locked Instructions Have a Total Order",
//   §8.2.3.9 "Loads and Stores Are Not Reordered with Locked Instructions", §8.2.5):
//   `serialised(sb, step)`.

/** The CPU that issues an operation, when the first argument is one (a Cpu is the only argument
 * with a TLB: cells, locks, pages and numbers have none). */
export const isCpu = (x: unknown): x is Cpu => typeof x === 'object' && x !== null && 'tlb' in x;

/** What a load of `c` by the CPU owning `sb` reads: its youngest buffered store to `c`, else
 * memory (SDM §8.2.3.5). For a step whose footprint is `sb.loadAccesses(…, c.loc)`. */
export function sbRead(sb: StoreBuffer, c: Cell): number {
  const buffered = sb.forward(c.loc);
  return buffered === undefined ? c.get() : buffered;
}

/** What `c` will hold once the buffers of `cpus` drain, when at most one of them has stores to it
 * pending (TSO keeps each CPU's stores in order): that CPU's youngest, else memory. For
 * invariants about a value on its way to memory (their watch then includes `sb:`). */
export function latest(cpus: readonly Cpu[], c: Cell): number {
  for (const cpu of cpus) {
    const v = cpu.sb === undefined ? undefined : cpu.sb.forward(c.loc);
    if (v !== undefined) return v;
  }
  return c.get();
}

/** The plain load `label` of `c` on the CPU owning `sb` (forwarding, SDM §8.2.3.5); `result`
 * maps the value read to the step's result and note. */
export function forwardedLoad<T>(sb: StoreBuffer, label: string, c: Cell, result: (v: number) => { result: T; note: string }): Step<T> {
  return mkStep(label, sb.loadAccesses(c.readAccesses(), c.loc), (say) => {
    const buffered = sb.forward(c.loc);
    const r = result(buffered === undefined ? c.get() : buffered);
    say(buffered === undefined ? r.note : `${r.note} (from the store buffer)`);
    return r.result;
  });
}

/** The plain store `label`, `c := v`, on the CPU owning `sb`: into its buffer (SDM §8.2.3.2);
 * `shown` is how the note shows `v`. `before` runs first (bookkeeping at issue, unaudited). */
export function bufferedStore(sb: StoreBuffer, label: string, c: Cell, v: number, shown?: string, before?: () => void): Step<void> {
  return bufferedWrite(sb, label, c.loc, v, `${c.name} := ${shown ?? v} buffered`, before);
}
/** The plain store `label` of `v` to location `loc` (a cell's, a lock's) into `sb`, noted `note`. */
export function bufferedWrite(sb: StoreBuffer, label: string, loc: Loc, v: number, note: string, before?: () => void): Step<void> {
  return mkStep(label, () => sb.storeAccesses(NONE, loc), (say) => {
    if (before !== undefined) before();
    sb.push(loc, v);
    say(note);
  });
}

/** `s`, a locked read-modify-write issued by `cpu`: on TSO it waits for the CPU's buffer to
 * drain (SDM §8.1.2.2, §8.2.3.9, §8.2.5); without a CPU or on SC it is `s` itself. */
export const lockedBy = <T>(cpu: Cpu | undefined, s: Step<T>): Step<T> => (cpu === undefined || cpu.sb === undefined ? s : serialised(cpu.sb, s));

const loadLabels = new Map<string, string>();
const fenceLabels = new Map<string, string>();

/** `mov` from `c` on `cpu` (READ_ONCE): the youngest buffered store of the CPU's own, else memory. */
export function* load(cpu: Cpu, c: Cell): Op<number> {
  const sb = cpu.sb;
  const label = textFor(loadLabels, `${cpu.name} ${c.name}`, () => `${cpu.name}: read ${c.name}`);
  return (yield stableStep(label, sb === undefined ? c.readAccesses() : sb.loadAccesses(c.readAccesses(), c.loc), (say) => {
    const buffered = sb === undefined ? undefined : sb.forward(c.loc);
    const v = buffered === undefined ? c.get() : buffered;
    say(buffered === undefined ? `${c.name} = ${v}` : `${c.name} = ${v} (from the store buffer)`);
    return v;
  })) as number;
}

/** `mov` to `c` on `cpu` (WRITE_ONCE): into the store buffer on TSO. */
export function* store(cpu: Cpu, c: Cell, v: number): Op<void> {
  const sb = cpu.sb;
  if (sb === undefined) {
    yield stableStep(`${cpu.name}: write ${c.name} := ${v}`, c.writeAccesses(), (say) => {
      const old = c.get();
      c.set(v, `${cpu.name} write ${c.name}`);
      say(`${c.name}: ${old} → ${v}`);
    });
    return;
  }
  yield stableStep(`${cpu.name}: write ${c.name} := ${v}`, () => sb.storeAccesses(NONE, c.loc), (say) => {
    sb.push(c.loc, v);
    say(`${c.name} := ${v} buffered`);
  });
}
export const READ_ONCE = load;
export const WRITE_ONCE = store;
export const smp_load_acquire = load;
export const smp_store_release = store;

/** `mfence` (mb()): waits until the CPU's buffer is empty. On SC: no step. */
export function* mfence(cpu: Cpu): Op<void> {
  const sb = cpu.sb;
  if (sb === undefined) return;
  const label = textFor(fenceLabels, cpu.name, (n) => `${n}: mfence`);
  yield serialised(sb, stableStep(label, sb.readAccesses, (say) => say('store buffer empty')));
}
/** smp_mb(): a locked no-op on the stack, as full a barrier as mfence. */
export const smp_mb = mfence;
export const mb = mfence;
/** smp_wmb(), smp_rmb(): compiler barriers on x86 (TSO keeps stores, and loads, in order): no
 * step. They take the CPU so that model code reads as the kernel's and a weaker model could
 * give them one. */
export function* smp_wmb(_cpu: Cpu): Op<void> {}
export function* smp_rmb(_cpu: Cpu): Op<void> {}

/**
 * A locked read-modify-write of `c` on `cpu`: waits for the buffer to drain (SDM §8.2.3.9,
 * §8.1.2.2 "locked instructions ... flush the store buffer"), then reads and writes memory
 * atomically. `f` maps the old value to the new one and the result.
 */
export function* locked<T>(cpu: Cpu, label: string, c: Cell, f: (old: number) => { value: number; result: T }): Op<T> {
  const s = mkStep(label, rmwAccesses(c), (say) => {
    const old = c.get();
    const { value, result } = f(old);
    if (value !== old) c.set(value, label);
    say(`${c.name}: ${old} → ${value}`);
    return result;
  });
  return (yield cpu.sb === undefined ? s : serialised(cpu.sb, s)) as T;
}
/** `xchg` (locked implicitly): returns the old value. */
export const xchg = (cpu: Cpu, c: Cell, v: number): Op<number> => locked(cpu, `${cpu.name}: xchg(${c.name}, ${v})`, c, (o) => ({ value: v, result: o }));
/** `lock cmpxchg`: returns the old value (success iff it equals `old`). */
export const cmpxchg = (cpu: Cpu, c: Cell, old: number, nu: number): Op<number> =>
  locked(cpu, `${cpu.name}: cmpxchg(${c.name}, ${old}, ${nu})`, c, (o) => ({ value: o === old ? nu : o, result: o }));
/** `lock xadd`: returns the old value. */
export const xadd = (cpu: Cpu, c: Cell, n: number): Op<number> => locked(cpu, `${cpu.name}: xadd(${c.name}, ${n})`, c, (o) => ({ value: o + n, result: o }));
/** `lock add`, `lock inc` (n = 1), `lock dec` (n = -1). */
export const lockAdd = (cpu: Cpu, c: Cell, n: number): Op<void> => locked(cpu, `${cpu.name}: lock add(${c.name}, ${n})`, c, (o) => ({ value: o + n, result: undefined }));
export const lockOr = (cpu: Cpu, c: Cell, bits: number): Op<void> => locked(cpu, `${cpu.name}: lock or(${c.name}, ${bits})`, c, (o) => ({ value: o | bits, result: undefined }));
export const lockAnd = (cpu: Cpu, c: Cell, bits: number): Op<void> => locked(cpu, `${cpu.name}: lock and(${c.name}, ${bits})`, c, (o) => ({ value: o & bits, result: undefined }));

/**
 * spin_lock on `cpu`: the kernel's queued_spin_lock is a locked cmpxchg (arch/x86:
 * atomic_try_cmpxchg_acquire), so on TSO it waits for the buffer to drain and for the lock.
 */
export function* spinLock(cpu: Cpu, l: Lock): Op<void> {
  const s = stableStep(`${cpu.name}: spin_lock(${l.name})`, l.text.footprint, (say) => {
    l.held = true;
    l.holder = cpu.name;
    say(`${l.name} taken by ${cpu.name}`);
  }, () => !l.held);
  yield cpu.sb === undefined ? s : serialised(cpu.sb, s);
}
/** spin_unlock on `cpu`: a plain byte store (smp_store_release(&lock->locked, 0)), buffered on TSO. */
export function* spinUnlock(cpu: Cpu, l: Lock): Op<void> {
  const sb = cpu.sb;
  yield stableStep(`${cpu.name}: spin_unlock(${l.name})`, sb === undefined ? l.text.footprint : () => sb.storeAccesses(NONE, l.loc), (say) => {
    if (sb !== undefined) {
      sb.push(l.loc, 0);
      say(`${l.name} release buffered`);
      return;
    }
    if (!l.held) throw new Error(`spin_unlock(${l.name}): lock is not held`);
    l.held = false;
    l.holder = undefined;
    say(`${l.name} released`);
  });
}

/** The end of a thread on `cpu`: waits until its buffer has drained (a test's final state is
 * memory once every store has reached it). On SC: no step. */
export function* drained(cpu: Cpu): Op<void> {
  const sb = cpu.sb;
  if (sb === undefined) return;
  yield serialised(sb, stableStep(`${cpu.name}: store buffer drained`, sb.readAccesses, (say) => say('store buffer empty')));
}
