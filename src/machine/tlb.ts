// Per-CPU TLB and paging-structure cache.
//
// An entry caches one translation (4K page or 2M large page) and remembers the physical
// address of the entry it was filled from (`source`), which may later be an old, copied or freed
// page-table page. A 4K entry and a 2M entry for the same address can coexist; a lookup then
// uses the 4K one (x86 leaves the choice undefined; this is documented and deterministic).
//
// Locations: `tlb:<cpu>` the whole TLB (read by every TLB operation, written by a full flush);
// `tlb:<cpu>:0x<va>` a 4K slot; `tlb:<cpu>:2M:0x<va>` a 2M slot; `psc:<cpu>:<pmd index>`
// a paging-structure cache slot (the cached pmd → pte page pointer). Every state accessor
// reports those locations to the engine's access audit; location strings are made once per
// slot. A full flush writes `tlb:<cpu>`, which every lookup reads, so it stands for all slots.
import { noteRead, noteWrite } from '../engine/audit.js';
import { type Access, type Loc, read } from '../engine/types.js';
import { joinAccesses, readOf, writeOf } from './step.js';
import type { CacheType } from './pte.js';
import type { PgLevel } from './pagetable.js';
import type { Stateful } from './state.js';
import { type CpuId, type Geometry, type Pfn, type PhysAddr, type VirtAddr, PAGE_SIZE, hex, pageAlign, pfn } from './types.js';

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
  /**
   * Which fill of its slot made the entry, 1 or 2: "the entry is still cached" (a D update, a
   * drop) means this very fill is still in its slot, not an equal one filled again since. Only
   * the entry an instruction in flight translated through (the TLB's pin) is ever asked that,
   * so a fill takes 1 unless the pin is a 1 of its slot, and the pin's release turns a 2 back
   * into 1: equal TLBs save equal states, whatever fills came before (the state cache merges
   * them). A number rather than object identity, so an entry can travel as plain data
   * (`encodeEntry`) through a state restore. Not part of what the entry translates: never shown.
   */
  readonly serial: number;
}

/** What `Tlb.save` copies: both maps' entries (immutable), the paging-structure cache as
 * [index, pfn, index, pfn, …], and the pin (the entry an instruction in flight holds). */
export interface TlbState {
  readonly small: readonly TlbEntry[];
  readonly large: readonly TlbEntry[];
  readonly psc: readonly number[];
  readonly pin: TlbEntry | null;
}

const CACHE_TYPES: readonly CacheType[] = ['WB', 'WC', 'UC'];
/** No entry: what translations, evict and flushAll return for nothing cached (one shared list;
 * callers only read it). */
const NO_ENTRIES: readonly TlbEntry[] = [];

/** An entry as a string (a step result a state restore can feed back). */
export function encodeEntry(e: TlbEntry): string {
  return `${e.serial},${e.va},${e.size === '4K' ? 0 : 1},${e.pfn},${e.rw ? 1 : 0},${e.nx ? 1 : 0},${CACHE_TYPES.indexOf(e.cacheType)},${e.dirty ? 1 : 0},${e.source}`;
}
/** The entry `encodeEntry` wrote (an equal object). */
export function decodeEntry(s: string): TlbEntry {
  const x = s.split(',').map(Number);
  if (x.length !== 9 || x.some((n) => !Number.isInteger(n))) throw new Error(`not an encoded TLB entry: ${s}`);
  return {
    serial: x[0]!,
    va: x[1]! as VirtAddr,
    size: x[2] === 0 ? '4K' : '2M',
    pfn: x[3]! as Pfn,
    rw: x[4] === 1,
    nx: x[5] === 1,
    cacheType: CACHE_TYPES[x[6]!]!,
    dirty: x[7] === 1,
    source: x[8]! as PhysAddr,
  };
}

/** The map's values are `saved`, in order. */
function sameValues(saved: readonly TlbEntry[], map: Map<number, TlbEntry>): boolean {
  if (saved.length !== map.size) return false;
  let i = 0;
  for (const e of map.values()) if (saved[i++] !== e) return false;
  return true;
}
function samePsc(saved: readonly number[], psc: Map<number, Pfn>): boolean {
  if (saved.length !== 2 * psc.size) return false;
  let i = 0;
  for (const [k, t] of psc) {
    if (saved[i] !== k || saved[i + 1] !== t) return false;
    i += 2;
  }
  return true;
}
function flatPsc(psc: Map<number, Pfn>): number[] {
  const out: number[] = [];
  for (const [i, t] of psc) out.push(i, t);
  return out;
}

/**
 * Location names and footprints of one CPU's TLB in one geometry, made on first use and shared
 * by every build: the engine builds the program again for every execution, and a thread yields
 * its steps again whenever its execution is brought back, so what a build made for itself would
 * serve a few steps only. Footprint lists are shared: the engine only reads them.
 */
interface TlbShared {
  readonly allLoc: Loc;
  /** By page / large page / pmd index. */
  readonly locs4K: Loc[];
  readonly locs2M: Loc[];
  readonly pscLocs: Loc[];
  allSlots: Loc[] | undefined;
  /** A read and a write of each paging-structure cache slot, and a write of each 4K / 2M
   * slot, by index (every walk declares them). */
  readonly pscReads: Access[];
  readonly pscWrites: Access[];
  readonly slotWrites4K: Access[];
  readonly slotWrites2M: Access[];
  /** lookupAccesses and invlpgAccesses by page index. */
  readonly lookupFps: (readonly Access[])[];
  readonly invlpgFps: (readonly Access[])[];
  /** rangeFlushAccesses by start, then end. */
  readonly rangeFps: Map<number, Map<number, readonly Access[]>>;
  flushFp: readonly Access[] | undefined;
  emptyFlushFp: readonly Access[] | undefined;
}
/** By entries per table, then CPU. */
const tlbShared: TlbShared[][] = [];
function sharedFor(cpu: CpuId, geo: Geometry): TlbShared {
  const byCpu = (tlbShared[geo.ptesPerTable] ??= []);
  return (byCpu[cpu] ??= {
    allLoc: `tlb:${cpu}`,
    locs4K: [],
    locs2M: [],
    pscLocs: [],
    pscReads: [],
    pscWrites: [],
    slotWrites4K: [],
    slotWrites2M: [],
    allSlots: undefined,
    lookupFps: [],
    invlpgFps: [],
    rangeFps: new Map(),
    flushFp: undefined,
    emptyFlushFp: undefined,
  });
}

export class Tlb implements Stateful<TlbState> {
  private readonly small = new Map<number, TlbEntry>();
  private readonly large = new Map<number, TlbEntry>();
  private readonly psc = new Map<number, Pfn>();
  /** The entry the CPU's instruction in flight translated through (see TlbEntry.serial). */
  private pin: TlbEntry | null = null;
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: TlbState | undefined;
  /** Something was changed since `last` was made or put back (every change below sets it). */
  private changed = true;
  readonly allLoc: Loc;
  /** Slot and cache location names and footprints, shared by every build (see TlbShared). */
  private readonly shared: TlbShared;

  constructor(readonly cpu: CpuId, private readonly geo: Geometry) {
    this.shared = sharedFor(cpu, geo);
    this.allLoc = this.shared.allLoc;
  }

  // ---- locations ----
  slotLoc(v: VirtAddr, size: PgLevel): Loc {
    return size === '4K' ? this.loc4K(pageAlign(v)) : this.loc2M(this.geo.largeAlign(v));
  }
  pscLoc(pmdIndex: number): Loc {
    return (this.shared.pscLocs[pmdIndex] ??= `psc:${this.cpu}:${pmdIndex}`);
  }
  /** A read (or write) of paging-structure cache slot `pmdIndex`, one shared object. */
  pscAccess(pmdIndex: number, write: boolean): Access {
    const sh = this.shared;
    if (write) return (sh.pscWrites[pmdIndex] ??= writeOf(this.pscLoc(pmdIndex)));
    return (sh.pscReads[pmdIndex] ??= readOf(this.pscLoc(pmdIndex)));
  }
  /** A write of the `size` slot of `v`, one shared object. */
  slotWrite(v: VirtAddr, size: PgLevel): Access {
    const sh = this.shared;
    if (size === '4K') return (sh.slotWrites4K[pageAlign(v) / PAGE_SIZE] ??= writeOf(this.slotLoc(v, size)));
    return (sh.slotWrites2M[this.geo.largeAlign(v) / this.geo.largePageSize] ??= writeOf(this.slotLoc(v, size)));
  }
  private loc4K(aligned: number): Loc {
    return (this.shared.locs4K[aligned / PAGE_SIZE] ??= `tlb:${this.cpu}:${hex(aligned)}`);
  }
  private loc2M(aligned: number): Loc {
    return (this.shared.locs2M[aligned / this.geo.largePageSize] ??= `tlb:${this.cpu}:2M:${hex(aligned)}`);
  }
  /** A lookup of `v` reads the whole TLB (a full flush writes it) and both slots of `v`. */
  private noteLookup(small: number, large: number): void {
    noteRead(this.allLoc);
    noteRead(this.loc4K(small));
    noteRead(this.loc2M(large));
  }
  /** What a lookup of `v` reads (one shared list per page, made on first use: every load and
   * store looks up). */
  lookupAccesses(v: VirtAddr): readonly Access[] {
    const page = pageAlign(v) / PAGE_SIZE;
    return (this.shared.lookupFps[page] ??= joinAccesses([readOf(this.allLoc), readOf(this.slotLoc(v, '4K')), readOf(this.slotLoc(v, '2M'))]));
  }
  /** What invlpg(v) touches: both slots and every paging-structure cache slot (one shared list
   * per page). */
  invlpgAccesses(v: VirtAddr): readonly Access[] {
    const page = pageAlign(v) / PAGE_SIZE;
    let acc = this.shared.invlpgFps[page];
    if (acc === undefined) {
      const out = [readOf(this.allLoc), writeOf(this.slotLoc(v, '4K')), writeOf(this.slotLoc(v, '2M'))];
      for (let i = 0; i < this.geo.ptesPerTable; i++) out.push(writeOf(this.pscLoc(i)));
      this.shared.invlpgFps[page] = acc = joinAccesses(out);
    }
    return acc;
  }
  /** What a flush of every page of [start, end) touches: each page's invlpg accesses, each
   * location once, in order of first mention (one shared list per range). */
  rangeFlushAccesses(start: VirtAddr, end: VirtAddr): readonly Access[] {
    const fps = this.shared.rangeFps;
    let byEnd = fps.get(start);
    if (byEnd === undefined) fps.set(start, (byEnd = new Map()));
    let acc = byEnd.get(end);
    if (acc === undefined) {
      // Accesses are one shared object per location and kind (readOf/writeOf): a Set of them
      // drops repeats exactly.
      const seen = new Set<Access>();
      for (const v of this.geo.pages(start, end)) for (const a of this.invlpgAccesses(v)) seen.add(a);
      byEnd.set(end, (acc = joinAccesses([...seen])));
    }
    return acc;
  }
  /**
   * What a full flush touches, in the current state (so only in a footprint function, or a
   * footprint made in the state the step runs in). A flush of a TLB that holds something writes
   * `tlb:<cpu>`. A flush of an empty TLB changes nothing: it reads every slot, so it stays
   * ordered against any fill, but commutes with lookups, other flushes and IPIs to it.
   */
  flushAllAccesses(): readonly Access[] {
    if (!this.isEmpty()) return (this.shared.flushFp ??= joinAccesses([writeOf(this.allLoc)]));
    return (this.shared.emptyFlushFp ??= joinAccesses(this.everySlot().map((loc) => readOf(loc))));
  }
  private isEmpty(): boolean {
    return this.small.size === 0 && this.large.size === 0 && this.psc.size === 0;
  }
  /** Every 4K slot, 2M slot and paging-structure cache slot the geometry has (made once). */
  private everySlot(): Loc[] {
    if (this.shared.allSlots) return this.shared.allSlots;
    const e = this.geo.ptesPerTable;
    const out: Loc[] = [];
    for (let i = 0; i < e * e; i++) out.push(this.loc4K(i * PAGE_SIZE));
    for (let i = 0; i < e; i++) out.push(this.loc2M(i * this.geo.largePageSize));
    for (let i = 0; i < e; i++) out.push(this.pscLoc(i));
    return (this.shared.allSlots = out);
  }

  // ---- Program.state (raw copies, not audited) ----

  save(): TlbState {
    if (!this.changed && this.last !== undefined) return this.last;
    this.changed = false;
    // Entries are never changed in place (a D update replaces one), so sharing them is a copy.
    const last = this.last;
    const small = last && sameValues(last.small, this.small) ? last.small : [...this.small.values()];
    const large = last && sameValues(last.large, this.large) ? last.large : [...this.large.values()];
    const psc = last && samePsc(last.psc, this.psc) ? last.psc : flatPsc(this.psc);
    if (last && small === last.small && large === last.large && psc === last.psc && this.pin === last.pin) return last;
    return (this.last = { small, large, psc, pin: this.pin });
  }
  restore(s: TlbState): void {
    if (s === this.last && !this.changed) return; // (see Cpu.restore)
    this.small.clear();
    for (const e of s.small) this.small.set(e.va, e);
    this.large.clear();
    for (const e of s.large) this.large.set(e.va, e);
    this.psc.clear();
    for (let k = 0; k < s.psc.length; k += 2) this.psc.set(s.psc[k]!, s.psc[k + 1]! as Pfn);
    this.pin = s.pin;
    this.last = s;
    this.changed = false;
  }
  /** The serial the next fill of slot (va, size) gives its entry. Not audited: it tells apart
   * fills, never what a translation is (see TlbEntry.serial). */
  serialFor(va: number, size: TlbEntry['size']): number {
    const p = this.pin;
    return p !== null && p.serial === 1 && p.va === va && p.size === size ? 2 : 1;
  }
  /** The instruction in flight goes on through `e` (translate's step). */
  hold(e: TlbEntry): void {
    if (this.pin === e) return;
    this.pin = e;
    this.changed = true;
  }
  /** The instruction ended: no entry is asked "still cached?" until the next one, so a refill
   * of the pinned slot takes serial 1 again (unaudited: a serial is no part of a translation). */
  release(): void {
    const p = this.pin;
    if (p === null) return;
    this.pin = null;
    this.changed = true;
    const map = p.size === '4K' ? this.small : this.large;
    const cur = map.get(p.va);
    if (cur !== undefined && cur.serial !== 1) map.set(p.va, { ...cur, serial: 1 });
  }

  // ---- state ----
  /** The entry a lookup of `v` uses (4K before 2M), or undefined on a miss. */
  lookup(v: VirtAddr): TlbEntry | undefined {
    const small = pageAlign(v);
    const large = this.geo.largeAlign(v);
    this.noteLookup(small, large);
    return this.small.get(small) ?? this.large.get(large);
  }
  /** Every entry that translates `v` (0, 1 or 2). Most TLBs hold none of most addresses and
   * invariants ask after every step: no translation is one shared empty list. */
  translations(v: VirtAddr): readonly TlbEntry[] {
    const small = pageAlign(v);
    const large = this.geo.largeAlign(v);
    this.noteLookup(small, large);
    const s = this.small.get(small);
    const l = this.large.get(large);
    if (s === undefined) return l === undefined ? NO_ENTRIES : [l];
    return l === undefined ? [s] : [s, l];
  }
  /** The slot of `e` (its own map and location). */
  private slot(e: TlbEntry): { map: Map<number, TlbEntry>; loc: Loc } {
    return e.size === '4K' ? { map: this.small, loc: this.loc4K(e.va) } : { map: this.large, loc: this.loc2M(e.va) };
  }
  /** Frame that entry `e` maps `v` to. */
  frameOf(e: TlbEntry, v: VirtAddr): Pfn {
    return e.size === '4K' ? e.pfn : pfn(e.pfn + this.geo.pteIndex(v));
  }
  /** Cache `e`, made with serial `serialFor` its slot (planWalk does). */
  fill(e: TlbEntry): void {
    const want = this.serialFor(e.va, e.size);
    if (e.serial !== want) throw new Error(`TLB fill with serial ${e.serial}, expected ${want}`);
    const { map, loc } = this.slot(e);
    noteWrite(loc);
    map.set(e.va, e);
    this.changed = true;
  }
  /** Is this very fill `e` still in its slot? */
  private holds(map: Map<number, TlbEntry>, e: TlbEntry): boolean {
    const cur = map.get(e.va);
    return cur !== undefined && cur.serial === e.serial;
  }
  /** Replace `e` by `nu` if `e` is still cached (a D update); false when it was evicted.
   * Returns the entry now cached (`nu` with a serial of its own), or null. */
  update(e: TlbEntry, nu: Omit<TlbEntry, 'serial'>): TlbEntry | null {
    const { map, loc } = this.slot(e);
    noteRead(loc);
    if (!this.holds(map, e)) return null;
    noteWrite(loc);
    // The same fill, updated: the pin (if it is `e`) still holds it.
    const next: TlbEntry = { ...nu, serial: e.serial };
    map.set(e.va, next);
    const p = this.pin;
    if (p !== null && p.va === e.va && p.size === e.size && p.serial === e.serial) this.pin = next;
    this.changed = true;
    return next;
  }
  /** Drop exactly entry `e` if still cached. */
  drop(e: TlbEntry): void {
    const { map, loc } = this.slot(e);
    noteRead(loc);
    if (!this.holds(map, e)) return;
    noteWrite(loc);
    map.delete(e.va);
    this.changed = true;
  }
  /** invlpg: drop both translations of `v` and the whole paging-structure cache. Returns them. */
  invalidate(v: VirtAddr): readonly TlbEntry[] {
    const gone = this.evict(v);
    for (const i of this.psc.keys()) noteWrite(this.pscLoc(i));
    this.psc.clear();
    this.changed = true;
    return gone;
  }
  /** Hardware eviction of both translations of `v` (the paging-structure cache stays). */
  evict(v: VirtAddr): readonly TlbEntry[] {
    const gone = this.translations(v);
    noteWrite(this.loc4K(pageAlign(v)));
    noteWrite(this.loc2M(this.geo.largeAlign(v)));
    this.small.delete(pageAlign(v));
    this.large.delete(this.geo.largeAlign(v));
    this.changed = true;
    return gone;
  }
  /** Drop everything; returns what was cached. Writes `tlb:<cpu>` only (every lookup reads
   * it), or, when nothing is cached, only reads every slot (see flushAllAccesses). */
  flushAll(): readonly TlbEntry[] {
    if (this.isEmpty()) {
      for (const loc of this.everySlot()) noteRead(loc);
      return NO_ENTRIES;
    }
    noteWrite(this.allLoc);
    const gone = this.sortedEntries();
    this.small.clear();
    this.large.clear();
    this.psc.clear();
    this.changed = true;
    return gone;
  }
  /** The cached pte page of `pmdIndex` (reads the whole TLB too: flushAll empties the cache
   * writing only `tlb:<cpu>`, so what reads a slot must read that as well). */
  pscGet(pmdIndex: number): Pfn | undefined {
    noteRead(this.allLoc);
    noteRead(this.pscLoc(pmdIndex));
    return this.psc.get(pmdIndex);
  }
  pscFill(pmdIndex: number, table: Pfn): void {
    noteWrite(this.pscLoc(pmdIndex));
    this.psc.set(pmdIndex, table);
    this.changed = true;
  }
  /** The cached pmd → pte page pointers (reads the whole TLB and each cached slot). */
  pscEntries(): [number, Pfn][] {
    noteRead(this.allLoc);
    for (const i of this.psc.keys()) noteRead(this.pscLoc(i));
    return [...this.psc.entries()].sort((a, b) => a[0] - b[0]);
  }
  /** All entries, 4K then 2M, each by address (reads the whole TLB and every filled slot). */
  entries(): TlbEntry[] {
    noteRead(this.allLoc);
    const out = this.sortedEntries();
    for (const e of out) noteRead(this.slot(e).loc);
    return out;
  }
  private sortedEntries(): TlbEntry[] {
    const by = (a: TlbEntry, b: TlbEntry) => a.va - b.va;
    return [...[...this.small.values()].sort(by), ...[...this.large.values()].sort(by)];
  }
}
