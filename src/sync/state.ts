// The shared state of one user-model execution: it mints variables and mutexes, each location
// once (two variables with one name would alias one location with two values).
import { unaudited } from '../engine/audit.js';
import type { Loc, ProgramState } from '../engine/types.js';
import { Lock, type LockState, mutex_lock, mutex_trylock, mutex_unlock } from '../machine/locks.js';
import { type Located, type Op, Shared, show } from './shared.js';

/** A sleeping lock at `lock:<name>`: `lock` is one step, enabled only while it is free. */
export class Mutex implements Located {
  constructor(private readonly l: Lock) {}
  get name(): string {
    return this.l.name;
  }
  get loc(): Loc {
    return this.l.loc;
  }
  /** Plain read for invariants (audited at `loc`). */
  get held(): boolean {
    return this.l.held;
  }
  /** mutex_lock: waits (a disabled step, never a spin) until free, then takes it. */
  lock(who?: string): Op<void> {
    return mutex_lock(this.l, who);
  }
  unlock(): Op<void> {
    return mutex_unlock(this.l);
  }
  save(): LockState {
    return this.l.save();
  }
  restore(s: LockState): void {
    this.l.restore(s);
  }
  /** mutex_trylock: true when taken. */
  tryLock(who?: string): Op<boolean> {
    return mutex_trylock(this.l, who);
  }
}

export class SharedState {
  private readonly owned = new Map<Loc, Shared<unknown> | Mutex>();

  /** A shared variable at `var:<name>`. Names are unique within the state. */
  variable<T>(name: string, init: T): Shared<T> {
    const v = new Shared<T>(name, init);
    this.claim(v.loc, v as Shared<unknown>);
    return v;
  }

  mutex(name: string): Mutex {
    const m = new Mutex(new Lock(name, 'mutex'));
    this.claim(m.loc, m);
    return m;
  }

  /**
   * The whole state as data (`Program.state`): with it the engine restores an execution's
   * branch point instead of re-running its prefix. Values are kept by reference: store plain
   * values (numbers, strings, booleans, frozen objects), never objects a step mutates in place.
   */
  readonly state: ProgramState = {
    save: () => [...this.owned.values()].map((x) => x.save()),
    restore: (saved) => {
      const values = saved as unknown[];
      [...this.owned.values()].forEach((x, i) => (x instanceof Mutex ? x.restore(values[i] as LockState) : x.restore(values[i])));
    },
  };

  /** Every variable and mutex by name, for traces (`Program.snapshot`). */
  snapshot(): Record<string, unknown> {
    return unaudited(() => {
      const out: Record<string, unknown> = {};
      for (const x of this.owned.values()) out[x.name] = x instanceof Mutex ? (x.held ? 'locked' : 'unlocked') : x.value;
      return out;
    });
  }

  /** Canonical final state (`Program.finalState`). */
  finalState(): string {
    const s = this.snapshot();
    return Object.keys(s)
      .sort()
      .map((k) => `${k}=${show(s[k])}`)
      .join(' ');
  }

  private claim(loc: Loc, x: Shared<unknown> | Mutex): void {
    if (this.owned.has(loc)) throw new Error(`location ${loc} is already taken: give each variable and mutex its own name`);
    this.owned.set(loc, x);
  }
}
