// A page-table root (one mm): a pmd page whose entries are either large (PS) mappings or
// pointers to pte pages. Setup helpers build tables outside any Step; lookup_address is the
// kernel's lockless walk as one Step.
import type { Access, Step } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import type { PhysMemory } from './memory.js';
import {
  type PtePtr,
  _PAGE_PSE,
  _PAGE_TABLE,
  describePte,
  pfn_pte,
  type pgprot_t,
  pgprot,
  pmd_large,
  pmd_pfn,
  pmd_present,
  type pte_t,
  pte_present,
} from './pte.js';
import { joinAccesses, readOf, readsOf, stableStep } from './step.js';
import { type Geometry, type Pfn, type PhysAddr, type VirtAddr, hex, physAddr } from './types.js';
import { sbRead } from './tso/ops.js';
import type { StoreBuffer } from './tso/store-buffer.js';

export type PgLevel = '4K' | '2M';

/** A live walk of the tables as they are in memory now (no TLB, no Step). */
export type Walk =
  | { readonly kind: 'no-pmd'; readonly pmdp: PtePtr; readonly pmd: pte_t }
  | { readonly kind: 'large'; readonly pmdp: PtePtr; readonly pmd: pte_t }
  | { readonly kind: 'table'; readonly pmdp: PtePtr; readonly pmd: pte_t; readonly ptep: PtePtr; readonly pte: pte_t };

/** What lookup_address returns: the entry that maps `va` (kpte) and its level. */
export interface Lookup {
  readonly level: PgLevel;
  readonly kpte: PtePtr;
  readonly pte: pte_t;
}

export class PageTable {
  /** lookupOf's last Lookup per entry (made on first use: not every build walks). */
  private lookups: Map<PtePtr, Lookup> | undefined;
  constructor(
    readonly name: string,
    readonly root: Pfn,
    private readonly mem: PhysMemory,
    readonly geo: Geometry,
  ) {}

  /** The pmd entry covering `va` (pmd_offset). */
  pmdp(v: VirtAddr): PtePtr {
    return this.mem.word(physAddr(this.root, this.geo.pmdIndex(v)));
  }
  /** The pte for `va` inside the pte page `table` (pte_offset_kernel). */
  pte_offset(table: Pfn, v: VirtAddr): PtePtr {
    return this.mem.word(physAddr(table, this.geo.pteIndex(v)));
  }

  /** Read the tables now (plain, for the machine's steps, setup and invariants). */
  walk(v: VirtAddr): Walk {
    const pmdp = this.pmdp(v);
    const pmd = pmdp.get() as pte_t;
    if (!pmd_present(pmd)) return { kind: 'no-pmd', pmdp, pmd };
    if (pmd_large(pmd)) return { kind: 'large', pmdp, pmd };
    const ptep = this.pte_offset(pmd_pfn(pmd), v);
    return { kind: 'table', pmdp, pmd, ptep, pte: ptep.get() as pte_t };
  }
  /** The same walk as software on a TSO CPU does it, with loads (READ_ONCE) that read the CPU's
   * own buffered stores first (SDM vol. 3A §8.2.3.5). */
  private walkBy(v: VirtAddr, sb: StoreBuffer): Walk {
    const pmdp = this.pmdp(v);
    const pmd = sbRead(sb, pmdp) as pte_t;
    if (!pmd_present(pmd)) return { kind: 'no-pmd', pmdp, pmd };
    if (pmd_large(pmd)) return { kind: 'large', pmdp, pmd };
    const ptep = this.pte_offset(pmd_pfn(pmd), v);
    return { kind: 'table', pmdp, pmd, ptep, pte: sbRead(sb, ptep) as pte_t };
  }

  /** The leaf entry mapping `va` now, or null when nothing maps it. With `seenBy`, as that CPU's
   * loads see the tables on TSO: its own buffered stores first (for invariants about what a CPU
   * has done; its footprint then includes `sb:` locations). */
  leaf(v: VirtAddr, seenBy?: Cpu): Lookup | null {
    // walk()'s reads, in its order, without making its Walk: invariants ask after every step.
    const sb = seenBy?.sb;
    const pmdp = this.pmdp(v);
    const pmd = (sb === undefined ? pmdp.get() : sbRead(sb, pmdp)) as pte_t;
    if (!pmd_present(pmd)) return null;
    if (pmd_large(pmd)) return this.lookupOf('2M', pmdp, pmd);
    const ptep = this.pte_offset(pmd_pfn(pmd), v);
    const pte = (sb === undefined ? ptep.get() : sbRead(sb, ptep)) as pte_t;
    return pte_present(pte) ? this.lookupOf('4K', ptep, pte) : null;
  }
  /** The Lookup of entry `kpte` holding `pte`: the one made last for that entry while it holds
   * the same value (a Lookup is immutable, so callers may share it; no object per call). */
  private lookupOf(level: PgLevel, kpte: PtePtr, pte: pte_t): Lookup {
    const made = (this.lookups ??= new Map());
    const l = made.get(kpte);
    if (l !== undefined && l.pte === pte && l.level === level) return l;
    const nu: Lookup = { level, kpte, pte };
    made.set(kpte, nu);
    return nu;
  }

  // ---- setup (before exploration) ----

  /** Map a large page at `va` (aligned down) to frames `base`… with `prot` (PS is added). */
  mapLarge(v: VirtAddr, base: Pfn, prot: pgprot_t): PtePtr {
    const pmdp = this.pmdp(v);
    pmdp.set(pfn_pte(base, pgprot(prot | _PAGE_PSE)));
    return pmdp;
  }
  /** Point the pmd for `va` at pte page `table` (pmd_populate, at setup). */
  populate(v: VirtAddr, table: Pfn): PtePtr {
    const pmdp = this.pmdp(v);
    pmdp.set(pfn_pte(table, _PAGE_TABLE));
    this.mem.setRole(table, 'pte');
    return pmdp;
  }
  /** Map one small page; allocates (and names) a pte page when the pmd is empty. */
  mapPage(v: VirtAddr, target: Pfn, prot: pgprot_t, tableName?: string): PtePtr {
    let w = this.walk(v);
    if (w.kind === 'large') throw new Error(`mapPage ${hex(v)}: pmd maps a large page`);
    if (w.kind === 'no-pmd') {
      this.populate(v, this.mem.allocFrame(tableName, 'pte'));
      w = this.walk(v);
    }
    if (w.kind !== 'table') throw new Error('unreachable');
    w.ptep.set(pfn_pte(target, prot));
    return w.ptep;
  }

  // ---- Steps ----

  /**
   * lookup_address(): walk without locks, one Step reading the pmd and (for a table) the pte.
   * Returns the leaf entry pointer and level; null when the pmd is empty. With the CPU that
   * runs it in front (`lookup_address(cpu, va)`), on a TSO machine its two loads forward from
   * that CPU's store buffer (a software walk is ordinary loads, unlike the hardware's).
   */
  lookup_address(v: VirtAddr): Generator<Step, Lookup | null, unknown>;
  lookup_address(cpu: Cpu, v: VirtAddr): Generator<Step, Lookup | null, unknown>;
  *lookup_address(a: Cpu | VirtAddr, b?: VirtAddr): Generator<Step, Lookup | null, unknown> {
    const v = (typeof a === 'number' ? a : b!) as VirtAddr;
    const sb = typeof a === 'number' ? undefined : a.sb;
    // What walk(v) reads, without making the walk: one shared list per pmd (and pte) location.
    const fp = (): readonly Access[] => {
      const pmdp = this.pmdp(v);
      const pmd = pmdp.get() as pte_t;
      if (!pmd_present(pmd) || pmd_large(pmd)) return readsOf(pmdp.loc);
      const ptep = this.pte_offset(pmd_pfn(pmd), v);
      let byPte = lookupFps.get(pmdp.loc);
      if (byPte === undefined) lookupFps.set(pmdp.loc, (byPte = new Map()));
      let acc = byPte.get(ptep.loc);
      if (acc === undefined) byPte.set(ptep.loc, (acc = joinAccesses([readOf(pmdp.loc), readOf(ptep.loc)])));
      return acc;
    };
    // On TSO: the same, each read with its buffer slot, and the pte found through the pmd the
    // CPU sees (its own buffered store, else memory).
    const fpBy = (sb: StoreBuffer): readonly Access[] => {
      const pmdp = this.pmdp(v);
      const pmd = sbRead(sb, pmdp) as pte_t;
      const pmdFp = sb.loadAccesses(readsOf(pmdp.loc), pmdp.loc);
      if (!pmd_present(pmd) || pmd_large(pmd)) return pmdFp;
      const ptep = this.pte_offset(pmd_pfn(pmd), v);
      return sb.loadAccesses(sb.loadAccesses(joinAccessesOnce(pmdp.loc, ptep.loc), pmdp.loc), ptep.loc);
    };
    // The step returns [level, kpte address, pte] packed in one string, unpacked here by the
    // thread: a state restore feeds a thread only plain results back.
    let label = lookupLabels.get(v);
    if (label === undefined) {
      if (lookupLabels.size >= 1 << 16) lookupLabels.clear(); // a bound, never reached by the built-in models
      lookupLabels.set(v, (label = `lookup_address(${hex(v)})`));
    }
    const r = (yield stableStep(label, sb === undefined ? fp : () => fpBy(sb), (say): string | null => {
      const w = sb === undefined ? this.walk(v) : this.walkBy(v, sb);
      const name = (f: Pfn) => this.mem.frameName(f);
      if (w.kind === 'no-pmd') {
        say(`pmd ${w.pmdp.name} empty`);
        return null;
      }
      if (w.kind === 'large') {
        say(`2M: kpte = pmd ${w.pmdp.name} (${describePte(w.pmd, name)})`);
        return `2M,${w.pmdp.pa},${w.pmd}`;
      }
      say(`4K: kpte = ${w.ptep.name} (${describePte(w.pte, name)})`);
      return `4K,${w.ptep.pa},${w.pte}`;
    })) as string | null;
    if (r === null) return null;
    let found = lookupResults.get(r);
    if (found === undefined) {
      if (lookupResults.size >= 1 << 16) lookupResults.clear();
      const [level, pa, pte] = r.split(',');
      lookupResults.set(r, (found = { level: level as PgLevel, pa: Number(pa) as PhysAddr, pte: Number(pte) as pte_t }));
    }
    return this.lookupOf(found.level, this.mem.word(found.pa), found.pte);
  }
}

// lookup_address's labels by address, footprints by pmd then pte location, and its results
// unpacked by string: made once and shared by every build (a thread yields its steps again,
// and is fed their results again, whenever its execution is brought back).
const lookupLabels = new Map<number, string>();
const lookupFps = new Map<string, Map<string, readonly Access[]>>();
/** `[read pmd, read pte]`, one list per pair (shared with lookup_address's SC footprint). */
function joinAccessesOnce(pmd: string, pte: string): readonly Access[] {
  let byPte = lookupFps.get(pmd);
  if (byPte === undefined) lookupFps.set(pmd, (byPte = new Map()));
  let acc = byPte.get(pte);
  if (acc === undefined) byPte.set(pte, (acc = joinAccesses([readOf(pmd), readOf(pte)])));
  return acc;
}
const lookupResults = new Map<string, { readonly level: PgLevel; readonly pa: PhysAddr; readonly pte: pte_t }>();
