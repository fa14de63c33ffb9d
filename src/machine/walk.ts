// The hardware page walk: from the CPU's root (or its paging-structure cache) to the leaf
// entry, setting A in the leaf and filling the TLB. Planned first (pure, for the footprint),
// then applied in the same state by the Step's run().
import { unaudited } from '../engine/audit.js';
import type { Access } from '../engine/types.js';
import { readOf } from './step.js';
import type { PageTable } from './pagetable.js';
import {
  type PtePtr,
  _PAGE_ACCESSED,
  describePte,
  pmd_large,
  pmd_pfn,
  pmd_present,
  type pte_t,
  pte_cachetype,
  pte_dirty,
  pte_exec,
  pte_pfn,
  pte_present,
  pte_set_flags,
  pte_write,
  pte_young,
} from './pte.js';
import type { Tlb, TlbEntry } from './tlb.js';
import { type Pfn, type VirtAddr, pageAlign, paPfn } from './types.js';

export interface WalkContext {
  readonly tlb: Tlb;
  readonly mm: PageTable;
  /** Location of the CPU's root pointer (cr3), read by every walk. */
  readonly cr3Loc: string;
  /** Paging-structure cache in use. */
  readonly psc: boolean;
}

export type WalkPlan =
  | {
      readonly kind: 'fault';
      readonly accesses: readonly Access[];
      readonly why: string;
      readonly pscFill?: { readonly index: number; readonly table: Pfn };
    }
  | {
      readonly kind: 'fill';
      readonly accesses: readonly Access[];
      readonly entry: TlbEntry;
      readonly leaf: PtePtr;
      readonly setA: boolean;
      readonly viaPsc: boolean;
      readonly pscFill?: { readonly index: number; readonly table: Pfn };
    };

/** Plan a walk of `v` in the current state (touches nothing). `first`, when given, is put at
 * the head of the plan's accesses (a CPU's translate step starts its footprint with its own
 * instruction write: no second list to copy into). The accesses are a fresh list. */
export function planWalk(ctx: WalkContext, v: VirtAddr, first?: Access): WalkPlan {
  const { tlb, mm } = ctx;
  const geo = mm.geo;
  const idx = geo.pmdIndex(v);
  const acc: Access[] = first === undefined ? [] : [first];
  acc.push(readOf(ctx.cr3Loc));
  for (const a of tlb.lookupAccesses(v)) acc.push(a);
  let table: Pfn | undefined;
  let viaPsc = false;
  let pscFill: { index: number; table: Pfn } | undefined;
  let leaf: PtePtr;
  let val: pte_t;
  let size: '4K' | '2M';
  if (ctx.psc) acc.push(tlb.pscAccess(idx, false));
  const cached = ctx.psc ? tlb.pscGet(idx) : undefined;
  if (cached !== undefined) {
    table = cached;
    viaPsc = true;
  } else {
    const pmdp = mm.pmdp(v);
    const pmd = pmdp.get() as pte_t;
    acc.push(pmdp.readAccesses()[0]!);
    if (!pmd_present(pmd)) return { kind: 'fault', accesses: acc, why: `pmd ${pmdp.name} not present` };
    if (pmd_large(pmd)) {
      leaf = pmdp;
      val = pmd;
      size = '2M';
    } else {
      table = pmd_pfn(pmd);
      if (ctx.psc) {
        pscFill = { index: idx, table };
        acc.push(tlb.pscAccess(idx, true));
      }
    }
  }
  if (table !== undefined) {
    leaf = mm.pte_offset(table, v);
    val = leaf.get() as pte_t;
    size = '4K';
    acc.push(leaf.readAccesses()[0]!);
    if (!pte_present(val)) {
      const why = `pte ${leaf.name} not present`;
      return pscFill ? { kind: 'fault', accesses: acc, why, pscFill } : { kind: 'fault', accesses: acc, why };
    }
  }
  // Definitely assigned on every path that reaches here.
  const leafp = leaf!;
  const e = val!;
  const sz = size!;
  const setA = !pte_young(e);
  if (setA) for (const a of leafp.writeAccesses()) acc.push(a);
  acc.push(tlb.slotWrite(v, sz));
  const slotVa = sz === '4K' ? pageAlign(v) : geo.largeAlign(v);
  const entry: TlbEntry = {
    va: slotVa,
    size: sz,
    pfn: pte_pfn(e),
    rw: pte_write(e),
    nx: !pte_exec(e),
    cacheType: pte_cachetype(e),
    dirty: pte_dirty(e),
    source: leafp.pa,
    serial: tlb.serialFor(slotVa, sz),
  };
  return pscFill ? { kind: 'fill', accesses: acc, entry, leaf: leafp, setA, viaPsc, pscFill } : { kind: 'fill', accesses: acc, entry, leaf: leafp, setA, viaPsc };
}

/** Apply a plan made in this same state. Returns a note for the trace. */
export function applyWalk(ctx: WalkContext, plan: WalkPlan, by: string): string {
  if (plan.pscFill) ctx.tlb.pscFill(plan.pscFill.index, plan.pscFill.table);
  if (plan.kind === 'fault') return `walk: ${plan.why}`;
  const { leaf, entry } = plan;
  const mem = leaf.memory;
  if (plan.setA) leaf.set(pte_set_flags(leaf.get() as pte_t, _PAGE_ACCESSED), `${by} (hardware A update)`);
  ctx.tlb.fill(entry);
  const parts = [`walk${plan.viaPsc ? ' (via paging-structure cache)' : ''}: ${entry.size} entry from ${leaf.name}`];
  parts.push(`(${describePte(leaf.get(), (f) => mem.frameName(f))})`);
  if (plan.setA) parts.push('A set');
  const frame = paPfn(leaf.pa);
  // For the note only (allocation state is outside a walk's footprint).
  if (!unaudited(() => mem.isAllocated(frame))) parts.push(`— ${mem.frameName(frame)} is a FREED frame`);
  return parts.join(' ');
}

/** "4K 0x1000→P RW D from O[0]" */
export function describeEntry(e: TlbEntry, frameName: (f: Pfn) => string, source: string): string {
  const bits = [e.rw ? 'RW' : 'RO'];
  if (e.dirty) bits.push('D');
  if (e.nx) bits.push('NX');
  if (e.cacheType !== 'WB') bits.push(e.cacheType);
  return `${e.size} 0x${e.va.toString(16)}→${frameName(e.pfn)} ${bits.join(' ')} from ${source}`;
}
