// A complete user model: CPUs bump a shared statistics counter, as in a driver that forgot that
// `stats->tx++` is a load and a store. Explore it with
//   npx mmcheck explore examples/lost-update.ts
import { type Program, SharedState, defineModel } from 'mmcheck';

export default defineModel({
  name: 'lost-update',
  title: 'CPUs increment one counter',
  source: 'examples/lost-update.ts (README: write your own model)',
  params: { cpus: { default: 2, min: 2, max: 4, description: 'CPUs incrementing the counter' } },
  variants: [
    { name: 'plain', description: 'stats->tx++ (load, then store)', expect: { violates: 'no-lost-update' } },
    { name: 'atomic', description: 'atomic_inc(&stats->tx)', expect: 'holds' },
    { name: 'locked', description: 'spin_lock(&stats->lock); stats->tx++; spin_unlock(&stats->lock)', expect: 'holds' },
    { name: 'cas-loop', description: 'do { old = stats->tx; } while (cmpxchg(&stats->tx, old, old + 1) != old)', expect: 'holds' },
  ],
  invariants: [{ name: 'no-lost-update', description: 'the counter ends equal to the number of increments' }],
  build(variant, params): Program {
    const s = new SharedState(); // fresh state for every execution
    const tx = s.variable('stats.tx', 0);
    const lock = s.mutex('stats.lock');
    const cpus = params.cpus!;

    function* increment() {
      if (variant === 'atomic') {
        yield* tx.fetchAdd(1);
      } else if (variant === 'locked') {
        yield* lock.lock();
        const v = yield* tx.load();
        yield* tx.store(v + 1);
        yield* lock.unlock();
      } else if (variant === 'cas-loop') {
        for (;;) {
          const old = yield* tx.load();
          if (yield* tx.cas(old, old + 1)) break;
        }
      } else {
        const v = yield* tx.load();
        yield* tx.store(v + 1);
      }
    }

    return {
      threads: Array.from({ length: cpus }, (_, i) => ({ name: `cpu${i}`, body: increment })),
      invariants: [
        {
          name: 'no-lost-update',
          atEnd: true,
          check: () => (tx.value === cpus ? null : `stats.tx is ${tx.value} after ${cpus} increments`),
        },
      ],
      finalState: () => s.finalState(),
      snapshot: () => s.snapshot(),
      state: s.state, // lets the search restore a branch point instead of re-running its prefix
    };
  },
});
