// Random programs of the toy language for the engine's cross-checks (fast-check).
import fc from 'fast-check';
import type { ExploreResult } from '../../src/engine/results.js';
import type { Invariant, Program, Step } from '../../src/engine/types.js';
import type { Op, Shared } from '../../src/testing/toy.js';

/** Everything the toy language has: nested locks (to `maxDepth`), waits, assume, assert,
 * non-atomic increments and dynamic footprints. */
export function richOpArb(nVars: number, maxDepth = 2, depth = 0): fc.Arbitrary<Op> {
  const x = fc.integer({ min: 0, max: nVars - 1 });
  const v = fc.integer({ min: 0, max: 2 });
  const simple: fc.Arbitrary<Op>[] = [
    x.map((x) => ({ kind: 'load', x }) as Op),
    x.map((x) => ({ kind: 'loadIndirect', x }) as Op),
    fc.tuple(x, v).map(([x, v]) => ({ kind: 'store', x, v }) as Op),
    fc.tuple(x, v, v).map(([x, expect, v]) => ({ kind: 'cas', x, expect, v }) as Op),
    fc.tuple(x, v).map(([x, v]) => ({ kind: 'await', x, v }) as Op),
    fc.tuple(x, v).map(([x, v]) => ({ kind: 'assume', x, v }) as Op),
    fc.tuple(x, fc.integer({ min: 1, max: 2 })).map(([x, v]) => ({ kind: 'assertNot', x, v }) as Op),
    x.map((x) => ({ kind: 'inc', x }) as Op),
  ];
  if (depth >= maxDepth) return fc.oneof(...simple);
  const locked = fc
    .tuple(fc.integer({ min: 0, max: 1 }), fc.array(richOpArb(nVars, maxDepth, depth + 1), { minLength: 1, maxLength: 2 }))
    .map(([l, ops]) => ({ kind: 'locked', l, ops }) as Op);
  return fc.oneof({ arbitrary: fc.oneof(...simple), weight: 3 }, { arbitrary: locked, weight: 1 });
}

/** Steps a thread's ops take (a lock and an unlock around a locked block, two for an increment). */
export const stepsOf = (ops: readonly Op[]): number => ops.reduce((n, op) => n + (op.kind === 'locked' ? 2 + stepsOf(op.ops) : op.kind === 'inc' ? 2 : 1), 0);

/** A per-step invariant over the first and last variable (watched, so DPOR must order them). */
export const forbidPair = (s: Shared): Invariant[] => [
  { name: 'forbidden-pair', watch: ['x'], check: () => (s.vars[0] === 2 && s.vars[s.vars.length - 1] === 1 ? 'x0=2 with last=1' : null) },
];

/** Small toy programs: 2–3 threads of rich ops (at most 10 steps), some actors, maybe a per-step invariant. */
export const smallPrograms = fc.integer({ min: 1, max: 3 }).chain((nVars) =>
  fc
    .tuple(fc.array(fc.array(richOpArb(nVars), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), fc.boolean())
    .filter(([ts]) => ts.reduce((n, t) => n + stepsOf(t), 0) <= 10)
    .map(([threads, actors, perStep]) => ({ nVars, threads, actors: Math.min(actors, threads.length), perStep })),
);

/** What two ways of running one search must agree on: the verdict and counterexample, every
 * count, and the final states. */
export const counts = (r: ExploreResult) => ({
  verdict: r.verdict,
  invariant: r.violation?.invariant,
  schedule: r.violation?.schedule,
  executions: r.executions,
  blocked: r.blocked,
  sleepBlocked: r.sleepBlocked,
  steps: r.steps,
  restoredSteps: r.restoredSteps,
  states: r.cache?.states,
  revisits: r.cache?.revisits,
  finalStates: r.finalStates,
});

/** `make`'s program with every step its threads yield passed through `f` (with how many steps
 * that thread yielded before it). */
export function mapSteps(make: () => Program, f: (step: Step, n: number) => Step): () => Program {
  return () => {
    const p = make();
    return {
      ...p,
      threads: p.threads.map((t) => ({
        ...t,
        body: function* () {
          const g = t.body();
          let n = 0;
          let r = g.next();
          while (!r.done) r = g.next(yield f(r.value, n++));
        },
      })),
    };
  };
}
