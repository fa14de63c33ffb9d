// A user model on the simulated machine: software write-protects a pte with a plain
// read-modify-write while another CPU's store makes the page walker set the Dirty bit in that
// same pte. The software write-back drops the hardware's D: the page's data changed, but
// nothing will ever write it back (the 2.6-era ptep_set_wrprotect-by-hand bug class).
//   npx mmcheck explore examples/dirty-bit-race.ts
import { type Program, defineModel } from 'mmcheck';
import { Machine, PAGE_SHARED, physAddr, ptep_get, ptep_set_wrprotect, pte_dirty, pte_wrprotect, set_pte, va } from 'mmcheck/machine';

export default defineModel({
  name: 'dirty-bit-race',
  title: 'software pte RMW racing the hardware dirty-bit update',
  source: 'examples/dirty-bit-race.ts (mmcheck/machine API guide)',
  params: {},
  variants: [
    { name: 'plain-rmw', description: 'v = *ptep; set_pte(ptep, pte_wrprotect(v))', expect: { violates: 'no-lost-dirty-bit' } },
    { name: 'atomic', description: 'ptep_set_wrprotect(ptep): one locked RMW', expect: 'holds' },
  ],
  invariants: [{ name: 'no-lost-dirty-bit', description: 'a page whose data was written has D set in its pte' }],
  build(variant): Program {
    const m = new Machine({ cpus: 2 });
    const table = m.memory.allocFrame('O');
    const data = m.memory.allocFrame('P');
    m.init_mm.populate(va(0), table);
    const ptep = m.init_mm.mapPage(va(0), data, PAGE_SHARED); // RW, D clear
    const word = m.memory.word(physAddr(data, 0));

    function* writer() {
      yield* m.cpu(0).store(va(0), 42); // the walker sets D in the pte, then the data is written
    }
    function* wrprotect() {
      if (variant === 'atomic') {
        yield* ptep_set_wrprotect(ptep);
      } else {
        const v = yield* ptep_get(ptep);
        yield* set_pte(ptep, pte_wrprotect(v));
      }
    }
    return {
      threads: [{ name: 'cpu0', body: writer }, { name: 'cpu1', body: wrprotect }, ...m.actors()],
      invariants: [
        {
          name: 'no-lost-dirty-bit',
          atEnd: true,
          watch: ['mem:'], // the page tables and the data word
          check: () => {
            const leaf = m.init_mm.leaf(va(0));
            return word.get() === 42 && leaf !== null && !pte_dirty(leaf.pte) ? 'P[0] was written, but its pte has D clear: the write is lost at writeback' : null;
          },
        },
      ],
      state: m.state,
      finalState: () => m.finalState(),
      snapshot: () => m.snapshot(),
    };
  },
});
