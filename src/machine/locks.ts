// Locks. Acquiring is one Step enabled only while the lock is free, so a waiter is a disabled
// step (the engine sees "spinning" as blocked, and reports a deadlock when nothing can run).
// Location: `lock:<name>` (written by acquire, release and trylock). Bit spinlocks live in a
// Cell (a struct page flags word) and touch that word.
import { noteRead, noteWrite } from '../engine/audit.js';
import type { Access, Step } from '../engine/types.js';
import type { Cpu, IrqFlags } from './cpu.js';
import type { Stateful } from './state.js';
import { type Cell, cellLabel, rmwAccesses, writesOf, stableStep } from './step.js';
import { issued } from './atomics.js';
import { bufferedWrite, lockedBy } from './tso/ops.js';

type Op<T> = Generator<Step, T, unknown>;

export type LockKind = 'spinlock' | 'mutex';

/** A spinlock or mutex at `lock:<name>`; reading or changing `held` is reported to the audit. */
export class Lock implements Stateful<LockState> {
  readonly loc: string;
  private taken = false;
  /** Name of the thread/CPU that holds it, when the caller said (for snapshots only). */
  holder: string | undefined;
  /** Its location name, labels and notes, shared by every build (see LockText). */
  readonly text: LockText;
  constructor(readonly name: string, readonly kind: LockKind) {
    this.text = lockText(name);
    this.loc = this.text.loc;
  }
  get held(): boolean {
    noteRead(this.loc);
    return this.taken;
  }
  set held(v: boolean) {
    noteWrite(this.loc);
    this.taken = v;
  }
  /** Held, and by whom (a raw copy for `Program.state`, not audited; the last one again while
   * it is unchanged). */
  save(): LockState {
    const l = this.last;
    return l && l.held === this.taken && l.holder === this.holder ? l : (this.last = { held: this.taken, holder: this.holder });
  }
  restore(s: LockState): void {
    this.taken = s.held;
    this.holder = s.holder;
    this.last = s;
  }
  private last: LockState | undefined;
}
/**
 * The location, footprint, labels and notes of the locks of one name, made once and shared by
 * every build: the engine builds the program again for every execution, and a thread yields its
 * steps again (labels included) whenever its execution is brought back.
 */
interface LockText {
  readonly loc: string;
  /** What acquire, release and trylock touch. */
  readonly footprint: readonly Access[];
  /** `what(name)` by operation, and the note of an acquire by holder. */
  readonly labels: Map<string, string>;
  readonly taken: Map<string | undefined, string>;
  readonly released: string;
  readonly releaseBuffered: string;
  readonly busy: string;
}
const lockTexts = new Map<string, LockText>();
function lockText(name: string): LockText {
  let t = lockTexts.get(name);
  if (t === undefined) {
    if (lockTexts.size >= 1 << 12) lockTexts.clear(); // a bound, never reached by the built-in models
    const loc = `lock:${name}`;
    t = { loc, footprint: writesOf(loc), labels: new Map(), taken: new Map(), released: `${name} released`, releaseBuffered: `${name} release buffered`, busy: `${name} busy` };
    lockTexts.set(name, t);
  }
  return t;
}
const labelOf = (l: Lock, what: string): string => {
  const labels = l.text.labels;
  let s = labels.get(what);
  if (s === undefined) labels.set(what, (s = `${what}(${l.name})`));
  return s;
};
const takenBy = (l: Lock, who: string | undefined): string => {
  const taken = l.text.taken;
  let s = taken.get(who);
  if (s === undefined) {
    if (taken.size >= 1 << 12) taken.clear();
    taken.set(who, (s = `${l.name} taken${who ? ` by ${who}` : ''}`));
  }
  return s;
};

export interface LockState {
  readonly held: boolean;
  readonly holder: string | undefined;
}
export type spinlock_t = Lock;
export type mutex = Lock;

function acquireStep(l: Lock, what: string, who: string | undefined): Step {
  return stableStep(labelOf(l, what), l.text.footprint, (say) => {
    l.held = true;
    l.holder = who;
    say(takenBy(l, who));
  }, () => !l.held);
}
function releaseStep(l: Lock, what: string): Step {
  return stableStep(labelOf(l, what), l.text.footprint, (say) => {
    if (!l.held) throw new Error(`${what}(${l.name}): lock is not held`);
    l.held = false;
    l.holder = undefined;
    say(l.text.released);
  });
}
function tryAcquireStep(l: Lock, what: string, who: string | undefined): Step<boolean> {
  return stableStep(labelOf(l, what), l.text.footprint, (say) => {
    if (l.held) {
      say(l.text.busy);
      return false;
    }
    l.held = true;
    l.holder = who;
    say(takenBy(l, who));
    return true;
  });
}

// Every lock operation takes the issuing CPU as an optional first argument (`spin_lock(cpu, l)`,
// the holder then defaults to the CPU's name); the irq variants always name it. Without a CPU or
// on SC each is the one step it always was. On a TSO machine, as x86-64 Linux does them:
// - spin_lock and spin_trylock are a locked cmpxchg (queued_spin_lock / queued_spin_trylock:
//   atomic_try_cmpxchg_acquire, arch/x86/include/asm/cmpxchg.h `lock cmpxchg`): the acquire
//   waits for the CPU's store buffer to drain (SDM vol. 3A §8.1.2.2, §8.2.3.9);
// - spin_unlock is a plain byte store (queued_spin_unlock: smp_store_release(&lock->locked, 0),
//   arch/x86/include/asm/qspinlock.h): buffered (§8.2.3.2) — another CPU sees the lock free only
//   once it drains;
// - mutex_lock, mutex_trylock and mutex_unlock are locked cmpxchgs too (kernel/locking/mutex.c
//   __mutex_trylock_fast: atomic_long_try_cmpxchg_acquire; __mutex_unlock_fast:
//   atomic_long_try_cmpxchg_release), and so are the bit spinlocks (bit_spin_lock:
//   test_and_set_bit_lock, `lock bts`; bit_spin_unlock: clear_bit_unlock, which on x86 is
//   barrier() + `lock andb`, arch/x86/include/asm/bitops.h).

/** A spin_unlock issued by `cpu` (buffered on TSO), or without one. */
function unlockStep(cpu: Cpu | undefined, l: Lock, what: string): Step {
  const sb = cpu?.sb;
  return sb === undefined ? releaseStep(l, what) : bufferedWrite(sb, labelOf(l, what), l.loc, 0, l.text.releaseBuffered);
}

/** Spin until free, then take it (interrupts untouched). `who` only labels snapshots. */
export const spin_lock = issued(function* (cpu: Cpu | undefined, l: Lock, who?: string): Op<void> {
  yield lockedBy(cpu, acquireStep(l, 'spin_lock', who ?? cpu?.name));
});
export const spin_unlock = issued(function* (cpu: Cpu | undefined, l: Lock): Op<void> {
  yield unlockStep(cpu, l, 'spin_unlock');
});
export const spin_trylock = issued(function* (cpu: Cpu | undefined, l: Lock, who?: string): Op<boolean> {
  return (yield lockedBy(cpu, tryAcquireStep(l, 'spin_trylock', who ?? cpu?.name))) as boolean;
});

/** local_irq_save, then spin with interrupts off. */
export function* spin_lock_irqsave(cpu: Cpu, l: Lock): Op<IrqFlags> {
  const flags = yield* cpu.local_irq_save();
  yield lockedBy(cpu, acquireStep(l, 'spin_lock', cpu.name));
  return flags;
}
export function* spin_unlock_irqrestore(cpu: Cpu, l: Lock, flags: IrqFlags): Op<void> {
  yield unlockStep(cpu, l, 'spin_unlock');
  yield* cpu.local_irq_restore(flags);
}
export function* spin_lock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield* cpu.local_irq_disable();
  yield lockedBy(cpu, acquireStep(l, 'spin_lock', cpu.name));
}
export function* spin_unlock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield unlockStep(cpu, l, 'spin_unlock');
  yield* cpu.local_irq_enable();
}

/** A mutex: a sleeping lock; for the engine a waiter is a disabled step, like a spinlock. */
export const mutex_lock = issued(function* (cpu: Cpu | undefined, l: Lock, who?: string): Op<void> {
  yield lockedBy(cpu, acquireStep(l, 'mutex_lock', who ?? cpu?.name));
});
export const mutex_unlock = issued(function* (cpu: Cpu | undefined, l: Lock): Op<void> {
  yield lockedBy(cpu, releaseStep(l, 'mutex_unlock'));
});
export const mutex_trylock = issued(function* (cpu: Cpu | undefined, l: Lock, who?: string): Op<boolean> {
  return (yield lockedBy(cpu, tryAcquireStep(l, 'mutex_trylock', who ?? cpu?.name))) as boolean;
});

const bit = (nr: number): number => 1 << nr;

/** bit_spin_lock: spin until bit `nr` of `word` is clear, then set it (one locked step). */
export const bit_spin_lock = issued(function* (cpu: Cpu | undefined, nr: number, word: Cell): Op<void> {
  yield lockedBy(cpu, stableStep(cellLabel('bit_spin_lock', word.name, nr), rmwAccesses(word), (say) => {
    word.set(word.get() | bit(nr), `bit_spin_lock ${word.name}`);
    say(`bit ${nr} of ${word.name} set`);
  }, () => (word.get() & bit(nr)) === 0));
});
export const bit_spin_unlock = issued(function* (cpu: Cpu | undefined, nr: number, word: Cell): Op<void> {
  yield lockedBy(cpu, stableStep(cellLabel('bit_spin_unlock', word.name, nr), rmwAccesses(word), (say) => {
    if ((word.get() & bit(nr)) === 0) throw new Error(`bit_spin_unlock(${nr}, ${word.name}): bit not set`);
    word.set(word.get() & ~bit(nr), `bit_spin_unlock ${word.name}`);
    say(`bit ${nr} of ${word.name} cleared`);
  }));
});
export const bit_spin_trylock = issued(function* (cpu: Cpu | undefined, nr: number, word: Cell): Op<boolean> {
  return (yield lockedBy(cpu, stableStep(cellLabel('bit_spin_trylock', word.name, nr), rmwAccesses(word), (say) => {
    if ((word.get() & bit(nr)) !== 0) {
      say(`bit ${nr} of ${word.name} busy`);
      return false;
    }
    word.set(word.get() | bit(nr), `bit_spin_trylock ${word.name}`);
    say(`bit ${nr} of ${word.name} set`);
    return true;
  }))) as boolean;
});
