// Per-CPU TLB and paging-structure cache.
//
// An entry caches one translation (4K page or 2M large page) and remembers the physical
// address of the entry it was filled from (`source`), which may later be an old, copied or freed
// page-table page. A 4K entry and a 2M entry for the same address can coexist; a lookup then
// uses the 4K one (x86 leaves the choice undefined; this is documented and deterministic).
//
// Locations: `tlb:<cpu>` the whole TLB (read by every TLB operation, written by a full flush);
// `tlb:<cpu>:0x<va>` a 4K slot; `tlb:<cpu>:2M:0x<va>` a 2M slot; `psc:<cpu>:<pmd index>`
// a paging-structure cache slot (the cached pmd → pte page pointer).
import { type Access, type Loc, read, write } from '../engine/types.js';
import type { CacheType } from './pte.js';
import type { PgLevel } from './pagetable.js';
import { type CpuId, type Geometry, type Pfn, type PhysAddr, type VirtAddr, hex, pageAlign, pfn } from './types.js';

export interface TlbEntry {
  /** Start of the mapped region (page- or large-page-aligned). */
  readonly va: VirtAddr;
  readonly size: PgLevel;
  /** First frame of the mapping. */
  readonly pfn: Pfn;
  readonly rw: boolean;
  readonly nx: boolean;
  readonly cacheType: CacheType;
  /** Cached D: when set, stores through this entry touch no page-table memory. */
  readonly dirty: boolean;
  /** Physical address of the entry this was filled from. */
  readonly source: PhysAddr;
}

export class Tlb {
  private readonly small = new Map<number, TlbEntry>();
  private readonly large = new Map<number, TlbEntry>();
  private readonly psc = new Map<number, Pfn>();

  constructor(readonly cpu: CpuId, private readonly geo: Geometry) {}

  // ---- locations ----
  get allLoc(): Loc {
    return `tlb:${this.cpu}`;
  }
  slotLoc(v: VirtAddr, size: PgLevel): Loc {
    return size === '4K' ? `tlb:${this.cpu}:${hex(pageAlign(v))}` : `tlb:${this.cpu}:2M:${hex(this.geo.largeAlign(v))}`;
  }
  pscLoc(pmdIndex: number): Loc {
    return `psc:${this.cpu}:${pmdIndex}`;
  }
  /** What a lookup of `v` reads. */
  lookupAccesses(v: VirtAddr): Access[] {
    return [read(this.allLoc), read(this.slotLoc(v, '4K')), read(this.slotLoc(v, '2M'))];
  }
  /** What invlpg(v) touches: both slots and every paging-structure cache slot. */
  invlpgAccesses(v: VirtAddr): Access[] {
    const acc = [read(this.allLoc), write(this.slotLoc(v, '4K')), write(this.slotLoc(v, '2M'))];
    for (let i = 0; i < this.geo.ptesPerTable; i++) acc.push(write(this.pscLoc(i)));
    return acc;
  }
  /** What a full flush touches. */
  flushAllAccesses(): Access[] {
    return [write(this.allLoc)];
  }

  // ---- state ----
  /** The entry a lookup of `v` uses (4K before 2M), or undefined on a miss. */
  lookup(v: VirtAddr): TlbEntry | undefined {
    return this.small.get(pageAlign(v)) ?? this.large.get(this.geo.largeAlign(v));
  }
  /** Every entry that translates `v` (0, 1 or 2). */
  translations(v: VirtAddr): TlbEntry[] {
    const out: TlbEntry[] = [];
    const s = this.small.get(pageAlign(v));
    const l = this.large.get(this.geo.largeAlign(v));
    if (s) out.push(s);
    if (l) out.push(l);
    return out;
  }
  /** Frame that entry `e` maps `v` to. */
  frameOf(e: TlbEntry, v: VirtAddr): Pfn {
    return e.size === '4K' ? e.pfn : pfn(e.pfn + this.geo.pteIndex(v));
  }
  fill(e: TlbEntry): void {
    (e.size === '4K' ? this.small : this.large).set(e.va, e);
  }
  /** Replace `e` by `nu` if `e` is still cached (a D update); false when it was evicted. */
  update(e: TlbEntry, nu: TlbEntry): boolean {
    const m = e.size === '4K' ? this.small : this.large;
    if (m.get(e.va) !== e) return false;
    m.set(e.va, nu);
    return true;
  }
  /** Drop exactly entry `e` if still cached. */
  drop(e: TlbEntry): void {
    const m = e.size === '4K' ? this.small : this.large;
    if (m.get(e.va) === e) m.delete(e.va);
  }
  /** invlpg: drop both translations of `v` and the whole paging-structure cache. Returns them. */
  invalidate(v: VirtAddr): TlbEntry[] {
    const gone = this.translations(v);
    this.small.delete(pageAlign(v));
    this.large.delete(this.geo.largeAlign(v));
    this.psc.clear();
    return gone;
  }
  /** Hardware eviction of both translations of `v` (the paging-structure cache stays). */
  evict(v: VirtAddr): TlbEntry[] {
    const gone = this.translations(v);
    this.small.delete(pageAlign(v));
    this.large.delete(this.geo.largeAlign(v));
    return gone;
  }
  flushAll(): TlbEntry[] {
    const gone = this.entries();
    this.small.clear();
    this.large.clear();
    this.psc.clear();
    return gone;
  }
  pscGet(pmdIndex: number): Pfn | undefined {
    return this.psc.get(pmdIndex);
  }
  pscFill(pmdIndex: number, table: Pfn): void {
    this.psc.set(pmdIndex, table);
  }
  pscEntries(): [number, Pfn][] {
    return [...this.psc.entries()].sort((a, b) => a[0] - b[0]);
  }
  /** All entries, 4K then 2M, each by address. */
  entries(): TlbEntry[] {
    const by = (a: TlbEntry, b: TlbEntry) => a.va - b.va;
    return [...[...this.small.values()].sort(by), ...[...this.large.values()].sort(by)];
  }
}
