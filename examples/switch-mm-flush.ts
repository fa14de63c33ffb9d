// switch_mm() against a remote TLB flusher on x86-TSO: CVE-2016-2069, fixed by Andy Lutomirski's
// 71b3c126e611 "x86/mm: Add barriers and document switch_mm()-vs-flush synchronization" (v4.5,
// backported to stable). Its comment in arch/x86/include/asm/mmu_context.h:
//
//   CPU 0: Write to a PTE for 'next'
//   CPU 0: load bit 1 in mm_cpumask.  if nonzero, send IPI.
//   CPU 1: set bit 1 in next's mm_cpumask
//   CPU 1: load from the PTE that CPU 0 writes (implicit)
//   We need to prevent an outcome in which CPU 1 observes the new PTE value [read: the old one]
//   and CPU 0 observes bit 1 clear in mm_cpumask. [...] The bad outcome can occur if either
//   CPU's load is reordered before that CPU's store, so both CPUs must execute full barriers.
//   [...] Fortunately, load_cr3 is serializing and thus acts as a full barrier.
//
// It is store buffering (the litmus test SB) with a page walk as one of the loads: CPU 0's pte
// store waits in its buffer while it reads mm_cpumask; CPU 1's walk reads memory, not CPU 0's
// buffer. The flusher here is flush_tlb_mm_range() on the `current->active_mm != mm` path,
// which had no barrier before 71b3c126 (the patch adds smp_mb() there).
//   npx mmcheck explore examples/switch-mm-flush.ts                 (TSO, the default here)
//   npx mmcheck explore examples/switch-mm-flush.ts --param tso=0   (the same on SC)
import { type Program, defineModel } from 'mmcheck';
import { Machine, PAGE_READONLY, PAGE_SHARED, physAddr, pfn_pte, pte_write, type pte_t, tso, va } from 'mmcheck/machine';

const CPU1_BIT = 1 << 1;

export default defineModel({
  name: 'switch-mm-flush',
  title: 'switch_mm vs a remote flusher: the mm_cpumask barrier (CVE-2016-2069)',
  source: 'Linux 71b3c126e611 (arch/x86/mm/tlb.c, arch/x86/include/asm/mmu_context.h)',
  params: {
    tso: { default: 1, min: 0, max: 1, description: '1: x86-TSO store buffers; 0: sequentially consistent' },
  },
  variants: [
    { name: 'fixed', description: 'flusher: set_pte; smp_mb(); read mm_cpumask (71b3c126)', expect: 'holds' },
    {
      name: 'no-smp-mb',
      description: 'flusher: set_pte; read mm_cpumask (before 71b3c126): its pte store passes its mask load',
      expect: { violates: 'no-stale-tlb-after-flush' },
      expectFor: (p) => (p.tso === 1 ? { violates: 'no-stale-tlb-after-flush' } : 'holds'),
    },
    { name: 'plain-cpumask-store', description: 'switcher: __cpumask_set_cpu (a plain store) — still safe: load_cr3 serialises', expect: 'holds' },
  ],
  invariants: [{ name: 'no-stale-tlb-after-flush', description: 'once both are done, no TLB holds a writable translation the page tables no longer give' }],
  build(variant, p): Program {
    const m = new Machine({ cpus: 2, memoryModel: p.tso === 1 ? 'tso' : 'sc' });
    const next = m.newMm('next');
    const table = m.memory.allocFrame('PT');
    const page = m.memory.allocFrame('P');
    const misc = m.memory.allocFrame('mm');
    next.populate(va(0), table);
    const ptep = next.mapPage(va(0), page, PAGE_SHARED);
    const cpumask = m.memory.word(physAddr(misc, 0)); // mm_cpumask(next): no CPU runs next yet
    const [cpu0, cpu1] = [m.cpu(0), m.cpu(1)];

    // CPU 0 runs another mm (current->active_mm != mm) and write-protects next's page.
    function* flusher() {
      yield* tso.store(cpu0, ptep, pfn_pte(page, PAGE_READONLY)); // set_pte_at: a plain store
      if (variant !== 'no-smp-mb') yield* tso.smp_mb(cpu0); // "Synchronize with switch_mm."
      const mask = yield* tso.load(cpu0, cpumask);
      // flush_tlb_others(mm_cpumask(mm), …) when another CPU is in the mask (the machine's
      // shootdown then picks the CPUs running `next`).
      if ((mask & CPU1_BIT) !== 0) yield* cpu0.flush_tlb_mm(next);
      yield* tso.drained(cpu0);
    }
    // CPU 1 switches to next, then its user code writes the page (a walk fills its TLB).
    function* switcher() {
      if (variant === 'plain-cpumask-store') yield* tso.store(cpu1, cpumask, CPU1_BIT);
      else yield* tso.lockOr(cpu1, cpumask, CPU1_BIT); // cpumask_set_cpu: lock bts
      yield* cpu1.switch_mm(next); // load_cr3: serialising
      yield* cpu1.store(va(0), 1);
      yield* tso.drained(cpu1);
    }
    return {
      threads: [{ name: 'cpu0', body: flusher }, { name: 'cpu1', body: switcher }, ...m.actors()],
      invariants: [
        {
          name: 'no-stale-tlb-after-flush',
          atEnd: true,
          watch: ['tlb:', 'mem:'],
          check: () => {
            const live = next.leaf(va(0));
            const liveRw = live !== null && pte_write(live.pte as pte_t);
            const stale = m.translations(va(0)).find((t) => t.entry.rw && !liveRw);
            return stale ? `cpu${stale.cpu} still holds a writable TLB entry for 0x0 after the pte was write-protected and the flush is done: no IPI reached it` : null;
          },
        },
      ],
      state: m.state,
      finalState: () => m.finalState(),
      snapshot: () => m.snapshot(),
    };
  },
});
