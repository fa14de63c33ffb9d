// A tiny shared-memory language (variables, loads, stores, CAS, locks) for testing and
// benchmarking the engine itself, and for generating random programs.
import { type Invariant, type Program, type Step, type ThreadBody, perform, read, write } from '../engine/types.js';

export class Shared {
  readonly vars: number[];
  readonly locks: (number | null)[];
  constructor(nVars: number, nLocks = 0) {
    this.vars = new Array<number>(nVars).fill(0);
    this.locks = new Array<number | null>(nLocks).fill(null);
  }
  load(x: number): Step<number> {
    return { label: `load x${x}`, footprint: [read(`x${x}`)], run: () => this.vars[x]! };
  }
  store(x: number, v: number): Step<void> {
    return { label: `store x${x}=${v}`, footprint: [write(`x${x}`)], run: () => { this.vars[x] = v; } };
  }
  cas(x: number, expect: number, v: number): Step<boolean> {
    return {
      label: `cas x${x} ${expect}->${v}`,
      footprint: [write(`x${x}`)],
      run: () => {
        if (this.vars[x] !== expect) return false;
        this.vars[x] = v;
        return true;
      },
    };
  }
  lock(l: number, me: number): Step<void> {
    return {
      label: `lock l${l}`,
      footprint: [write(`l${l}`)],
      enabled: () => this.locks[l] === null,
      run: () => { this.locks[l] = me; },
    };
  }
  /** Blocks until x holds v (a wait on a flag). */
  await(x: number, v: number): Step<void> {
    return { label: `await x${x}==${v}`, footprint: [read(`x${x}`)], enabled: () => this.vars[x] === v, run: () => undefined };
  }
  unlock(l: number): Step<void> {
    return { label: `unlock l${l}`, footprint: [write(`l${l}`)], run: () => { this.locks[l] = null; } };
  }
  state(): string {
    return JSON.stringify(this.vars);
  }
}

export type Op =
  | { kind: 'load'; x: number }
  | { kind: 'store'; x: number; v: number }
  | { kind: 'cas'; x: number; expect: number; v: number }
  | { kind: 'inc'; x: number } // load then store (non-atomic)
  | { kind: 'await'; x: number; v: number }
  | { kind: 'locked'; l: number; ops: Op[] };

/** A program whose threads run the given op lists; locals are folded into the final state. */
/** `actors` threads (the last ones) need not finish: an execution may end with them blocked. */
export function toyProgram(threads: Op[][], nVars: number, nLocks: number, invariants: (s: Shared) => Invariant[] = () => [], actors = 0): () => Program {
  return () => {
    const s = new Shared(nVars, nLocks);
    const seen: number[][] = threads.map(() => []);
    function* runOps(ops: Op[], me: number): ThreadBody {
      for (const op of ops) {
        switch (op.kind) {
          case 'load':
            seen[me]!.push(yield* perform(s.load(op.x)));
            break;
          case 'store':
            yield* perform(s.store(op.x, op.v));
            break;
          case 'cas':
            seen[me]!.push((yield* perform(s.cas(op.x, op.expect, op.v))) ? 1 : 0);
            break;
          case 'await':
            yield* perform(s.await(op.x, op.v));
            break;
          case 'inc': {
            const v = yield* perform(s.load(op.x));
            yield* perform(s.store(op.x, v + 1));
            break;
          }
          case 'locked':
            yield* perform(s.lock(op.l, me));
            yield* runOps(op.ops, me);
            yield* perform(s.unlock(op.l));
            break;
        }
      }
    }
    return {
      threads: threads.map((ops, i) => ({ name: `t${i}`, body: () => runOps(ops, i), actor: i >= threads.length - actors })),
      invariants: invariants(s),
      finalState: () => `${s.state()}|${JSON.stringify(seen)}`,
      snapshot: () => ({ vars: [...s.vars] }),
    };
  };
}
