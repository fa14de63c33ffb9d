// Invariants of lazy vmap TLB flushing (MODELS.md §3): a pinned page-table page has no
// writable alias, an address is reused only after its flush, vm_unmap_aliases leaves nothing
// mapped, and no frame is mapped with two cache types. They read the model's state through
// `VmapState`, which models/vmap.ts builds once per execution.
import type { Invariant } from '../src/engine/types.js';
import {
  type Cell,
  type Machine,
  type Pfn,
  type VirtAddr,
  type CacheType,
  hex,
  type pte_t,
  pte_cachetype,
  pte_pfn,
  pte_present,
  pte_write,
} from '../src/machine/index.js';

export interface VmapState {
  readonly machine: Machine;
  /** Every kernel address the model can map: the direct map and the vmalloc slots. */
  readonly kernelVas: readonly VirtAddr[];
  /** Locations of the page tables behind `kernelVas`: their pmd entries and the words of their
   * pte pages (`mem:<pfn>:` prefixes), minted by the machine. */
  readonly tableLocs: readonly string[];
  /** Frames Xen has pinned as page tables (`var:pinned:<frame>` is 1). */
  pinned(): readonly Pfn[];
  /** The locations `pinned()` reads. */
  readonly pinnedLocs: readonly string[];
  /** Ghost words written (to 1) only by the step that records `reuseViolation` / `vuaViolation`. */
  readonly reuseGhost: Cell;
  readonly vuaGhost: Cell;
  /** Data frames (candidates for aliases). */
  readonly dataFrames: readonly Pfn[];
  /** Set by alloc_vmap_area when it hands out an address some TLB still translates. */
  reuseViolation: string | null;
  /** Set when vm_unmap_aliases returns while a page vunmapped before the call is still mapped. */
  vuaViolation: string | null;
}

/** Every mapping of frame `f` in the kernel page tables and in every CPU's TLB, described. */
export function mappingsOf(s: VmapState, f: Pfn, want: (rw: boolean) => boolean): string[] {
  return s.kernelVas.flatMap((v) => mappingsAt(s, v, f, want));
}

/** The mappings of frame `f` at address `v` only: reads v's pmd and pte and every TLB's slots for v. */
export function mappingsAt(s: VmapState, v: VirtAddr, f: Pfn, want: (rw: boolean) => boolean): string[] {
  const m = s.machine;
  const name = (x: Pfn) => m.memory.frameName(x);
  const out: string[] = [];
  const leaf = m.init_mm.leaf(v);
  if (leaf && pte_present(leaf.pte) && pte_pfn(leaf.pte) === f && want(pte_write(leaf.pte))) {
    out.push(`pte ${leaf.kpte.name} maps ${hex(v)}→${name(f)} ${pte_write(leaf.pte) ? 'RW' : 'RO'}`);
  }
  for (const { cpu, entry } of m.translations(v)) {
    const c = m.cpu(cpu);
    if (c.tlb.frameOf(entry, v) === f && want(entry.rw)) out.push(`cpu${cpu} TLB ${hex(v)}→${name(f)} ${entry.rw ? 'RW' : 'RO'}`);
  }
  return out;
}

/** Whether frame `f` has a mapping at `v` that `want` accepts: mappingsAt's question without
 * its texts, reading the same locations while it finds none (the invariants ask it for every
 * address after every step, and a violation is rare). */
function hasMappingAt(s: VmapState, v: VirtAddr, f: Pfn, want: (rw: boolean) => boolean): boolean {
  const m = s.machine;
  const leaf = m.init_mm.leaf(v);
  if (leaf && pte_present(leaf.pte) && pte_pfn(leaf.pte) === f && want(pte_write(leaf.pte))) return true;
  for (const c of m.cpuList) for (const entry of c.tlb.translations(v)) if (c.tlb.frameOf(entry, v) === f && want(entry.rw)) return true;
  return false;
}

/** hasMappingAt at any kernel address, in their order (a loop: no closure per frame). */
function hasMapping(s: VmapState, f: Pfn, want: (rw: boolean) => boolean): boolean {
  for (const v of s.kernelVas) if (hasMappingAt(s, v, f, want)) return true;
  return false;
}

const writable = (rw: boolean): boolean => rw;

/**
 * no-stale-alias-on-pinned-pagetable: a page Xen pinned as a page table has no writable
 * mapping — no RW pte anywhere in the kernel tables (Xen refuses: "Attempt to create linear
 * p.t. with write perms") and no RW entry in any CPU's TLB.
 */
export function noStaleAliasOnPinnedPagetable(s: VmapState): Invariant {
  return {
    name: 'no-stale-alias-on-pinned-pagetable',
    description: 'a pinned page-table page has no writable mapping: no RW pte and no RW TLB entry on any CPU',
    watch: [...s.pinnedLocs, 'tlb:', ...s.tableLocs],
    check: () => {
      for (const f of s.pinned()) {
        if (!hasMapping(s, f, writable)) continue;
        const rw = mappingsOf(s, f, writable);
        if (rw.length > 0) return `page-table page ${s.machine.memory.frameName(f)} is pinned but still writable: ${rw.join('; ')}`;
      }
      return null;
    },
  };
}

/**
 * no-reuse-before-flush: alloc_vmap_area hands an address out again only after the flush that
 * covers its old mapping completed on every CPU (no TLB still translates it). Recorded by the
 * allocation step, which reads every CPU's TLB slot for the address.
 */
export function noReuseBeforeFlush(s: VmapState): Invariant {
  return {
    name: 'no-reuse-before-flush',
    description: 'a vmalloc address is handed out again only after a flush covering its old mapping completed on every CPU',
    watch: [s.reuseGhost.loc],
    check: () => (s.reuseGhost.get() === 1 ? s.reuseViolation : null),
  };
}

/**
 * no-alias-after-vm-unmap-aliases: when vm_unmap_aliases returns, no pte and no TLB entry maps
 * a page at an address vunmapped before the call (recorded by its return step).
 */
export function noAliasAfterVmUnmapAliases(s: VmapState): Invariant {
  return {
    name: 'no-alias-after-vm-unmap-aliases',
    description: 'after vm_unmap_aliases returns, nothing maps a page that was vunmapped before the call',
    watch: [s.vuaGhost.loc],
    check: () => (s.vuaGhost.get() === 1 ? s.vuaViolation : null),
  };
}

/** A bit per cache type, so a frame's types seen fit one number. */
const TYPE_BIT: Readonly<Record<CacheType, number>> = { WB: 1, WC: 2, UC: 4 };

/** The cache types of every data frame's mappings (ptes, then each CPU's TLB entries, at every
 * kernel address), as TYPE_BIT bits by the frame's index in `dataFrames`. One pass over the
 * addresses: a frame has a cache-type alias when its number has two bits, whatever the order
 * its mappings were met in (asking frame by frame read every address once per frame). */
function cacheTypesOfFrames(s: VmapState, into: number[]): void {
  const m = s.machine;
  const frames = s.dataFrames;
  for (let i = 0; i < frames.length; i++) into[i] = 0;
  for (const v of s.kernelVas) {
    const leaf = m.init_mm.leaf(v);
    if (leaf) {
      const i = frames.indexOf(pte_pfn(leaf.pte));
      if (i >= 0) into[i] |= TYPE_BIT[pte_cachetype(leaf.pte as pte_t)];
    }
    for (const c of m.cpuList) {
      for (const entry of c.tlb.translations(v)) {
        const i = frames.indexOf(c.tlb.frameOf(entry, v));
        if (i >= 0) into[i] |= TYPE_BIT[entry.cacheType];
      }
    }
  }
}

/** no-cache-type-alias: no frame has two live mappings (ptes or TLB entries) with different cache types. */
export function noCacheTypeAlias(s: VmapState): Invariant {
  const types: number[] = []; // cacheTypesOfFrames' answer, filled at every check
  return {
    name: 'no-cache-type-alias',
    description: 'no frame has two live mappings (ptes or TLB entries) with different cache types',
    watch: ['tlb:', ...s.tableLocs],
    check: () => {
      const m = s.machine;
      cacheTypesOfFrames(s, types);
      for (let i = 0; i < s.dataFrames.length; i++) {
        const bits = types[i]!;
        if ((bits & (bits - 1)) === 0) continue; // one type, or none
        const f = s.dataFrames[i]!;
        const seen = new Map<string, string>();
        for (const v of s.kernelVas) {
          const leaf = m.init_mm.leaf(v);
          if (leaf && pte_pfn(leaf.pte) === f) seen.set(pte_cachetype(leaf.pte as pte_t), `pte ${leaf.kpte.name} (${hex(v)})`);
          for (const { cpu, entry } of m.translations(v)) {
            if (m.cpu(cpu).tlb.frameOf(entry, v) === f) seen.set(entry.cacheType, `cpu${cpu} TLB (${hex(v)})`);
          }
        }
        if (seen.size > 1) {
          const all = [...seen.entries()].map(([t, where]) => `${t} via ${where}`).join(', ');
          return `frame ${m.memory.frameName(f)} is mapped with different cache types: ${all}`;
        }
      }
      return null;
    },
  };
}

export function vmapInvariants(s: VmapState): Invariant[] {
  return [noStaleAliasOnPinnedPagetable(s), noReuseBeforeFlush(s), noAliasAfterVmUnmapAliases(s), noCacheTypeAlias(s)];
}
