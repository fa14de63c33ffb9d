// Locks. Acquiring is one Step enabled only while the lock is free, so a waiter is a disabled
// step (the engine sees "spinning" as blocked, and reports a deadlock when nothing can run).
// Location: `lock:<name>` (written by acquire, release and trylock). Bit spinlocks live in a
// Cell (a struct page flags word) and touch that word.
import { noteRead, noteWrite } from '../engine/audit.js';
import type { Access, Step } from '../engine/types.js';
import type { Cpu, IrqFlags } from './cpu.js';
import type { Stateful } from './state.js';
import { type Cell, cellLabel, mkStep, rmwAccesses, writesOf } from './step.js';
import { spinLock as tsoSpinLock, spinUnlock as tsoSpinUnlock } from './tso/ops.js';

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
  readonly busy: string;
}
const lockTexts = new Map<string, LockText>();
function lockText(name: string): LockText {
  let t = lockTexts.get(name);
  if (t === undefined) {
    if (lockTexts.size >= 1 << 12) lockTexts.clear(); // a bound, never reached by the built-in models
    const loc = `lock:${name}`;
    t = { loc, footprint: writesOf(loc), labels: new Map(), taken: new Map(), released: `${name} released`, busy: `${name} busy` };
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

function* acquire(l: Lock, what: string, who?: string): Op<void> {
  yield mkStep(labelOf(l, what), l.text.footprint, (say) => {
    l.held = true;
    l.holder = who;
    say(takenBy(l, who));
  }, () => !l.held);
}
function* release(l: Lock, what: string): Op<void> {
  yield mkStep(labelOf(l, what), l.text.footprint, (say) => {
    if (!l.held) throw new Error(`${what}(${l.name}): lock is not held`);
    l.held = false;
    l.holder = undefined;
    say(l.text.released);
  });
}
function* tryAcquire(l: Lock, what: string, who?: string): Op<boolean> {
  return (yield mkStep(labelOf(l, what), l.text.footprint, (say) => {
    if (l.held) {
      say(l.text.busy);
      return false;
    }
    l.held = true;
    l.holder = who;
    say(takenBy(l, who));
    return true;
  })) as boolean;
}

/** Spin until free, then take it (interrupts untouched). `who` only labels snapshots. */
export const spin_lock = (l: Lock, who?: string): Op<void> => acquire(l, 'spin_lock', who);
export const spin_unlock = (l: Lock): Op<void> => release(l, 'spin_unlock');
export const spin_trylock = (l: Lock, who?: string): Op<boolean> => tryAcquire(l, 'spin_trylock', who);

// The variants that name their CPU follow it on a TSO machine (cpu.sb set): the acquire is a
// locked cmpxchg that waits for the CPU's store buffer, the release a buffered store
// (tso/ops.ts). On SC they are the plain acquire and release.

/** local_irq_save, then spin with interrupts off. */
export function* spin_lock_irqsave(cpu: Cpu, l: Lock): Op<IrqFlags> {
  const flags = yield* cpu.local_irq_save();
  yield* (cpu.sb === undefined ? acquire(l, 'spin_lock', cpu.name) : tsoSpinLock(cpu, l));
  return flags;
}
export function* spin_unlock_irqrestore(cpu: Cpu, l: Lock, flags: IrqFlags): Op<void> {
  yield* (cpu.sb === undefined ? release(l, 'spin_unlock') : tsoSpinUnlock(cpu, l));
  yield* cpu.local_irq_restore(flags);
}
export function* spin_lock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield* cpu.local_irq_disable();
  yield* (cpu.sb === undefined ? acquire(l, 'spin_lock', cpu.name) : tsoSpinLock(cpu, l));
}
export function* spin_unlock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield* (cpu.sb === undefined ? release(l, 'spin_unlock') : tsoSpinUnlock(cpu, l));
  yield* cpu.local_irq_enable();
}

/** A mutex: a sleeping lock; for the engine a waiter is a disabled step, like a spinlock. */
export const mutex_lock = (l: Lock, who?: string): Op<void> => acquire(l, 'mutex_lock', who);
export const mutex_unlock = (l: Lock): Op<void> => release(l, 'mutex_unlock');
export const mutex_trylock = (l: Lock, who?: string): Op<boolean> => tryAcquire(l, 'mutex_trylock', who);

const bit = (nr: number): number => 1 << nr;

/** bit_spin_lock: spin until bit `nr` of `word` is clear, then set it (one locked step). */
export function* bit_spin_lock(nr: number, word: Cell): Op<void> {
  yield mkStep(cellLabel('bit_spin_lock', word.name, nr), rmwAccesses(word), (say) => {
    word.set(word.get() | bit(nr), `bit_spin_lock ${word.name}`);
    say(`bit ${nr} of ${word.name} set`);
  }, () => (word.get() & bit(nr)) === 0);
}
export function* bit_spin_unlock(nr: number, word: Cell): Op<void> {
  yield mkStep(cellLabel('bit_spin_unlock', word.name, nr), rmwAccesses(word), (say) => {
    if ((word.get() & bit(nr)) === 0) throw new Error(`bit_spin_unlock(${nr}, ${word.name}): bit not set`);
    word.set(word.get() & ~bit(nr), `bit_spin_unlock ${word.name}`);
    say(`bit ${nr} of ${word.name} cleared`);
  });
}
export function* bit_spin_trylock(nr: number, word: Cell): Op<boolean> {
  return (yield mkStep(cellLabel('bit_spin_trylock', word.name, nr), rmwAccesses(word), (say) => {
    if ((word.get() & bit(nr)) !== 0) {
      say(`bit ${nr} of ${word.name} busy`);
      return false;
    }
    word.set(word.get() | bit(nr), `bit_spin_trylock ${word.name}`);
    say(`bit ${nr} of ${word.name} set`);
    return true;
  })) as boolean;
}
