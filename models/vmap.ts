// vmap — lazy TLB flushing, vm_unmap_aliases and Xen pinning (MODELS.md §3).
//
// Nick Piggin's vmap rewrite (db64fe02258f, 2.6.28, mm/vmalloc.c; RFC "[rfc][patch] mm: vmap
// rewrite", linux-mm 5 Jun 2008) stopped flushing the TLB on every vunmap: the area is only
// marked VM_LAZY_FREE, its pte stays in place (until 64141da58724, 2.6.37) and
// __purge_vmap_area_lazy() clears and flushes lazy areas in batches. "XEN and PAT and such do
// not like deferred TLB flushing. They just need to call vm_unmap_aliases()" (the RFC). Xen's
// xen_alloc_ptpage() called it only for highmem pages until Jeremy Fitzhardinge's "xen: make
// sure stray alias mappings are gone before pinning" (linux-mm, 28 Oct 2008): "there can be
// vmalloc aliases even for non-high pages, so we must do the flush unconditionally".
//
// The machine: 2 CPUs. pmd[0] → pte page DM, the direct map of the two lowmem frames A (0x0)
// and C (0x1000); frame H is highmem (no direct-map address). pmd[1] → pte page VM, the
// vmalloc area: `slots` one-page vmap_areas from VMALLOC_START = 0x4000.
// - cpu0 (a vm_map_ram user such as NFS readdir / XFS buffers): vmap(A), store through the
//   alias (its TLB caches 0x4000→A RW), vunmap, __free_page(A), then vmap(C) — with one slot,
//   alloc_vmap_area must purge the lazy area first (or reuses the address).
// - cpu1 (Xen, pte_alloc_one + xen_alloc_ptpage on a pinned mm): get_zeroed_page() — A if cpu0
//   freed it already, else the highmem frame H — then [vm_unmap_aliases], make the direct map of
//   the page read-only, and pin it as an L1 table. With `pat` = 1 it is set_memory_uc() instead
//   (change_page_attr_set_clr() also starts with vm_unmap_aliases()).
// - `vmRam` = 1: cpu0 maps its buffers with vm_map_ram()/vm_unmap_ram() — the per-cpu vmap_block
//   front end of db64fe02258f. pmd[2] → pte page VB holds cpu0's one vmap_block, VMAP_BBMAP_BITS
//   scaled down to 2 pages (0x8000, 0x9000). vb_alloc() hands out pages of the block's alloc_map;
//   a block with no free space left (vb->free == 0) is list_del_rcu'd from the cpu's vbq->free.
//   vb_free() only marks the range in vb->dirty_map: the pte stays (2.6.28) and nothing is flushed.
//   vm_unmap_aliases() clears and flushes every dirty range it finds before it purges. Until
//   v6.5 it looked only at the blocks on vbq->free, so a dirty range of a fully used block kept
//   its alias: Thomas Gleixner, "mm/vmalloc: prevent stale TLBs in fully utilized blocks"
//   (fc1e0d980037, v6.5) — variant `vb-full-block-skipped`. The model's other variants walk
//   every block (as the fixed kernel does); cpu0 never dirties a whole block, so free_vmap_block()
//   is not modelled.
import { type Access, type Program, type Step, read, write } from '../src/engine/types.js';
import { shootdown } from '../src/machine/ipi.js';
import {
  type Cpu,
  type Lock,
  Machine,
  PAGE_KERNEL,
  type PhysMemory,
  type Pfn,
  type PtePtr,
  type Var,
  type VirtAddr,
  atomic_add,
  atomic_read,
  atomic_sub,
  hex,
  mk_pte,
  mkStep,
  modelState,
  op,
  programState,
  refill,
  sameList,
  pfn,
  pte_clear,
  pte_set_cachetype,
  pte_wrprotect,
  type pte_t,
  set_pte,
  spin_lock,
  spin_trylock,
  spin_unlock,
  tso,
  va,
  memPrefix,
  describePte,
} from '../src/machine/index.js';
import { unaudited } from '../src/engine/audit.js';
import { defineModel } from '../src/model.js';
import { type VmapState, mappingsAt, mappingsOf, vmapInvariants } from '../properties/vmap.js';

type Op<T> = Generator<Step, T, unknown>;

/** VmapState.pinned() while nothing is pinned (one shared list: callers only read it). */
const NONE_PINNED: readonly Pfn[] = [];

/** How a variant's kernel behaves: a few flags consulted in the one model body below. */
interface Flavour {
  /** Where xen_alloc_ptpage (and CPA) call vm_unmap_aliases(). */
  readonly unmapAliases: 'always' | 'highmem-only' | 'never';
  /** 64141da58724 (2.6.37): vunmap clears the ptes at once; only the TLB flush is lazy. */
  readonly eagerClear: boolean;
  /** '2.6.28': purge_lock, flush, then free; 'rfc': no purge_lock; 'free-before-flush'. */
  readonly purge: '2.6.28' | 'rfc' | 'free-before-flush';
  /**
   * Which vmap_blocks vm_unmap_aliases() looks at for dirty ranges: 'all' every block of every
   * cpu (fc1e0d980037, v6.5); 'free-list' only those on vbq->free (2.6.28 .. v6.4), which a block
   * leaves when its free space is used up.
   */
  readonly vbWalk?: 'all' | 'free-list';
  /** The variant is about the vmap_block front end: cpu0 uses vm_map_ram whatever `vmRam` says. */
  readonly vmRam?: boolean;
}

const FLAVOURS: Record<string, Flavour> = {
  fixed: { unmapAliases: 'always', eagerClear: false, purge: '2.6.28' },
  'highmem-only-unmap-aliases': { unmapAliases: 'highmem-only', eagerClear: false, purge: '2.6.28' },
  'no-unmap-aliases': { unmapAliases: 'never', eagerClear: false, purge: '2.6.28' },
  'reuse-before-flush': { unmapAliases: 'always', eagerClear: false, purge: 'free-before-flush' },
  'rfc-no-purge-lock': { unmapAliases: 'always', eagerClear: false, purge: 'rfc' },
  'eager-clear': { unmapAliases: 'always', eagerClear: true, purge: '2.6.28' },
  'eager-clear-no-unmap-aliases': { unmapAliases: 'never', eagerClear: true, purge: '2.6.28' },
  'vb-full-block-skipped': { unmapAliases: 'always', eagerClear: false, purge: '2.6.28', vbWalk: 'free-list', vmRam: true },
};

// The vmap_block's place on cpu0's vmap_block_queue (`var:vb@<addr>.list`).
const VB_NONE = 0; // not created yet (no new_vmap_block)
const VB_ON_FREE_LIST = 1; // on vbq->free: vb->free > 0
const VB_FULL = 2; // vb->free == 0: list_del_rcu'd from vbq->free (still in vmap_block_tree)
/** VMAP_BBMAP_BITS, scaled down: pages per vmap_block. */
const VB_PAGES = 2;

interface VmapBlock {
  readonly addr: VirtAddr; // vb->va->va_start
  readonly pages: readonly { readonly addr: VirtAddr; readonly ptep: PtePtr }[];
  readonly list: Var; // VB_NONE | VB_ON_FREE_LIST | VB_FULL
  readonly alloc_map: Var; // bitmap, bit i = page i handed out by vb_alloc
  readonly dirty_map: Var; // bitmap, bit i = page i vb_free'd (never cleared, as in 2.6.28)
  readonly lock: Lock; // vb->lock
  readonly vbqLock: Lock; // cpu0's vbq->lock
  /** Frame mapped at each page (bookkeeping for notes). */
  readonly frames: (Pfn | null)[];
}

// vmap_area->flags, as one state per slot (`var:vmap_area@<addr>`); FREE = not in the rbtree.
const FREE = 0;
const BUSY = 1; // in the tree, mapped (VM_VM_AREA)
const LAZY = 2; // VM_LAZY_FREE: vunmapped, not yet purged — the address is not reusable
const FREEING = 3; // VM_LAZY_FREEING: collected by a purge, on its private valist
const STATE_NAMES = ['free', 'busy', 'VM_LAZY_FREE', 'VM_LAZY_FREEING'];

interface Slot {
  readonly addr: VirtAddr;
  readonly ptep: PtePtr;
  readonly state: Var;
  /** Frame mapped by the last vmap of this slot (bookkeeping for notes and the ghost check). */
  frame: Pfn | null;
}

/**
 * The kernel of one build: what build() sets up (the machine, its frames and page tables, the
 * vmap_areas, locks and ghosts), with mm/vmalloc.c's operations and the two threads as generator
 * methods. Methods, not function*s nested in build(): V8 makes a new map and prototype the first
 * time each fresh generator closure runs (µs per closure, and the map pins the build through
 * scavenges), so nested ones cost that at every execution; a method is one closure per process.
 */
class VmapKernel {
  readonly m: Machine;
  readonly mem: PhysMemory;
  readonly A: Pfn;
  readonly C: Pfn;
  /** Each data frame's name, for the frame cpu1 allocates. */
  readonly names: Map<Pfn, string>;
  /** The direct-map pte of each lowmem frame. */
  readonly directPte: Map<Pfn, PtePtr>;
  readonly slots: Slot[];
  /** cpu0's vmap_block (vm_map_ram), null unless `vmRam`. */
  readonly vb: VmapBlock | null;
  /** The pte behind every vmalloc address the model maps (vmap_area slots and vmap_block pages). */
  readonly ptepOf: Map<VirtAddr, PtePtr>;
  readonly vmap_lazy_nr: Var;
  readonly lazyMax: number;
  readonly vmap_area_lock: Lock;
  readonly purge_lock: Lock;
  readonly pinned: Map<Pfn, Var>;
  readonly reuseGhost: Var;
  readonly vuaGhost: Var;
  /** Every vunmap so far: the address and the page it mapped (ghost, for vm_unmap_aliases). */
  readonly vunmapped: { addr: VirtAddr; frame: Pfn }[];
  readonly st: VmapState;
  readonly fname: (f: Pfn) => string;
  readonly tlbReads: (v: VirtAddr) => Access[];
  readonly holders: (v: VirtAddr) => string[];

  constructor(readonly fl: Flavour, readonly p: Readonly<Record<string, number>>) {
    const vmRam = fl.vmRam === true || p.vmRam === 1;
    const m = new Machine({ cpus: 2, frames: vmRam ? 7 : 6 });
    const mem = m.memory;
    const DM = mem.allocFrame('DM', 'pte');
    const VM = mem.allocFrame('VM', 'pte');
    const A = mem.allocFrame('A', 'data');
    const C = mem.allocFrame('C', 'data');
    const VB = vmRam ? mem.allocFrame('VB', 'pte') : null; // pte page of the vmap_block range
    const H = pfn(vmRam ? 6 : 5); // the lowest frame left free: get_zeroed_page's pick while A is in use
    const names = new Map<Pfn, string>([[A, 'A'], [C, 'C'], [H, 'H']]);
    mem.name(H, 'H');
    const VMALLOC_START = m.geo.addr(1, 0);
    m.init_mm.populate(va(0), DM);
    m.init_mm.populate(VMALLOC_START, VM);
    // The direct map (lowmem): __va(A) = 0x0, __va(C) = 0x1000. H has none: it is highmem.
    const lowmem = new Map<Pfn, VirtAddr>([[A, m.geo.addr(0, 0)], [C, m.geo.addr(0, 1)]]);
    const directPte = new Map<Pfn, PtePtr>();
    for (const [f, v] of lowmem) directPte.set(f, m.init_mm.mapPage(v, f, PAGE_KERNEL));

    const slots: Slot[] = Array.from({ length: p.slots! }, (_, i) => {
      const addr = m.geo.addr(1, i);
      return { addr, ptep: m.init_mm.pte_offset(VM, addr), state: m.var(`vmap_area@${hex(addr)}`, FREE), frame: null };
    });
    // cpu0's vmap_block (vm_map_ram): new_vmap_block() creates it on first use.
    let vb: VmapBlock | null = null;
    if (VB !== null) {
      const base = m.geo.addr(2, 0);
      m.init_mm.populate(base, VB);
      const pages = Array.from({ length: VB_PAGES }, (_, i) => {
        const addr = m.geo.addr(2, i);
        return { addr, ptep: m.init_mm.pte_offset(VB, addr) };
      });
      const n = `vb@${hex(base)}`;
      vb = {
        addr: base,
        pages,
        list: m.var(`${n}.list`, VB_NONE),
        alloc_map: m.var(`${n}.alloc_map`),
        dirty_map: m.var(`${n}.dirty_map`),
        lock: m.spinlock(`${n}.lock`),
        vbqLock: m.spinlock('vmap_block_queue@cpu0.lock'),
        frames: pages.map(() => null),
      };
    }
    const ptepOf = new Map<VirtAddr, PtePtr>([...slots.map((s): [VirtAddr, PtePtr] => [s.addr, s.ptep]), ...(vb ? vb.pages.map((x): [VirtAddr, PtePtr] => [x.addr, x.ptep]) : [])]);
    const vmap_lazy_nr = m.var('vmap_lazy_nr');
    const lazyMax = p.lazyMax!; // lazy_max_pages()
    const vmap_area_lock = m.spinlock('vmap_area_lock');
    const purge_lock = m.spinlock('purge_lock');
    const pinned = new Map<Pfn, Var>([A, C, H].map((f) => [f, m.var(`pinned:${names.get(f)}`)]));
    const pinnedFrames = [...pinned.keys()];
    const pinnedVars = [...pinned.values()];
    const reuseGhost = m.var('ghost.reuse');
    const vuaGhost = m.var('ghost.vm_unmap_aliases');
    const vunmapped: { addr: VirtAddr; frame: Pfn }[] = [];

    const kernelVas = [...lowmem.values(), ...slots.map((s) => s.addr), ...(vb ? vb.pages.map((x) => x.addr) : [])];
    const st: VmapState = {
      machine: m,
      kernelVas,
      tableLocs: [...new Set(kernelVas.map((v) => m.init_mm.pmdp(v).loc)), ...[DM, VM, ...(VB !== null ? [VB] : [])].map(memPrefix)],
      // A loop over the frames, not spread, filter and map of the map: an invariant asks after
      // every step (and mostly nothing is pinned).
      pinned: () => {
        let out: Pfn[] | undefined;
        for (let i = 0; i < pinnedVars.length; i++) if (pinnedVars[i]!.get() === 1) (out ??= []).push(pinnedFrames[i]!);
        return out ?? NONE_PINNED;
      },
      pinnedLocs: pinnedVars.map((v) => v.loc),
      reuseGhost,
      vuaGhost,
      dataFrames: [A, C, H],
      reuseViolation: null,
      vuaViolation: null,
    };
    const fname = (f: Pfn) => mem.frameName(f);
    // A loop, not flatMap (a microsecond a call in V8): footprints ask at every evaluation.
    const tlbReads = (v: VirtAddr): Access[] => {
      const acc: Access[] = [];
      for (const c of m.cpus) for (const a of c.tlb.lookupAccesses(v)) acc.push(a);
      return acc;
    };
    const holders = (v: VirtAddr) =>
      m.translations(v).map(({ cpu, entry }) => `cpu${cpu} TLB ${hex(v)}→${fname(entry.pfn)} ${entry.rw ? 'RW' : 'RO'}`);

    this.m = m;
    this.mem = mem;
    this.A = A;
    this.C = C;
    this.names = names;
    this.directPte = directPte;
    this.slots = slots;
    this.vb = vb;
    this.ptepOf = ptepOf;
    this.vmap_lazy_nr = vmap_lazy_nr;
    this.lazyMax = lazyMax;
    this.vmap_area_lock = vmap_area_lock;
    this.purge_lock = purge_lock;
    this.pinned = pinned;
    this.reuseGhost = reuseGhost;
    this.vuaGhost = vuaGhost;
    this.vunmapped = vunmapped;
    this.st = st;
    this.fname = fname;
    this.tlbReads = tlbReads;
    this.holders = holders;
  }

  /** Read an entry on `cpu` before changing it (the kernel's `*pte` ahead of the update: its own
   * step; on TSO it forwards from the CPU's store buffer). */
  *readPte(cpu: Cpu, ptep: PtePtr, label: string): Op<pte_t> {
    const { fname } = this;
    if (cpu.sb !== undefined) return yield* op(tso.forwardedLoad(cpu.sb, label, ptep, (v) => ({ result: v as pte_t, note: `${ptep.name} = ${describePte(v, fname)}` })));
    return yield* op(mkStep(label, ptep.readAccesses(), (say) => {
      const v = ptep.get() as pte_t;
      say(`${ptep.name} = ${describePte(v, fname)}`);
      return v;
    }));
  }

  // ---- mm/vmalloc.c (2.6.28) ----

  /** alloc_vmap_area(): lowest free slot under vmap_area_lock; on overflow purge once and retry. */
  *alloc_vmap_area(cpu: Cpu): Op<Slot | null> {
    const { m, slots, vmap_area_lock, reuseGhost, st, tlbReads, holders } = this;
    const lowestFree = () => slots.find((s) => s.state.get() === FREE);
    let purged = false;
    for (;;) {
      yield* spin_lock(cpu, vmap_area_lock);
      const fp = () => {
        const s = lowestFree();
        const acc = slots.map((x) => read(x.state.loc));
        if (s) {
          acc.push(write(s.state.loc), ...tlbReads(s.addr));
          if (m.translations(s.addr).length > 0) acc.push(write(reuseGhost.loc));
        }
        return acc;
      };
      // The step returns the slot's index (-1: none free): a number a state restore can feed back.
      const got = yield* op(
        mkStep('alloc_vmap_area: search the vmap_area rbtree', fp, (say): number => {
          const s = lowestFree();
          if (!s) {
            say(`no free address (${slots.map((x) => STATE_NAMES[x.state.get()]).join(', ')})`);
            return -1;
          }
          s.state.set(BUSY);
          const stale = holders(s.addr);
          if (stale.length > 0) {
            st.reuseViolation = `alloc_vmap_area handed ${hex(s.addr)} to ${cpu.name} again while ${stale.join('; ')} — the flush covering its old mapping has not completed`;
            reuseGhost.set(1);
          }
          say(`__insert_vmap_area: ${hex(s.addr)}${stale.length ? ` (still cached: ${stale.join('; ')})` : ''}`);
          return slots.indexOf(s);
        }),
      );
      yield* spin_unlock(cpu, vmap_area_lock);
      if (got >= 0 || purged) return got >= 0 ? slots[got]! : null; // second failure: "vmap allocation failed", -EBUSY
      yield* this.purge_vmap_area_lazy(cpu);
      purged = true;
    }
  }

  /** vmap() / vm_map_ram() of one page: alloc_vmap_area + vmap_page_range (set_pte_at). */
  *vmap(cpu: Cpu, page: Pfn): Op<Slot | null> {
    const s = yield* this.alloc_vmap_area(cpu);
    if (!s) return null;
    yield* set_pte(cpu, s.ptep, mk_pte(page, PAGE_KERNEL), `vmap_page_range(${hex(s.addr)}): set_pte_at`);
    s.frame = page;
    return s;
  }

  /**
   * vunmap() → remove_vm_area → free_unmap_vmap_area (2.6.28): mark lazy, count, maybe purge;
   * no pte clear, no flush. 64141da58724: free_unmap_vmap_area_noflush clears the pte first.
   * (find_vmap_area's lookup under vmap_area_lock changes nothing here and is left out.)
   */
  *vunmap(cpu: Cpu, s: Slot): Op<void> {
    const { fl, m, vmap_lazy_nr, lazyMax, vunmapped, fname } = this;
    if (fl.eagerClear) yield* pte_clear(cpu, s.ptep); // unmap_vmap_area → vunmap_page_range, TLB left dirty
    // On TSO the step first waits for cpu0's store buffer: remove_vm_area() looks the area up
    // with find_vmap_area(), which takes spin_lock(&vmap_area_lock) (mm/vmalloc.c, 2.6.28) — a
    // locked cmpxchg that drains the buffer, vmap's set_pte_at included — before the flag is
    // set. (The lookup itself changes nothing here and is left out; the flag store then reaches
    // memory at once, where x86 would buffer it until the locked atomic_add just after.)
    yield* op(
      tso.lockedBy(cpu, mkStep(`free_unmap_vmap_area(${hex(s.addr)}): va->flags |= VM_LAZY_FREE`, [write(s.state.loc)], (say) => {
        s.state.set(LAZY);
        vunmapped.push({ addr: s.addr, frame: s.frame! });
        const pte = unaudited(() => m.init_mm.leaf(s.addr)); // for the note only
        say(`lazy: ${pte ? `pte ${s.ptep.name} still maps ${hex(s.addr)}→${fname(s.frame!)}` : 'pte cleared'}, no TLB flush`);
      })),
    );
    yield* atomic_add(cpu, vmap_lazy_nr, 1);
    // if (unlikely(atomic_read(&vmap_lazy_nr) > lazy_max_pages())) try_purge_vmap_area_lazy();
    if ((yield* atomic_read(cpu, vmap_lazy_nr)) > lazyMax) {
      if (fl.purge === 'rfc') yield* this.purge_vmap_area_lazy(cpu);
      else yield* this.__purge_vmap_area_lazy(cpu, false, false);
    }
  }

  /** purge_vmap_area_lazy(): the sync purge (alloc_vmap_area on overflow). */
  *purge_vmap_area_lazy(cpu: Cpu): Op<void> {
    yield* this.__purge_vmap_area_lazy(cpu, true, false);
  }

  /**
   * __purge_vmap_area_lazy(&start, &end, sync, force_flush), 2.6.28: under purge_lock (trylock
   * unless sync/force), collect VM_LAZY_FREE areas (clearing their ptes), flush the kernel range
   * on every CPU, then free the areas — the addresses become reusable only after the flush.
   * 'rfc': the RFC's version has no purge_lock, collects under vmap_area_lock and always
   * flushes (an empty range when it found nothing). 'free-before-flush': frees before flushing.
   * flush_tlb_kernel_range is the machine's ranged flush (on 2.6.28 x86 it was flush_tlb_all,
   * which would hide the RFC's defect; ranged flushes as on ia64, where the RFC was measured,
   * or on x86 since 3.6, do not). `range`: the [*start, *end) vm_unmap_aliases widened over the
   * dirty vmap_block ranges it found (with force_flush = 1).
   */
  *__purge_vmap_area_lazy(cpu: Cpu, sync: boolean, force: boolean, range: readonly [VirtAddr, VirtAddr] | null = null): Op<void> {
    const { fl, slots, vmap_lazy_nr, vmap_area_lock, purge_lock } = this;
    const rfc = fl.purge === 'rfc';
    if (rfc) yield* spin_lock(cpu, vmap_area_lock);
    else if (!sync && !force) {
      if (!(yield* spin_trylock(cpu, purge_lock))) return;
    } else yield* spin_lock(cpu, purge_lock);
    const valist: Slot[] = [];
    for (const s of slots) {
      // list_for_each_entry_rcu(va, &vmap_area_list, list) if (va->flags & VM_LAZY_FREE)
      const fp = () => (s.state.get() === LAZY ? [read(s.state.loc), write(s.state.loc)] : [read(s.state.loc)]);
      const lazy = yield* op(
        mkStep(`__purge_vmap_area_lazy: list walk, va ${hex(s.addr)}`, fp, (say) => {
          if (s.state.get() !== LAZY) {
            say(`${STATE_NAMES[s.state.get()]}: skip`);
            return false;
          }
          s.state.set(FREEING);
          say('VM_LAZY_FREE → VM_LAZY_FREEING, onto valist');
          return true;
        }),
      );
      if (!lazy) continue;
      valist.push(s);
      if (!fl.eagerClear) yield* pte_clear(cpu, s.ptep); // unmap_vmap_area (removed by 64141da58724)
    }
    if (rfc) yield* spin_unlock(cpu, vmap_area_lock);
    const nr = valist.length;
    if (nr) yield* atomic_sub(cpu, vmap_lazy_nr, nr);
    if (fl.purge === 'free-before-flush') yield* this.freeAreas(cpu, valist);
    if (nr || force || rfc) {
      // *start = min(*start, va->va_start); *end = max(*end, va->va_end)
      const starts = [...valist.map((s) => s.addr), ...(range ? [range[0]] : [])];
      const ends = [...valist.map((s) => va(s.addr + 4096)), ...(range ? [range[1]] : [])];
      if (starts.length) yield* cpu.flush_tlb_kernel_range(va(Math.min(...starts)), va(Math.max(...ends)));
      else yield* shootdown(cpu, { kind: 'range', start: va(0), end: va(0) }, 'all', 'flush_tlb_kernel_range(ULONG_MAX, 0) (empty range)');
    }
    if (fl.purge !== 'free-before-flush') yield* this.freeAreas(cpu, valist);
    if (!rfc) yield* spin_unlock(cpu, purge_lock);
  }

  /** spin_lock(&vmap_area_lock); __free_vmap_area(va) for each; spin_unlock. */
  *freeAreas(cpu: Cpu, valist: readonly Slot[]): Op<void> {
    const { vmap_area_lock, holders } = this;
    if (valist.length === 0) return;
    yield* spin_lock(cpu, vmap_area_lock);
    const label = `__free_vmap_area: rb_erase ${valist.map((s) => hex(s.addr)).join(', ')}`;
    yield* op(
      mkStep(label, valist.map((s) => write(s.state.loc)), (say) => {
        for (const s of valist) s.state.set(FREE);
        const cached = unaudited(() => valist.flatMap((s) => holders(s.addr))); // for the note only
        say(`address reusable${cached.length ? ` — still cached: ${cached.join('; ')}` : ''}`);
      }),
    );
    yield* spin_unlock(cpu, vmap_area_lock);
  }

  // ---- the per-cpu vmap_block front end (mm/vmalloc.c, db64fe02258f, 2.6.28) ----

  /**
   * vb_alloc(size = 1 page) on cpu0: rcu walk of this cpu's vbq->free; under vb->lock
   * bitmap_find_free_region(vb->alloc_map); if that used the block's last free page
   * (vb->free == 1UL << order) list_del_rcu it from vbq->free under vbq->lock. Nothing on the
   * list: new_vmap_block() and `goto again`.
   */
  *vb_alloc(cpu: Cpu, b: VmapBlock): Op<number> {
    for (;;) {
      const onList = yield* op(
        mkStep(`vb_alloc: list_for_each_entry_rcu(vb, &vbq->free) on ${cpu.name}`, [read(b.list.loc)], (say) => {
          const l = b.list.get();
          say(l === VB_ON_FREE_LIST ? `vmap_block ${hex(b.addr)} has free space` : l === VB_FULL ? 'no block with free space' : 'empty: no vmap_block yet');
          return l === VB_ON_FREE_LIST;
        }),
      );
      if (onList) {
        yield* spin_lock(cpu, b.lock);
        // vb->free is computed in the same vb->lock section as the bitmap search.
        // The step returns the page index * 2 + (block now full), -1 when none was free.
        const code = yield* op(
          mkStep(`vb_alloc: bitmap_find_free_region(vb->alloc_map) in ${hex(b.addr)}`, [read(b.alloc_map.loc), write(b.alloc_map.loc)], (say) => {
            const map = b.alloc_map.get();
            const idx = b.pages.findIndex((_, k) => (map & (1 << k)) === 0);
            if (idx < 0) {
              say('no free page');
              return -1;
            }
            b.alloc_map.set(map | (1 << idx));
            const left = b.pages.length - popcount(map | (1 << idx));
            say(`page ${idx}: ${hex(b.pages[idx]!.addr)}, vb->free = ${left}`);
            return idx * 2 + (left === 0 ? 1 : 0);
          }),
        );
        const i = code < 0 ? -1 : code >> 1;
        const full = code >= 0 && (code & 1) === 1;
        if (i >= 0 && full) {
          // if (vb->free == 1UL << order) list_del_rcu(&vb->free_list) under vbq->lock
          yield* spin_lock(cpu, b.vbqLock);
          yield* op(
            mkStep(`vb_alloc: list_del_rcu(&vb->free_list) ${hex(b.addr)}`, [write(b.list.loc)], (say) => {
              b.list.set(VB_FULL);
              // For the note only: the dirty map is outside this step's footprint.
              const dirty = unaudited(() => b.pages.filter((_, k) => b.dirty_map.get() & (1 << k)).map((x) => hex(x.addr)));
              say(`vb->free == 0: off vbq->free (still in vmap_block_tree)${dirty.length ? `; dirty: ${dirty.join(', ')}` : ''}`);
            }),
          );
          yield* spin_unlock(cpu, b.vbqLock);
        }
        yield* spin_unlock(cpu, b.lock);
        if (i >= 0) return i;
      }
      // new_vmap_block(): alloc_vmap_area(VMAP_BLOCK_SIZE) — the model's block has its own
      // range (pte page VB), so it never competes with the one-page slots — radix_tree_insert
      // into vmap_block_tree, then list_add_rcu(&vb->free_list, &vbq->free) under vbq->lock.
      yield* spin_lock(cpu, b.vbqLock);
      yield* op(
        mkStep(`new_vmap_block: ${hex(b.addr)}..${hex(va(b.addr + b.pages.length * 4096))}, list_add_rcu onto vbq->free`, [write(b.list.loc)], (say) => {
          if (b.list.get() !== VB_NONE) throw new Error('vmap: cpu0 used up its vmap_block (the model maps at most VMAP_BBMAP_BITS pages)');
          b.list.set(VB_ON_FREE_LIST);
          say(`vb->free = ${b.pages.length}, vb->dirty = 0`);
        }),
      );
      yield* spin_unlock(cpu, b.vbqLock);
    }
  }

  /** vm_map_ram(&page, 1): vb_alloc + vmap_page_range (set_pte_at). */
  *vm_map_ram(cpu: Cpu, b: VmapBlock, page: Pfn): Op<number> {
    const i = yield* this.vb_alloc(cpu, b);
    const x = b.pages[i]!;
    yield* set_pte(cpu, x.ptep, mk_pte(page, PAGE_KERNEL), `vm_map_ram: vmap_page_range(${hex(x.addr)}) set_pte_at`);
    b.frames[i] = page;
    return i;
  }

  /**
   * vm_unmap_ram(addr, 1) → vb_free (2.6.28): under vb->lock bitmap_allocate_region(vb->dirty_map)
   * and vb->dirty += 1. No pte clear, no flush (64141da58724: vb_free clears the pte first, the
   * TLB stays dirty). A whole block dirty would free_vmap_block(): not reached in the model.
   */
  *vm_unmap_ram(cpu: Cpu, b: VmapBlock, i: number): Op<void> {
    const { fl, m, vunmapped, fname } = this;
    const x = b.pages[i]!;
    if (fl.eagerClear) yield* pte_clear(cpu, x.ptep); // vb_free: vunmap_page_range(addr, addr + size)
    yield* spin_lock(cpu, b.lock);
    yield* op(
      mkStep(`vb_free(${hex(x.addr)}): bitmap_allocate_region(vb->dirty_map)`, [read(b.dirty_map.loc), write(b.dirty_map.loc)], (say) => {
        b.dirty_map.set(b.dirty_map.get() | (1 << i));
        vunmapped.push({ addr: x.addr, frame: b.frames[i]! });
        const dirty = popcount(b.dirty_map.get());
        if (dirty === b.pages.length) throw new Error('vmap: whole vmap_block dirty — free_vmap_block is not modelled');
        const pte = unaudited(() => m.init_mm.leaf(x.addr)); // for the note only
        say(`vb->dirty = ${dirty}; lazy: ${pte ? `pte ${x.ptep.name} still maps ${hex(x.addr)}→${fname(b.frames[i]!)}` : 'pte cleared'}, no TLB flush`);
      }),
    );
    yield* spin_unlock(cpu, b.lock);
  }

  /**
   * vm_unmap_aliases(), the vmap_block part: for_each_possible_cpu, rcu walk of the cpu's blocks
   * — vbq->free only (2.6.28 .. v6.4), or every block (fc1e0d980037, v6.5) — and under vb->lock,
   * for each dirty run [s, e): vunmap_page_range(s, e) (2.6.28; gone with 64141da58724), widen
   * [start, end), flush = 1. Only cpu0 has a block in the model (cpu1's queue is empty).
   */
  *vbFlushDirty(cpu: Cpu, b: VmapBlock): Op<[VirtAddr, VirtAddr] | null> {
    const { fl } = this;
    const freeListOnly = fl.vbWalk === 'free-list';
    const visit = yield* op(
      mkStep(`vm_unmap_aliases: rcu walk cpu0's ${freeListOnly ? 'vbq->free' : 'vmap_blocks'}`, [read(b.list.loc)], (say) => {
        const l = b.list.get();
        if (l === VB_NONE) {
          say('no vmap_block');
          return false;
        }
        if (l === VB_FULL && freeListOnly) {
          const dirty = unaudited(() => b.pages.filter((_, k) => b.dirty_map.get() & (1 << k)).map((x) => hex(x.addr))); // note only
          say(`vmap_block ${hex(b.addr)} is full (vb->free == 0): not on vbq->free, skipped${dirty.length ? ` — its dirty ${dirty.join(', ')} not flushed` : ''}`);
          return false;
        }
        say(`vmap_block ${hex(b.addr)}${l === VB_FULL ? ' (full)' : ''}`);
        return true;
      }),
    );
    if (!visit) return null;
    yield* spin_lock(cpu, b.lock);
    // The step returns the dirty map (a number); the thread lists its pages.
    const dirtyMap = yield* op(
      mkStep(`vm_unmap_aliases: find_first_bit(vb->dirty_map) in ${hex(b.addr)}`, [read(b.dirty_map.loc)], (say) => {
        const d = b.pages.map((_, k) => k).filter((k) => b.dirty_map.get() & (1 << k));
        say(d.length ? `dirty: ${d.map((k) => hex(b.pages[k]!.addr)).join(', ')}` : 'nothing dirty');
        return b.dirty_map.get();
      }),
    );
    const dirty = b.pages.map((_, k) => k).filter((k) => dirtyMap & (1 << k));
    for (const k of dirty) if (!fl.eagerClear) yield* pte_clear(cpu, b.pages[k]!.ptep); // vunmap_page_range(s, e)
    yield* spin_unlock(cpu, b.lock);
    if (dirty.length === 0) return null;
    return [b.pages[dirty[0]!]!.addr, va(b.pages[dirty[dirty.length - 1]!]!.addr + 4096)];
  }

  /**
   * vm_unmap_aliases(): walk every CPU's vmap_block_queue for dirty ranges (none unless
   * `vmRam`: otherwise the model's vmaps take the vmap_area path), then __purge_vmap_area_lazy(&start, &end, 1, flush) — sync,
   * so a purge already in flight on another CPU finishes first. The last step checks the promise.
   */
  *vm_unmap_aliases(cpu: Cpu): Op<void> {
    const { fl, m, slots, vb, ptepOf, vuaGhost, vunmapped, st, fname, tlbReads } = this;
    const label = vb ? 'vm_unmap_aliases' : "vm_unmap_aliases: walk each cpu's vmap_block_queue (no vmap_blocks)";
    const beforeFp = [...slots.map((s) => read(s.state.loc)), ...(vb ? [read(vb.dirty_map.loc)] : [])];
    const before = yield* op(
      mkStep(label, beforeFp, (say) => {
        say(vunmapped.length ? `vunmapped so far: ${vunmapped.map((x) => `${hex(x.addr)}→${fname(x.frame)}`).join(', ')}` : 'nothing vunmapped yet');
        return vunmapped.length;
      }),
    );
    // The step returns how many pages were vunmapped then (a number a state restore can feed
    // back); the list only grows, so its first `seen` records are those pages, read by later
    // steps only (after a restore has put the list back).
    const seen = before;
    const vunmappedBefore = () => vunmapped.slice(0, seen);
    const range = vb ? yield* this.vbFlushDirty(cpu, vb) : null;
    if (range) yield* this.__purge_vmap_area_lazy(cpu, true, true, range); // (&start, &end, 1, flush)
    else if (fl.purge === 'rfc') yield* this.purge_vmap_area_lazy(cpu);
    else yield* this.__purge_vmap_area_lazy(cpu, true, false);
    const left = () => vunmappedBefore().flatMap((x) => mappingsAt(st, x.addr, x.frame, () => true));
    const fp = () => {
      const acc = vunmappedBefore().flatMap((x) => [read(m.init_mm.pmdp(x.addr).loc), read(ptepOf.get(x.addr)!.loc), ...tlbReads(x.addr)]);
      if (left().length > 0) acc.push(write(vuaGhost.loc));
      return acc;
    };
    yield* op(
      mkStep('vm_unmap_aliases returns', fp, (say) => {
        const l = left();
        if (l.length > 0) {
          st.vuaViolation = `vm_unmap_aliases returned on ${cpu.name} but a page vunmapped before the call is still mapped: ${l.join('; ')}`;
          vuaGhost.set(1);
        }
        say(l.length ? `still mapped: ${l.join('; ')}` : 'no alias left');
      }),
    );
  }

  // ---- the threads ----

  /** cpu0: a vm_map_ram user (NFS readdir, XFS buffers) that frees its page after vunmap. */
  *vmapUser(): Op<void> {
    const { p, m, mem, A, C, vb } = this;
    const cpu = m.cpu(0);
    if (vb) {
      // vmRam: NFS readdir / XFS buffers really use vm_map_ram(pages, count, node, prot).
      const i = yield* this.vm_map_ram(cpu, vb, A);
      yield* cpu.store(vb.pages[i]!.addr, 1); // the TLB caches the alias RW
      yield* this.vm_unmap_ram(cpu, vb, i);
      yield* mem.free_page(cpu, A);
      if (p.nextVmap) yield* this.vm_map_ram(cpu, vb, C); // the next buffer: takes the block's last free page
      return;
    }
    const a = yield* this.vmap(cpu, A);
    if (!a) return;
    yield* cpu.store(a.addr, 1); // touch the buffer: the TLB caches the alias RW
    yield* this.vunmap(cpu, a);
    yield* mem.free_page(cpu, A); // __vunmap(addr, 1) / vfree: __free_page right after the lazy unmap
    if (p.nextVmap) yield* this.vmap(cpu, C); // the next buffer: with one slot, alloc_vmap_area purges (or reuses)
  }

  /** cpu1: pte_alloc_one() + xen_alloc_ptpage(mm, pfn, PT_PTE) on a pinned mm (or set_memory_uc). */
  *pagetableOwner(): Op<void> {
    const { fl, p, m, mem, names, directPte, pinned, st, fname } = this;
    const cpu = m.cpu(1);
    const P = yield* mem.get_zeroed_page(cpu); // alloc_page(GFP_KERNEL|__GFP_ZERO): lowest free frame
    if (P === null) return;
    mem.name(P, names.get(P) ?? `pfn${P}`); // keep the frame's name in notes
    const dmPte = directPte.get(P);
    if (p.pat) {
      // set_memory_uc(__va(P), 1) → change_page_attr_set_clr(): vm_unmap_aliases() first (2.6.28).
      if (!dmPte) return; // highmem: no direct-map address to change
      if (fl.unmapAliases !== 'never') yield* this.vm_unmap_aliases(cpu);
      const old = yield* this.readPte(cpu, dmPte, 'change_page_attr: __change_page_attr: old_pte = *kpte');
      yield* set_pte(cpu, dmPte, pte_set_cachetype(old, 'UC'), 'change_page_attr: __change_page_attr');
      yield* cpu.flush_tlb_all(); // cpa_flush_all (the cache flush is not modelled)
      return;
    }
    // xen_alloc_ptpage(): Jeremy's fix calls vm_unmap_aliases() before the PageHighMem() test.
    if (fl.unmapAliases === 'always') yield* this.vm_unmap_aliases(cpu);
    if (dmPte) {
      // make_lowmem_page_readonly(__va(pfn)): HYPERVISOR_update_va_mapping(va, pte_wrprotect(pte), 0)
      const old = yield* this.readPte(cpu, dmPte, 'make_lowmem_page_readonly: ptev = *lookup_address(__va(pfn))');
      yield* set_pte(cpu, dmPte, pte_wrprotect(old), 'make_lowmem_page_readonly: update_va_mapping');
    } else if (fl.unmapAliases === 'highmem-only') {
      yield* this.vm_unmap_aliases(cpu); // kmap_flush_unused(); vm_unmap_aliases(); — highmem only
    }
    const pin = pinned.get(P)!;
    // The pin hypercall: Xen validates the page's type with locked updates of its type count
    // (get_page_type, a cmpxchg loop) on this CPU, so on TSO this CPU's buffered stores — the
    // write-protect above — have reached memory first (tso.lockedBy).
    yield* op(
      tso.lockedBy(cpu, mkStep(`pin_pagetable_pfn(MMUEXT_PIN_L1_TABLE, ${fname(P)})`, [write(pin.loc)], (say) => {
        pin.set(1);
        const rw = unaudited(() => mappingsOf(st, P, (w) => w)); // for the note; the invariant checks it
        say(`Xen pins ${fname(P)} as an L1 table${rw.length ? ` — writable: ${rw.join('; ')}` : ''}`);
      })),
    );
  }
}

function build(variant: string, p: Readonly<Record<string, number>>): Program {
  const fl = FLAVOURS[variant];
  if (!fl) throw new Error(`vmap: no variant ${variant}`);
  const k = new VmapKernel(fl, p);
  const { m, slots, vb, vunmapped, st, fname } = k;
  return {
    threads: [
      { name: 'cpu0', body: () => k.vmapUser() },
      { name: 'cpu1', body: () => k.pagetableOwner() },
      ...m.actors(),
    ],
    invariants: vmapInvariants(st),
    // Besides the machine: the frame each slot and block page last mapped (set by cpu0's code),
    // the ghost list of vunmaps and the violation messages (set by steps).
    state: programState(
      m,
      modelState(
        () => ({ slots: slots.map((x) => x.frame), vb: vb ? vb.frames.slice() : [], vunmapped: vunmapped.slice(), reuse: st.reuseViolation, vua: st.vuaViolation }),
        (x) => {
          slots.forEach((sl, i) => (sl.frame = x.slots[i] ?? null));
          if (vb) x.vb.forEach((f, i) => (vb!.frames[i] = f ?? null));
          refill(vunmapped, x.vunmapped);
          st.reuseViolation = x.reuse;
          st.vuaViolation = x.vua;
        },
        (x) =>
          x.reuse === st.reuseViolation && x.vua === st.vuaViolation && sameList(x.vunmapped, vunmapped) &&
          slots.every((sl, i) => x.slots[i] === sl.frame) && (!vb || sameList(x.vb, vb.frames)),
      ),
    ),
    // Its threads' steps and labels follow from the results they receive (frames keep their
    // names: cpu1 names the frame it allocates right after the step); what their code writes
    // between steps (a slot's frame, that name) is bookkeeping the engine sees change.
    pureThreads: true,
    finalState: () => m.finalState(),
    snapshot: () => ({
      ...m.snapshot(),
      vmap_areas: slots.map((s) => `${hex(s.addr)} ${STATE_NAMES[s.state.get()]}${s.frame !== null && s.state.get() !== FREE ? ` (${fname(s.frame)})` : ''}`),
      ...(vb ? { vmap_block: vbDescribe(vb) } : {}),
    }),
  };
}

function popcount(x: number): number {
  let n = 0;
  for (let y = x; y; y &= y - 1) n++;
  return n;
}

function vbDescribe(b: VmapBlock): string {
  const l = b.list.get();
  if (l === VB_NONE) return 'none';
  const bits = (v: Var) => b.pages.map((_, k) => ((v.get() >> k) & 1 ? '1' : '0')).join('');
  return `${hex(b.addr)} ${l === VB_FULL ? 'full (off vbq->free)' : 'on vbq->free'} alloc_map ${bits(b.alloc_map)} dirty_map ${bits(b.dirty_map)}`;
}

export const vmap = defineModel({
  name: 'vmap',
  title: 'Lazy vmap TLB flushing, vm_unmap_aliases and Xen page-table pinning',
  source:
    'mm/vmalloc.c vmap rewrite db64fe02258f (2.6.28; RFC linux-mm 5 Jun 2008); Xen xen_alloc_ptpage and ' +
    '"xen: make sure stray alias mappings are gone before pinning" (28 Oct 2008); 64141da58724 (2.6.37); ' +
    'vmap_block: "mm/vmalloc: prevent stale TLBs in fully utilized blocks" fc1e0d980037 (v6.5)',
  params: {
    slots: { default: 1, min: 1, max: 4, description: 'one-page vmap_areas in the vmalloc range (1: the second vmap must purge or reuse)' },
    lazyMax: { default: 1, min: 0, max: 4, description: 'lazy_max_pages(): vunmap purges when more pages than this are lazy' },
    nextVmap: { default: 1, min: 0, max: 1, description: '1: cpu0 vmaps a second buffer (C) after freeing A — the reuse and the concurrent purge' },
    pat: { default: 0, min: 0, max: 1, description: '1: cpu1 calls set_memory_uc (PAT/CPA) instead of pinning for Xen' },
    vmRam: {
      default: 0,
      min: 0,
      max: 1,
      description: "1: cpu0 uses vm_map_ram/vm_unmap_ram (the per-cpu vmap_block front end, 2 pages per block) instead of vmap/vunmap (variant vb-full-block-skipped sets it)",
    },
  },
  variants: [
    { name: 'fixed', description: '2.6.28 lazy vunmap (ptes left in place); Xen calls vm_unmap_aliases before every pin', expect: 'holds' },
    {
      name: 'highmem-only-unmap-aliases',
      description: 'the original xen_alloc_ptpage: vm_unmap_aliases only for highmem, so a lowmem page keeps its writable lazy vmalloc alias when pinned',
      expect: { violates: 'no-stale-alias-on-pinned-pagetable' },
    },
    { name: 'no-unmap-aliases', description: 'no vm_unmap_aliases at all before pinning (nor before CPA)', expect: { violates: 'no-stale-alias-on-pinned-pagetable' } },
    {
      name: 'reuse-before-flush',
      description: '__purge_vmap_area_lazy frees the areas before flush_tlb_kernel_range: an address is handed out while a CPU still caches its old mapping',
      expect: { violates: 'no-reuse-before-flush' },
    },
    {
      name: 'rfc-no-purge-lock',
      description: "the RFC's purge without purge_lock: vm_unmap_aliases finds nothing lazy (another CPU's purge collected it) and returns before that purge's flush",
      expect: { violates: 'no-alias-after-vm-unmap-aliases' },
    },
    { name: 'eager-clear', description: '64141da58724 (2.6.37): vunmap clears the pte at once, the TLB flush stays lazy; Xen calls vm_unmap_aliases', expect: 'holds' },
    {
      name: 'eager-clear-no-unmap-aliases',
      description: '64141da58724 without vm_unmap_aliases: no pte alias, but a CPU keeps a writable TLB entry (real Xen flushes TLBs itself on the type change; the model demands it of the guest)',
      expect: { violates: 'no-stale-alias-on-pinned-pagetable' },
    },
    {
      name: 'vb-full-block-skipped',
      description:
        'vm_map_ram (vmRam forced): vm_unmap_aliases walks only vbq->free, so the dirty range of a fully used vmap_block keeps its RW pte and TLB alias (fixed in v6.5, fc1e0d980037)',
      expect: { violates: 'no-alias-after-vm-unmap-aliases' },
    },
  ],
  invariants: [
    { name: 'no-stale-alias-on-pinned-pagetable', description: 'a pinned page-table page has no writable mapping: no RW pte and no RW TLB entry on any CPU' },
    { name: 'no-reuse-before-flush', description: 'a vmalloc address is handed out again only after a flush covering its old mapping completed on every CPU' },
    { name: 'no-alias-after-vm-unmap-aliases', description: 'after vm_unmap_aliases returns, nothing maps a page that was vunmapped before the call' },
    { name: 'no-cache-type-alias', description: 'no frame has two live mappings (ptes or TLB entries) with different cache types' },
  ],
  build,
});

export default vmap;
