// A complete user model: two CPUs bump a shared statistics counter, as in a driver that
// forgot that `stats->tx++` is a load and a store. Explore it with
//   npx mmcheck explore examples/lost-update.ts
import { defineModel, perform, read, write, type Program, type ThreadBody } from 'mmcheck';

export default defineModel({
  name: 'lost-update',
  title: 'Two CPUs increment one counter',
  source: 'examples/lost-update.ts (README: write your own model)',
  params: { cpus: { default: 2, min: 2, max: 4, description: 'CPUs incrementing the counter' } },
  variants: [
    { name: 'plain', description: 'stats->tx++ (load, then store)', expect: { violates: 'no-lost-update' } },
    { name: 'atomic', description: 'atomic_inc(&stats->tx)', expect: 'holds' },
  ],
  invariants: [{ name: 'no-lost-update', description: 'the counter ends equal to the number of increments' }],
  build(variant, params): Program {
    let counter = 0;
    const cpus = params.cpus!;
    function* increment(): ThreadBody {
      if (variant === 'atomic') {
        yield* perform({ label: 'atomic_inc(&stats->tx)', footprint: [write('tx')], run: () => void counter++ });
        return;
      }
      const v = yield* perform({ label: 'load stats->tx', footprint: [read('tx')], run: () => counter });
      yield* perform({ label: `store stats->tx = ${v + 1}`, footprint: [write('tx')], run: () => void (counter = v + 1) });
    }
    return {
      threads: Array.from({ length: cpus }, (_, i) => ({ name: `cpu${i}`, body: increment })),
      invariants: [
        { name: 'no-lost-update', atEnd: true, check: () => (counter === cpus ? null : `counter is ${counter} after ${cpus} increments`) },
      ],
      finalState: () => String(counter),
      snapshot: () => ({ tx: counter }),
    };
  },
});
