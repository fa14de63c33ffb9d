// Locks. Acquiring is one Step enabled only while the lock is free, so a waiter is a disabled
// step (the engine sees "spinning" as blocked, and reports a deadlock when nothing can run).
// Location: `lock:<name>` (written by acquire, release and trylock). Bit spinlocks live in a
// Cell (a struct page flags word) and touch that word.
import { noteRead, noteWrite } from '../engine/audit.js';
import type { Step } from '../engine/types.js';
import { write } from '../engine/types.js';
import type { Cpu, IrqFlags } from './cpu.js';
import type { Stateful } from './state.js';
import { type Cell, mkStep, op } from './step.js';

type Op<T> = Generator<Step, T, unknown>;

export type LockKind = 'spinlock' | 'mutex';

/** A spinlock or mutex at `lock:<name>`; reading or changing `held` is reported to the audit. */
export class Lock implements Stateful<LockState> {
  readonly loc: string;
  private taken = false;
  /** Name of the thread/CPU that holds it, when the caller said (for snapshots only). */
  holder: string | undefined;
  constructor(readonly name: string, readonly kind: LockKind) {
    this.loc = `lock:${name}`;
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
export interface LockState {
  readonly held: boolean;
  readonly holder: string | undefined;
}
export type spinlock_t = Lock;
export type mutex = Lock;

function* acquire(l: Lock, what: string, who?: string): Op<void> {
  yield* op(
    mkStep(`${what}(${l.name})`, [write(l.loc)], (say) => {
      l.held = true;
      l.holder = who;
      say(`${l.name} taken${who ? ` by ${who}` : ''}`);
    }, () => !l.held),
  );
}
function* release(l: Lock, what: string): Op<void> {
  yield* op(
    mkStep(`${what}(${l.name})`, [write(l.loc)], (say) => {
      if (!l.held) throw new Error(`${what}(${l.name}): lock is not held`);
      l.held = false;
      l.holder = undefined;
      say(`${l.name} released`);
    }),
  );
}
function* tryAcquire(l: Lock, what: string, who?: string): Op<boolean> {
  return yield* op(
    mkStep(`${what}(${l.name})`, [write(l.loc)], (say) => {
      if (l.held) {
        say(`${l.name} busy`);
        return false;
      }
      l.held = true;
      l.holder = who;
      say(`${l.name} taken${who ? ` by ${who}` : ''}`);
      return true;
    }),
  );
}

/** Spin until free, then take it (interrupts untouched). `who` only labels snapshots. */
export const spin_lock = (l: Lock, who?: string): Op<void> => acquire(l, 'spin_lock', who);
export const spin_unlock = (l: Lock): Op<void> => release(l, 'spin_unlock');
export const spin_trylock = (l: Lock, who?: string): Op<boolean> => tryAcquire(l, 'spin_trylock', who);

/** local_irq_save, then spin with interrupts off. */
export function* spin_lock_irqsave(cpu: Cpu, l: Lock): Op<IrqFlags> {
  const flags = yield* cpu.local_irq_save();
  yield* acquire(l, 'spin_lock', cpu.name);
  return flags;
}
export function* spin_unlock_irqrestore(cpu: Cpu, l: Lock, flags: IrqFlags): Op<void> {
  yield* release(l, 'spin_unlock');
  yield* cpu.local_irq_restore(flags);
}
export function* spin_lock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield* cpu.local_irq_disable();
  yield* acquire(l, 'spin_lock', cpu.name);
}
export function* spin_unlock_irq(cpu: Cpu, l: Lock): Op<void> {
  yield* release(l, 'spin_unlock');
  yield* cpu.local_irq_enable();
}

/** A mutex: a sleeping lock; for the engine a waiter is a disabled step, like a spinlock. */
export const mutex_lock = (l: Lock, who?: string): Op<void> => acquire(l, 'mutex_lock', who);
export const mutex_unlock = (l: Lock): Op<void> => release(l, 'mutex_unlock');
export const mutex_trylock = (l: Lock, who?: string): Op<boolean> => tryAcquire(l, 'mutex_trylock', who);

const bit = (nr: number): number => 1 << nr;

/** bit_spin_lock: spin until bit `nr` of `word` is clear, then set it (one locked step). */
export function* bit_spin_lock(nr: number, word: Cell): Op<void> {
  yield* op(
    mkStep(`bit_spin_lock(${nr}, ${word.name})`, [...word.readAccesses(), ...word.writeAccesses()], (say) => {
      word.set(word.get() | bit(nr), `bit_spin_lock ${word.name}`);
      say(`bit ${nr} of ${word.name} set`);
    }, () => (word.get() & bit(nr)) === 0),
  );
}
export function* bit_spin_unlock(nr: number, word: Cell): Op<void> {
  yield* op(
    mkStep(`bit_spin_unlock(${nr}, ${word.name})`, [...word.readAccesses(), ...word.writeAccesses()], (say) => {
      if ((word.get() & bit(nr)) === 0) throw new Error(`bit_spin_unlock(${nr}, ${word.name}): bit not set`);
      word.set(word.get() & ~bit(nr), `bit_spin_unlock ${word.name}`);
      say(`bit ${nr} of ${word.name} cleared`);
    }),
  );
}
export function* bit_spin_trylock(nr: number, word: Cell): Op<boolean> {
  return yield* op(
    mkStep(`bit_spin_trylock(${nr}, ${word.name})`, [...word.readAccesses(), ...word.writeAccesses()], (say) => {
      if ((word.get() & bit(nr)) !== 0) {
        say(`bit ${nr} of ${word.name} busy`);
        return false;
      }
      word.set(word.get() | bit(nr), `bit_spin_trylock ${word.name}`);
      say(`bit ${nr} of ${word.name} set`);
      return true;
    }),
  );
}
