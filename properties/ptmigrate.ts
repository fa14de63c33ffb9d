// Invariants of page-table migration (MODELS.md §4): no lost dirty bit, and no hardware write
// into a freed page-table page. They read the model's state through `PtmigrateState`, which
// models/ptmigrate.ts builds once per execution.
import type { Invariant } from '../src/engine/types.js';
import {
  type Machine,
  type Pfn,
  type PtePtr,
  type Var,
  type VirtAddr,
  type pte_t,
  describePte,
  memPrefix,
  hex,
  physAddr,
  pte_dirty,
} from '../src/machine/index.js';

/** What reclaim decided for one data page (the `reclaim:<page>` variable). */
export const RESIDENT = 0;
export const WRITTEN_BACK = 1;
export const DROPPED_CLEAN = 2;

/** Reclaim dropped a page as clean: the memory and backing-store contents at that moment. */
export interface DropRecord {
  readonly page: string;
  readonly mem: number;
  readonly backing: number;
  /** The pte value reclaim decided from, decoded ("D0 RW A NX"). */
  readonly pte: string;
}

export interface DataPage {
  readonly name: string;
  readonly va: VirtAddr;
  readonly frame: Pfn;
  /** The page's copy in swap / the file (`var:backing:<page>`). */
  readonly backing: Var;
  /** Reclaim's decision for the page (`var:reclaim:<page>`). */
  readonly reclaim: Var;
}

export interface PtmigrateState {
  readonly machine: Machine;
  /** The pte page migrated away from (freed at the end of migration). */
  readonly O: Pfn;
  readonly pages: readonly DataPage[];
  readonly drops: DropRecord[];
  /** The live pte for a page now (through the mm's pmd), or null when the pmd is empty. */
  livePte(p: DataPage): PtePtr | null;
}

/** The data word a writer stores to (word 0 of the frame). */
export const dataWord = (s: PtmigrateState, p: DataPage): number => s.machine.memory.peek(physAddr(p.frame, 0));

/**
 * no-lost-dirty-bit: reclaim never discards a page whose memory differs from its backing
 * store (checked at the drop, from what the drop step saw), and after the run every completed
 * store is either in the backing store of an evicted page or still marked dirty where a later
 * dirty check would look (the live pte, or the old pte page while it is still in limbo).
 */
export function noLostDirtyBit(s: PtmigrateState): Invariant[] {
  const name = 'no-lost-dirty-bit';
  const description = 'a completed store is written back or seen dirty by every later dirty check; reclaim never drops a page whose memory differs from its backing store';
  const atDrop: Invariant = {
    name,
    description,
    watch: s.pages.map((p) => p.reclaim.loc),
    check: () => {
      // A drop is recorded by the step that sets the page's reclaim word to DROPPED_CLEAN.
      for (const p of s.pages) {
        if (p.reclaim.get() !== DROPPED_CLEAN) continue;
        const d = s.drops.find((x) => x.page === p.name && x.mem !== x.backing);
        if (d) return `reclaim dropped ${d.page} as clean (pte was ${d.pte}) but its memory holds ${d.mem} and the backing store ${d.backing}: the store's dirty bit was lost`;
      }
      return null;
    },
  };
  const atEnd: Invariant = {
    name,
    description,
    atEnd: true,
    check: () => {
      const mem = s.machine.memory;
      for (const p of s.pages) {
        const v = dataWord(s, p);
        const st = p.reclaim.get();
        if (st === WRITTEN_BACK || st === DROPPED_CLEAN) {
          if (v !== p.backing.get()) return `${p.name} was evicted, but a store after the eviction left ${v} in memory (backing store ${p.backing.get()})`;
          continue;
        }
        if (v === p.backing.get()) continue;
        const live = s.livePte(p);
        if (live && pte_dirty(live.get() as pte_t)) continue;
        const old = physAddr(s.O, s.machine.geo.pteIndex(p.va));
        if (mem.isAllocated(s.O) && pte_dirty(mem.peek(old) as pte_t)) continue;
        const shown = live ? `${live.name} = ${describePte(live.get(), (f) => mem.frameName(f))}` : 'no live pte';
        return `${p.name} (${hex(p.va)}) holds ${v} ≠ backing ${p.backing.get()}, but ${shown}: a later reclaim would drop it as clean`;
      }
      return null;
    },
  };
  return [atDrop, atEnd];
}

/**
 * no-write-to-freed-pagetable: the hardware (A/D updates) never writes a freed pte page. O is
 * the only page-table page the model frees, so the check reads O's words only.
 */
export function noWriteToFreedPagetable(s: PtmigrateState): Invariant {
  return {
    name: 'no-write-to-freed-pagetable',
    description: 'the hardware never writes a pte page after it was freed',
    watch: [memPrefix(s.O)],
    check: () => {
      const mem = s.machine.memory;
      const w = mem.writesToFreedFrame(s.O).find((x) => x.by.includes('hardware'));
      if (!w) return null;
      return `${mem.describe(w.pa)} written after its pte page was freed: ${describePte(w.value, (f) => mem.frameName(f))} by ${w.by}`;
    },
  };
}

export function ptmigrateInvariants(s: PtmigrateState): Invariant[] {
  return [...noLostDirtyBit(s), noWriteToFreedPagetable(s)];
}
