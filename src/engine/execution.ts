// One execution of a program: fresh state, threads advanced one Step at a time by whoever
// schedules them. It records every step; strategies only choose.
import {
  type Access,
  type Invariant,
  type Program,
  type Step,
  type ThreadBody,
  type ThreadId,
  footprintOf,
} from './types.js';

export interface EventRecord {
  readonly tid: ThreadId;
  readonly label: string;
  readonly note?: string;
  readonly footprint: readonly Access[];
  /** The step had an `enabled` condition (a lock acquire, a wait): it may have been blocked. */
  readonly conditional: boolean;
}

export type ViolationKind = 'invariant' | 'deadlock' | 'step-bound' | 'error';

export interface Failure {
  readonly kind: ViolationKind;
  /** The invariant's name, or "deadlock", "step-bound", "model-error". */
  readonly invariant: string;
  readonly message: string;
}

interface ThreadState {
  readonly name: string;
  readonly actor: boolean;
  gen: ThreadBody;
  pending: Step | null;
}

/** Thrown for misuse of the engine by a strategy (a bug in mmcheck, not in the model). */
export class EngineError extends Error {}

export class Execution {
  readonly program: Program;
  readonly events: EventRecord[] = [];
  failure: Failure | null = null;
  private readonly threads: ThreadState[];
  private readonly stepInvariants: readonly Invariant[];

  constructor(make: () => Program, readonly maxSteps: number) {
    this.program = make();
    this.stepInvariants = this.program.invariants.filter((i) => !i.atEnd);
    this.threads = this.program.threads.map((spec) => ({
      name: spec.name,
      actor: spec.actor === true,
      gen: undefined as unknown as ThreadBody,
      pending: null,
    }));
    // Start every thread up to its first shared operation, in declaration order.
    this.program.threads.forEach((spec, tid) => {
      if (this.failure) return;
      this.guard(tid, () => {
        const t = this.threads[tid]!;
        t.gen = spec.body();
        const first = t.gen.next();
        t.pending = first.done ? null : first.value;
      });
    });
    if (!this.failure) this.checkInvariants(this.stepInvariants);
  }

  get threadCount(): number {
    return this.threads.length;
  }

  threadName(tid: ThreadId): string {
    return this.threads[tid]!.name;
  }

  isActor(tid: ThreadId): boolean {
    return this.threads[tid]!.actor;
  }

  pending(tid: ThreadId): Step | null {
    return this.threads[tid]!.pending;
  }

  /** Footprint of a thread's next step, in the current state. */
  pendingFootprint(tid: ThreadId): readonly Access[] {
    const step = this.threads[tid]!.pending;
    if (!step) throw new EngineError(`thread ${tid} has no pending step`);
    return footprintOf(step);
  }

  isEnabled(tid: ThreadId): boolean {
    const step = this.threads[tid]!.pending;
    if (!step) return false;
    if (!step.enabled) return true;
    let ok = false;
    this.guard(tid, () => {
      ok = step.enabled!();
    });
    return ok && !this.failure;
  }

  /** Threads whose next step can run now, in id order (the scheduler's choices). */
  enabled(): ThreadId[] {
    const out: ThreadId[] = [];
    for (let tid = 0; tid < this.threads.length && !this.failure; tid++) {
      if (this.isEnabled(tid)) out.push(tid);
    }
    return out;
  }

  /** True once nothing can run: either every thread finished or the execution is stuck. */
  /** Runs thread `tid`'s pending step atomically, then checks the per-step invariants. */
  step(tid: ThreadId): EventRecord {
    const t = this.threads[tid];
    if (!t || !t.pending) throw new EngineError(`thread ${tid} cannot step: it has finished`);
    if (this.failure) throw new EngineError('stepping a failed execution');
    const step = t.pending;
    let footprint: readonly Access[] = [];
    let result: unknown;
    this.guard(tid, () => {
      footprint = footprintOf(step);
      result = step.run();
    });
    const event: EventRecord = { tid, label: step.label, note: step.note, footprint, conditional: step.enabled !== undefined };
    this.events.push(event);
    if (this.failure) return event;
    this.guard(tid, () => {
      const next = t.gen.next(result);
      t.pending = next.done ? null : next.value;
    });
    if (this.failure) return event;
    this.checkInvariants(this.stepInvariants);
    if (!this.failure && this.events.length >= this.maxSteps && this.enabled().length > 0) {
      this.failure = {
        kind: 'step-bound',
        invariant: 'step-bound',
        message: `execution exceeded ${this.maxSteps} steps (livelock or unbounded loop?)`,
      };
    }
    return event;
  }

  /** Called when no thread is enabled: a deadlock if a non-actor thread has not finished. */
  finish(): void {
    if (this.failure) return;
    const stuck = this.threads
      .map((t, tid) => ({ t, tid }))
      .filter(({ t }) => t.pending !== null && !t.actor);
    if (stuck.length > 0) {
      const who = stuck.map(({ t }) => `${t.name} at "${t.pending!.label}"`).join(', ');
      this.failure = { kind: 'deadlock', invariant: 'deadlock', message: `no thread can run: ${who}` };
      return;
    }
    this.checkInvariants(this.program.invariants);
  }

  finalState(): string | undefined {
    return this.program.finalState?.();
  }

  private checkInvariants(list: readonly Invariant[]): void {
    for (const inv of list) {
      let msg: string | null = null;
      try {
        msg = inv.check();
      } catch (e) {
        this.failure = { kind: 'error', invariant: 'model-error', message: `invariant ${inv.name} threw: ${errText(e)}` };
        return;
      }
      if (msg !== null) {
        this.failure = { kind: 'invariant', invariant: inv.name, message: msg };
        return;
      }
    }
  }

  private guard(tid: ThreadId, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof EngineError) throw e;
      this.failure = {
        kind: 'error',
        invariant: 'model-error',
        message: `${this.threads[tid]?.name ?? `thread ${tid}`} threw: ${errText(e)}`,
      };
    }
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
