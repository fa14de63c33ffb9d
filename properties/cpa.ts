// Invariants of change_page_attr on the x86 direct map (MODELS.md §2): what every caller of
// set_memory_ro/rw/uc/np may rely on once the call has returned, and what the hardware must
// never see while it runs (the TLB application note quoted in ad5ca55f6bdb).
//
// Reduction: every per-step invariant watches exactly the locations it reads (the direct map's
// pmd entry and the pte pages a split may install, the TLBs, the return flags, the uc page's
// cache flag, the ro page's words), and the engine's access audit checks that it reads nothing
// else. An earlier version watched nothing, on a stability argument (each violation, once true,
// stays true until a step dependent with the one that made it true); the audit cannot check such
// an argument, so it is gone. Cost at the defaults: fixed takes 6,351 DPOR executions instead of
// 641 (each invariant orders only the writes it watches; 8,559 when all watched writes formed one
// chain); most of it is no-cache-type-alias, whose TLB watch makes every TLB fill and flush
// dependent with the page-table and cache-flag writes. Messages may read
// more than the watch when the verdict is already "violated" (the leaked pte page).
import type { Invariant } from '../src/engine/types.js';
import {
  type Cell,
  type Machine,
  type Pfn,
  type TlbEntry,
  type VirtAddr,
  hex,
  pte_cachetype,
  pte_exec,
  pte_flags,
  pte_pfn,
  pte_present,
  pte_write,
  _PAGE_PCD,
  _PAGE_PWT,
  _PAGE_RW,
  describePte,
  type PtePtr,
  cacheLoc,
  memPrefix,
} from '../src/machine/index.js';
import { unaudited } from '../src/engine/audit.js';

/** One set_memory_*() call of the model, and what it has done so far. */
export interface CpaCall {
  /** "set_memory_ro" … */
  readonly fn: string;
  readonly cpu: number;
  readonly addr: VirtAddr;
  /** Index of the small page inside the direct map (0-based). */
  readonly page: number;
  readonly maskSet: number;
  readonly maskClr: number;
  /** 1 once the call has returned (`var:cpa:ret:cpuN`). */
  readonly returned: Cell;
  /** The page's data as it was when the call returned (for set_memory_ro). */
  contentsAtReturn?: number[];
}

/** What the invariants read: the machine plus the model's bookkeeping. */
export interface CpaState {
  readonly m: Machine;
  /** Direct-map page i (va) must translate to frame `frames[i]`. */
  readonly vas: readonly VirtAddr[];
  readonly frames: readonly Pfn[];
  readonly calls: readonly CpaCall[];
  /** Frames that can hold page tables (the pmd page and the pages a split may allocate). */
  readonly tableFrames: readonly Pfn[];
}

const returned = (c: CpaCall): boolean => c.returned.get() === 1;

/** The attribute a call asked for is in `flags`. */
export const hasRequested = (c: CpaCall, flags: number): boolean =>
  (flags & c.maskSet) === c.maskSet && (flags & c.maskClr) === 0;

function entryDiff(a: TlbEntry, fa: Pfn, b: TlbEntry, fb: Pfn): string | null {
  if (fa !== fb) return `frame pfn ${fa} vs pfn ${fb}`;
  if (a.rw !== b.rw) return `${a.rw ? 'RW' : 'RO'} vs ${b.rw ? 'RW' : 'RO'}`;
  if (a.nx !== b.nx) return 'NX differs';
  if (a.cacheType !== b.cacheType) return `${a.cacheType} vs ${b.cacheType}`;
  return null;
}

export function cpaInvariants(st: CpaState): Invariant[] {
  const { m } = st;
  const name = (f: Pfn) => m.memory.frameName(f);
  const describe = (e: TlbEntry) => m.cpu(0).describe(e);
  const show = (p: PtePtr) => unaudited(() => describePte(p.get(), name));
  // What the checks read, as locations minted by the machine and the model.
  // The direct map's pmd entry and the pte pages a split may install (never the pgd's other
  // entries: the checks walk the direct map only).
  const tables = [m.init_mm.pmdp(st.vas[0]!).loc, ...st.tableFrames.filter((f) => f !== m.init_mm.root).map(memPrefix)];
  const returnedLocs = (which: (c: CpaCall) => boolean) => st.calls.filter(which).map((c) => c.returned.loc);
  const tlbs = m.cpus.map((c) => c.tlb.allLoc); // a CPU's TLB: `tlb:<cpu>` and its slots
  const isUc = (c: CpaCall) => (c.maskSet & (_PAGE_PCD | _PAGE_PWT)) !== 0;
  const isRo = (c: CpaCall) => (c.maskClr & _PAGE_RW) !== 0;

  const directMapIdentity: Invariant = {
    name: 'direct-map-identity',
    description: 'every present direct-map entry maps page i to its own frame: CPA changes attributes, never the va→pfn mapping',
    watch: tables,
    check() {
      for (let i = 0; i < st.vas.length; i++) {
        const v = st.vas[i]!;
        const leaf = m.init_mm.leaf(v);
        if (!leaf) continue;
        const f = leaf.level === '4K' ? pte_pfn(leaf.pte) : ((pte_pfn(leaf.pte) + i) as Pfn);
        if (f !== st.frames[i]) return `direct map ${hex(v)} maps ${name(f)} through ${leaf.kpte.name}, not ${name(st.frames[i]!)}`;
      }
      return null;
    },
  };

  const noLostAttributeChange: Invariant = {
    name: 'no-lost-attribute-change',
    description: 'once set_memory_*() has returned, the page tables carry the attribute it set',
    // On TSO the caller's own stores may still be in its store buffer when it returns (a change
    // on its way to memory is not lost): the tables are read as the caller's loads see them.
    watch: [...returnedLocs(() => true), ...tables, ...(m.memoryModel === 'tso' ? ['sb:'] : [])],
    check() {
      for (const c of st.calls) {
        if (!returned(c)) continue;
        const leaf = m.init_mm.leaf(c.addr, m.cpu(c.cpu));
        const flags = leaf ? pte_flags(leaf.pte) : 0;
        if (!leaf && hasRequested(c, 0)) continue; // set_memory_np: nothing maps it, as asked
        if (leaf && hasRequested(c, flags)) continue;
        const live = leaf ? `${leaf.kpte.name} is ${show(leaf.kpte)}` : 'nothing maps it';
        // The leak is part of the message only (the verdict is already "violated"): not watched.
        const leaked = unaudited(() => st.tableFrames.filter((f) => m.memory.isAllocated(f) && m.memory.role(f) === 'pte' && !referenced(st, f)));
        const leak = leaked.length ? `; pte page ${leaked.map(name).join(', ')} is allocated but no pmd points to it (leaked)` : '';
        return `${c.fn}(${hex(c.addr)}) on cpu${c.cpu} returned, but ${live}: the change was lost${leak}`;
      }
      return null;
    },
  };

  const noConflictingTranslations: Invariant = {
    name: 'no-conflicting-translations',
    description: 'no CPU holds a 2M and a 4K translation of one address that differ in frame or attributes (Intel TLB application note, ad5ca55f6bdb)',
    watch: tlbs,
    check() {
      for (const cpu of m.cpus) {
        for (const v of st.vas) {
          const ts = cpu.tlb.translations(v);
          if (ts.length < 2) continue;
          const [a, b] = [ts[0]!, ts[1]!];
          const d = entryDiff(a, cpu.tlb.frameOf(a, v), b, cpu.tlb.frameOf(b, v));
          if (d) return `${cpu.name} holds two translations of ${hex(v)} that disagree (${d}): ${describe(a)} and ${describe(b)}`;
        }
      }
      return null;
    },
  };

  const noCacheTypeAlias: Invariant = {
    name: 'no-cache-type-alias',
    description: 'after set_memory_uc() returned, the frame has no cache lines left from WB accesses (clflush / wbinvd in cpa_flush_range)',
    watch: [...returnedLocs(isUc), ...tables, ...tlbs, ...st.calls.filter(isUc).map((c) => cacheLoc(st.frames[c.page]!))],
    check() {
      for (const c of st.calls) {
        if (!isUc(c) || !returned(c)) continue;
        const f = st.frames[c.page]!;
        const leaf = m.init_mm.leaf(c.addr);
        const uc = (leaf && pte_cachetype(leaf.pte) !== 'WB') || m.translations(c.addr).some((t) => t.entry.cacheType !== 'WB');
        if (uc && m.memory.isCachedWB(f)) {
          return `${name(f)} is mapped ${leaf ? pte_cachetype(leaf.pte) : 'UC'} after ${c.fn}(${hex(c.addr)}) returned, but still has lines cached WB`;
        }
      }
      return null;
    },
  };

  const noWriteThroughReadonly: Invariant = {
    name: 'no-write-through-readonly',
    description: 'after set_memory_ro() returned, no CPU writes the page (a store must fault)',
    watch: [...returnedLocs(isRo), ...st.calls.filter(isRo).map((c) => memPrefix(st.frames[c.page]!))],
    check() {
      for (const c of st.calls) {
        if (!isRo(c) || !returned(c) || !c.contentsAtReturn) continue;
        const f = st.frames[c.page]!;
        const i = m.memory.firstChange(f, c.contentsAtReturn);
        if (i >= 0) return `${name(f)}[${i}] was written (${c.contentsAtReturn[i]} → ${m.memory.contents(f)[i]}) after ${c.fn}(${hex(c.addr)}) returned on cpu${c.cpu}`;
      }
      return null;
    },
  };

  const tlbAgreesAfterCpa: Invariant = {
    name: 'tlb-agrees-after-cpa',
    description: 'when every call has returned, every CPU\'s TLB entries for the changed pages agree with the page tables',
    atEnd: true,
    check() {
      for (const c of st.calls) {
        if (!returned(c)) continue;
        const leaf = m.init_mm.leaf(c.addr);
        for (const { cpu, entry } of m.translations(c.addr)) {
          const tlb = m.cpu(cpu).tlb;
          if (!leaf) return `cpu${cpu} still holds ${describe(entry)} for ${hex(c.addr)}, which is not present`;
          const f = leaf.level === '4K' ? pte_pfn(leaf.pte) : ((pte_pfn(leaf.pte) + c.page) as Pfn);
          const bad =
            tlb.frameOf(entry, c.addr) !== f || entry.rw !== pte_write(leaf.pte) || entry.nx === pte_exec(leaf.pte) ||
            entry.cacheType !== pte_cachetype(leaf.pte) || !pte_present(leaf.pte);
          if (bad) return `after ${c.fn}(${hex(c.addr)}) cpu${cpu} still holds ${describe(entry)}, but ${leaf.kpte.name} is ${show(leaf.kpte)}`;
        }
      }
      return null;
    },
  };

  return [directMapIdentity, noLostAttributeChange, noConflictingTranslations, noCacheTypeAlias, noWriteThroughReadonly, tlbAgreesAfterCpa];
}

/** Does any pmd entry of init_mm point at pte page `f`? */
function referenced(st: CpaState, f: Pfn): boolean {
  const { m } = st;
  for (let i = 0; i < m.geo.ptesPerTable; i++) {
    const w = m.init_mm.walk(m.geo.addr(i));
    if (w.kind === 'table' && pte_pfn(w.pmd) === f) return true;
  }
  return false;
}
