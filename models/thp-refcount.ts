// THP refcounts: get_page/put_page on a tail page against __split_huge_page_refcount
// (MODELS.md §5; notes in /tmp/research/thp.md; thread: Andrea Arcangeli to Christoph Lameter,
// linux-mm, 17 Mar 2010: "put_page has to serialize against split_huge_page_refcount and it
// uses the 'compound_lock' per-head-page bit spinlock to achieve it").
//
// One anonymous compound page (head H, tails T1..Tn) mapped by one pmd (M = 1). Threads:
// - cpu0, the split's caller (2.6.38 `__split_huge_page_pmd`: get_page(head) — taken before the
//   run —, split_huge_page(head), then optionally put_page(head));
// - cpu1.. pin a tail with get_user_pages_fast (irqs off: the split's TLB-flush IPI waits for it)
//   and release it with put_page;
// - optionally one more CPU doing a speculative get_page_unless_zero + put_page on a pfn
//   (compaction, memory-failure, an RCU page-cache lookup).
// The ledger of references held (properties/thp-refcount.ts) is updated right after the count
// step that takes or drops each reference, i.e. atomically with it, and only after steps that
// write a watched location (a _count or a tail's flags), so DPOR never hides a state it could see.
//
// Variants: `no-compound-lock` (put_compound_page with compound_lock and its PageTail recheck
// taken out: drop the head, then the tail), `compound-lock` (2.6.38), `refcount-v2` (4.5+, with
// the Feb 2018 clear-before-unfreeze order), `v2-unfreeze-before-clear` (v2 as merged in 4.5).
// Simplifications, each harmless to the counts: v2's unmap_page turns the pmd itself into a
// migration entry and -EBUSY restores the pmd (4.x first splits the pmd into migration ptes);
// v2's gup_pte_range skips its pte recheck (the pte never changes after the split here); the
// slow gup path is only its wait for the split (wait_split_huge_page / pmd_migration_entry_wait)
// followed by a retry of the fast path.
import type { Program, Step, ThreadBody, ThreadSpec } from '../src/engine/types.js';
import { type Expectation, type Params, defineModel } from '../src/model.js';
import {
  type Cpu, type Page, type Pfn, type PtePtr, Machine, PAGE_SHARED, PG_locked, __pte, atomic_add, atomic_add_unless,
  atomic_dec, atomic_inc, atomic_set, atomic_sub, ClearPageHead, ClearPageTail, cmpxchg, compound_head, compound_lock,
  compound_lock_irqsave, compound_unlock, compound_unlock_irqrestore, describePte, get_page_unless_zero, mkStep, modelState, op, programState,
  page_count, page_mapcount, PageTail, pfn_pte, pgprot, pmd_large, pmd_populate, pmd_present, pte_clrpresent,
  type pte_t, pte_pfn, pte_present, put_page_testzero, set_pte, spin_lock, spin_lock_irq, spin_lock_irqsave, spin_unlock,
  spin_unlock_irq, spin_unlock_irqrestore, type spinlock_t, tso, unlock_page, va, type VirtAddr, within as machineWithin,
} from '../src/machine/index.js';
import { RefLedger, thpRefcountInvariants } from '../properties/thp-refcount.js';

type Op<T> = Generator<Step, T, unknown>;

/** How the variant's kernel code behaves. */
interface Flavour {
  /** put_page on a tail: 'none' = head then tail, unserialised; '2.6.38' = put_compound_page;
   * '3.2' = put_compound_page with tail pins in the tail's _mapcount; 'v2' = head only. */
  readonly put: 'none' | '2.6.38' | '3.2' | 'v2';
  /** v2 before Feb 2018: __split_huge_page_tail unfreezes the tail (page_ref_inc) before clear_compound_head. */
  readonly unfreezeFirst?: boolean;
  /** The variant brings a speculative getter (the `speculative` value used when the parameter is 0). */
  readonly speculative?: number;
}
const FLAVOURS: Record<string, Flavour> = {
  'no-compound-lock': { put: 'none' },
  'compound-lock': { put: '2.6.38' },
  'tail-mapcount': { put: '3.2' },
  'refcount-v2': { put: 'v2' },
  'v2-unfreeze-before-clear': { put: 'v2', unfreezeFirst: true, speculative: 2 },
};

/** x86 _PAGE_BIT_SPLITTING = _PAGE_BIT_UNUSED1 (2.6.38 arch/x86/include/asm/pgtable_types.h). */
const _PAGE_SPLITTING = 1 << 9;
const pmd_trans_splitting = (v: number): boolean => (v & _PAGE_SPLITTING) !== 0;

/** Prefix the labels of `g`'s steps with the kernel function they belong to (innermost wins). */
const within = <T,>(fn: string, g: Op<T>): Op<T> => machineWithin(fn, g, true);

/**
 * One build's kernel: the machine, the compound page and the ledger as fields, the kernel
 * functions as generator methods. Methods, not `function*`s nested in build(): V8 gives every
 * fresh generator closure a new map and prototype on its first call (µs each, and pinning the
 * build through scavenges), which a per-execution build() would pay for every operation.
 */
class ThpKernel {
  readonly v2: boolean;
  /** 3.2 (Andrea Arcangeli, "mm: thp: tail page refcounting fix", Nov 2011): a pin on a tail is
   * counted in the tail's _mapcount and on the head; the tail's _count stays 0 until the split,
   * so a speculative get_page_unless_zero on a tail fails instead of taking an uncounted ref. */
  readonly tailMapcount: boolean;
  readonly tails: number;
  readonly pinners: number;
  readonly speculative: number;
  readonly m: Machine;
  readonly names: string[];
  readonly frames: Pfn[];
  readonly pages: Page[];
  readonly H: Page;
  /** The pte page deposited at fault time (get_pmd_huge_pte). */
  readonly PT: Pfn;
  readonly pmdp: PtePtr;
  readonly hugePmd: number;
  readonly g: RefLedger;
  readonly anonVma: spinlock_t;
  readonly ptl: spinlock_t;
  readonly lru: spinlock_t;
  /** What each CPU's code did, in its own order (final states and snapshots). */
  readonly trail: Record<string, string[]> = {};
  /** Bumped by every change to `trail`; `savedTrail`: its value when the last copy was made or
   * put back. The save asks at every step whether the trail changed: a number, not a sort of it.
   * So `did` (and the restore in build) must stay the only writers of `trail`: a change made any
   * other way would be saved as the last copy, and the state cache would merge distinct states. */
  trailVersion = 0;
  savedTrail = -1;
  readonly splitter: Cpu;
  readonly S: string;
  readonly largeEnd: VirtAddr;

  constructor(readonly f: Flavour, readonly p: Params) {
    const v2 = (this.v2 = f.put === 'v2');
    const tailMapcount = (this.tailMapcount = f.put === '3.2');
    const { tails, pinners } = p as { tails: number; pinners: number };
    this.tails = tails;
    this.pinners = pinners;
    const speculative = (this.speculative = p.speculative || (f.speculative ?? 0));
    const m = (this.m = new Machine({ cpus: 1 + pinners + (speculative ? 1 : 0), frames: 8, ptesPerTable: tails + 1 }));

    // ---- setup: one anonymous THP mapped by one pmd, as do_huge_pmd_anonymous_page leaves it ----
    const names = (this.names = ['H', ...Array.from({ length: tails }, (_, i) => `T${i + 1}`)]);
    const frames = (this.frames = names.map((n) => m.memory.allocFrame(n, 'data')));
    m.pages.prep_compound_page(frames[0]!, tails + 1);
    const pages = (this.pages = frames.map((x) => m.page(x)));
    const H = (this.H = pages[0]!);
    this.PT = m.memory.allocFrame('PT', 'pte');
    this.pmdp = m.init_mm.mapLarge(va(0), frames[0]!, PAGE_SHARED);
    this.hugePmd = this.pmdp.get();
    // 3.2 counts like v2 (tails' _count 0 while compound) but keeps 2.6.38's split and its BUG_ON.
    // On TSO a count may sit in the splitter's store buffer (atomic_set, page_ref_unfreeze): the
    // invariants read it as it will be once the buffers drain.
    const g = (this.g = new RefLedger(pages, names, v2 || tailMapcount ? 'head-only' : 'tail-and-head', !v2, m.memoryModel === 'tso' ? m.cpus : []));
    H._mapcount.set(0); // one pmd mapping: page_mapcount(head) = 1
    H._count.set(2);
    g.add(H, 'map');
    g.add(H, 'caller'); // __split_huge_page_pmd: get_page(page) under page_table_lock
    if (v2) H.flags.set(H.flags.get() | (1 << PG_locked)); // split_huge_page_to_list: the caller holds lock_page(head)
    this.anonVma = m.spinlock('anon_vma');
    this.ptl = m.spinlock('page_table_lock');
    this.lru = m.spinlock('lru_lock');
    if (!p.gup) {
      // Pins taken before the run (get_page on a tail: 2.6.38 counts it on both, v2 on the head).
      for (let k = 1; k <= pinners; k++) {
        const t = this.tailOf(k);
        if (tailMapcount) t._mapcount.set(t._mapcount.get() + 1);
        else if (!v2) t._count.set(t._count.get() + 1);
        H._count.set(H._count.get() + 1);
        g.add(t, `cpu${k} pin`);
      }
    }
    this.splitter = m.cpu(0);
    this.S = this.splitter.name;
    this.largeEnd = va(m.geo.largePageSize);
  }

  tailOf(k: number): Page {
    return this.pages[1 + ((k - 1) % this.tails)]!;
  }
  ptep(i: number): PtePtr {
    return this.m.init_mm.pte_offset(this.PT, this.m.geo.addr(0, i));
  }
  showPmd(v: number): string {
    return `${describePte(v, (x) => this.m.memory.frameName(x))}${pmd_trans_splitting(v) ? ' SPLITTING' : ''}`;
  }
  /** READ_ONCE(*entry) on `cpu`, with the entry decoded in the note (on TSO it forwards from the
   * CPU's own store buffer). */
  read_entry(cpu: Cpu, what: string, e: PtePtr): Op<pte_t> {
    const label = `${what} (${e.name})`;
    if (cpu.sb !== undefined) return op(tso.forwardedLoad(cpu.sb, label, e, (v) => ({ result: v as pte_t, note: this.showPmd(v) })));
    return op(mkStep(label, e.readAccesses(), (say) => {
      const v = e.get() as pte_t;
      say(this.showPmd(v));
      return v;
    }));
  }
  read_pmd(cpu: Cpu, what: string): Op<pte_t> {
    return this.read_entry(cpu, `${what} = *pmdp`, this.pmdp);
  }

  // ---- put_page (mm/swap.c) ----
  did(cpu: Cpu, what: string): void {
    this.trailVersion++;
    (this.trail[cpu.name] ??= []).push(what);
  }
  /** Bookkeeping after a step that may end an operation. */
  done(cpu: Cpu, end: boolean, pg: Page, zero: boolean): void {
    const { g } = this;
    if (zero) g.noteFreed(`${g.names[g.index(pg)]} (by ${cpu.name})`);
    if (end) g.busy.delete(cpu.name);
  }
  put_page(cpu: Cpu, pg: Page, who: string, end = true): Op<void> {
    return within('put_page', this.put_page_body(cpu, pg, who, end));
  }
  *put_page_body(cpu: Cpu, pg: Page, who: string, end: boolean): Op<void> {
    const { m, f, g } = this;
    // put_page(): if PageCompound → put_compound_page(): if (unlikely(PageTail(page))) page_head = page->first_page …
    const head = yield* compound_head(cpu, pg, m.pages);
    if (head === pg || f.put === 'v2') {
      // Not a tail, or v2 (4.5 put_page: page = compound_head(page); if (put_page_testzero(page)) __put_page(page)).
      const z = yield* put_page_testzero(cpu, head);
      g.drop(pg, who);
      this.did(cpu, head === pg ? `put ${g.names[g.index(pg)]}` : `put ${g.names[g.index(pg)]} on the head`);
      return this.done(cpu, end, head, z);
    }
    if (f.put === 'none') yield* within('put_compound_page (no compound_lock)', this.put_tail_unlocked(cpu, pg, head, who, end));
    else yield* within('put_compound_page', this.put_compound_page(cpu, pg, head, who, end));
  }
  /** Nothing orders this against the split: drop the head's share, then the tail's. */
  *put_tail_unlocked(cpu: Cpu, pg: Page, head: Page, who: string, end: boolean): Op<void> {
    const { g } = this;
    const zh = yield* put_page_testzero(cpu, head);
    g.drop(pg, who);
    g.busy.add(cpu.name);
    if (zh) g.noteFreed(`H (by ${cpu.name})`);
    const z = yield* put_page_testzero(cpu, pg);
    this.did(cpu, 'put tail, unlocked');
    return this.done(cpu, end, pg, z);
  }
  /** 2.6.38 mm/swap.c put_compound_page(), tail branch: "__split_huge_page_refcount can run under us". */
  *put_compound_page(cpu: Cpu, pg: Page, head: Page, who: string, end: boolean): Op<void> {
    const { g, tailMapcount } = this;
    // smp_rmb(); if (likely(PageTail(page) && get_page_unless_zero(page_head))) — a speculative head ref
    const got = (yield* PageTail(cpu, pg)) && (yield* get_page_unless_zero(cpu, head));
    if (!got) {
      // "page_head is a dangling pointer" / the split already ran: out_put_single.
      const z = yield* put_page_testzero(cpu, pg);
      g.drop(pg, who);
      this.did(cpu, 'put tail: no longer a tail');
      return this.done(cpu, end, pg, z);
    }
    const mine = `${cpu.name} head ref`;
    g.drop(pg, who);
    g.add(head, mine);
    g.busy.add(cpu.name);
    const flags = yield* compound_lock_irqsave(cpu, head);
    if (!(yield* PageTail(cpu, pg))) {
      // "__split_huge_page_refcount run before us": unlock, out_put_head, out_put_single.
      yield* compound_unlock_irqrestore(cpu, head, flags);
      yield* put_page_testzero(cpu, head);
      g.drop(head, mine);
      const z = yield* put_page_testzero(cpu, pg);
      this.did(cpu, 'put tail: split ran first');
      return this.done(cpu, end, pg, z);
    }
    yield* put_page_testzero(cpu, head); // "if (put_page_testzero(page_head)) VM_BUG_ON(1)": the speculative ref
    g.drop(head, mine);
    // "__split_huge_page_refcount will wait now": the pin itself (3.2: in the tail's _mapcount)
    yield* atomic_dec(cpu, tailMapcount ? pg._mapcount : pg._count);
    yield* compound_unlock_irqrestore(cpu, head, flags);
    const z = yield* put_page_testzero(cpu, head); // the real head put, after unlocking
    this.did(cpu, 'put tail under compound_lock');
    return this.done(cpu, end, head, z);
  }

  // ---- get_user_pages_fast (2.6.38 arch/x86/mm/gup.c; v2: 4.5 mm/gup.c) ----
  /** gup_pmd_range for one address, interrupts off; true when a pin was taken. */
  *gup_pmd_range(cpu: Cpu, pg: Page, who: string): Op<false | 'pmd' | 'pte'> {
    const pmd = yield* this.read_pmd(cpu, 'pmd');
    // 2.6.38: "if (pmd_none(pmd) || pmd_trans_splitting(pmd)) return 0;" — why pmdp_splitting_flush
    // has to flush the TLB: its IPI waits for this irq-off section.
    if (!pmd_present(pmd) || (!this.v2 && pmd_trans_splitting(pmd))) return false;
    if (pmd_large(pmd)) return (yield* within('gup_huge_pmd', this.gup_huge_pmd(cpu, pg, who, pmd))) && 'pmd';
    return (yield* within('gup_pte_range', this.gup_pte_range(cpu, pg, who, pmd))) && 'pte';
  }
  *gup_huge_pmd(cpu: Cpu, pg: Page, who: string, pmd: pte_t): Op<boolean> {
    const { g, H, tailMapcount } = this;
    if (this.v2) {
      // page_cache_add_speculative(head, refs), then "if (unlikely(pmd_val(orig) != pmd_val(*pmdp)))" undo.
      if (!(yield* atomic_add_unless(cpu, H._count, 1, 0))) return false;
      g.add(pg, who);
      if ((yield* this.read_pmd(cpu, 'recheck pmd')) === pmd) return true;
      const z = yield* put_page_testzero(cpu, H);
      g.drop(pg, who);
      this.done(cpu, false, H, z);
      return false;
    }
    // if (PageTail(page)) get_huge_page_tail(page); … get_head_page_multiple(head, refs);
    // (3.2 get_huge_page_tail: atomic_inc(&page->_mapcount), _count stays 0)
    if (yield* PageTail(cpu, pg)) {
      yield* atomic_inc(cpu, tailMapcount ? pg._mapcount : pg._count);
      g.busy.add(cpu.name);
    }
    yield* atomic_add(cpu, H._count, 1);
    g.add(pg, who);
    g.busy.delete(cpu.name);
    return true;
  }
  *gup_pte_range(cpu: Cpu, pg: Page, who: string, pmd: pte_t): Op<boolean> {
    const { m, g } = this;
    const pte = yield* this.read_entry(cpu, 'pte = *ptep', m.init_mm.pte_offset(pte_pfn(pmd), m.geo.addr(0, g.index(pg))));
    if (!pte_present(pte)) return false;
    const page = m.page(pte_pfn(pte));
    if (this.v2) {
      const head = yield* compound_head(cpu, page, m.pages); // page_cache_get_speculative(compound_head(page))
      if (!(yield* atomic_add_unless(cpu, head._count, 1, 0))) return false;
      g.add(page, who);
      return true; // this pte never changes again in the model: its recheck is left out
    }
    yield* atomic_inc(cpu, page._count); // get_page(): atomic_inc(&page->_count); PageTail(page) is clear by now
    g.add(page, who);
    return true;
  }
  *get_user_pages_fast(cpu: Cpu, pg: Page, who: string): Op<void> {
    for (;;) {
      yield* cpu.local_irq_disable();
      const ok = yield* this.gup_pmd_range(cpu, pg, who);
      yield* cpu.local_irq_enable();
      this.did(cpu, ok ? `gup via ${ok}` : 'gup_fast failed');
      if (ok) return;
      // Slow path: get_user_pages → follow_page finds the split in progress and waits for it.
      if (this.v2) yield* within('pmd_migration_entry_wait', this.wait_on_page_locked(this.H));
      else yield* within('wait_split_huge_page', this.anon_vma_lock_unlock(cpu));
    }
  }
  /** wait_split_huge_page(anon_vma, pmd): anon_vma_lock(); anon_vma_unlock(); */
  *anon_vma_lock_unlock(cpu: Cpu): Op<void> {
    yield* spin_lock(cpu, this.anonVma);
    yield* spin_unlock(cpu, this.anonVma);
  }
  /** Not in the machine: sleep until PG_locked is clear (one step, enabled once it is). */
  *wait_on_page_locked(pg: Page): Op<void> {
    yield* op(mkStep(`wait_on_page_locked(${pg.label})`, [...pg.flags.readAccesses()], (say) => say('page unlocked'), () => !pg.hasFlag(PG_locked)));
  }

  // ---- the splitter, 2.6.38 mm/huge_memory.c split_huge_page → __split_huge_page ----
  *__split_huge_page_splitting(): Op<void> {
    const { splitter, ptl, pmdp } = this;
    yield* spin_lock(splitter, ptl);
    // pmdp_splitting_flush: set_bit(_PAGE_BIT_SPLITTING, pmdp); flush_tlb_range(…) — the IPI
    // cannot be taken while a gup_fast runs with interrupts off.
    // set_bit is `lock bts`: on TSO it waits for the splitter's store buffer (tso.lockedBy).
    yield* op(tso.lockedBy(splitter, mkStep(`pmdp_splitting_flush: set _PAGE_SPLITTING in ${pmdp.name}`, [...pmdp.readAccesses(), ...pmdp.writeAccesses()], (say) => {
      const old = pmdp.get();
      pmdp.set(old | _PAGE_SPLITTING, 'pmdp_splitting_flush');
      say(`${pmdp.name}: ${this.showPmd(old)} → ${this.showPmd(pmdp.get())}`);
    })));
    yield* splitter.flush_tlb_range(va(0), this.largeEnd);
    yield* spin_unlock(splitter, ptl);
  }
  *__split_huge_page_refcount(): Op<void> {
    const { splitter, lru, H, g, S, pages, tails, tailMapcount, p } = this;
    yield* spin_lock_irq(splitter, lru);
    yield* compound_lock(splitter, H);
    let tailCount = 0; // 3.2: int tail_count, the pins moved off the head after the loop
    for (let i = 1; i <= tails; i++) {
      const t = pages[i]!;
      let pins = 0;
      if (tailMapcount) {
        pins = yield* page_mapcount(splitter, t); // "tail_page->_mapcount cannot change"; tail_count += page_mapcount(page_tail)
        tailCount += pins;
      } else {
        const tc = yield* page_count(splitter, t); // "tail_page->_count cannot change"
        yield* atomic_sub(splitter, H._count, tc); // atomic_sub(atomic_read(&page_tail->_count), &page->_count)
      }
      g.busy.add(S);
      g.inSplit = true; // BUG_ON(page_count(page) <= 0)
      const mc = yield* page_mapcount(splitter, H);
      // 2.6.38: atomic_add(page_mapcount(page) + 1, &page_tail->_count);
      // 3.2: atomic_add(page_mapcount(page) + page_mapcount(page_tail) + 1, &page_tail->_count)
      yield* atomic_add(splitter, t._count, mc + pins + 1);
      yield* ClearPageTail(splitter, t); // smp_mb(); page_tail->flags &= ~PAGE_FLAGS_CHECK_AT_PREP
      for (let k = 0; k < mc; k++) g.add(t, 'map');
      g.add(t, 'split tmp');
      yield* atomic_set(splitter, t._mapcount, mc - 1); // page_tail->_mapcount = page->_mapcount
    }
    if (tailMapcount) yield* atomic_sub(splitter, H._count, tailCount); // atomic_sub(tail_count, &page->_count)
    yield* ClearPageHead(splitter, H); // ClearPageCompound(page)
    yield* compound_unlock(splitter, H);
    yield* spin_unlock_irq(splitter, lru);
    for (let i = 1; i <= tails; i++) {
      // BUG_ON(page_count(page_tail) <= 0); put_page(page_tail): drop the temporary references
      yield* this.put_page(splitter, pages[i]!, 'split tmp', i === tails && !p.dropHeadPin);
    }
    g.inSplit = false;
  }
  /** Fill the deposited pte page, pmd_mknotpresent + flush (AMD erratum 383), pmd_populate. */
  *__split_huge_page_map(): Op<void> {
    const { splitter, ptl, tails, frames, pmdp, PT } = this;
    yield* spin_lock(splitter, ptl);
    for (let i = 0; i <= tails; i++) yield* set_pte(splitter, this.ptep(i), pfn_pte(frames[i]!, PAGE_SHARED), 'set_pte_at');
    // set_pmd_at(mm, address, pmd, pmd_mknotpresent(*pmd)): a load of *pmd, then the store.
    const huge = yield* this.read_pmd(splitter, 'pmd_mknotpresent(*pmd)');
    yield* set_pte(splitter, pmdp, __pte(pte_clrpresent(huge)), 'set_pmd_at(pmd_mknotpresent)');
    yield* splitter.flush_tlb_range(va(0), this.largeEnd);
    yield* pmd_populate(splitter, pmdp, PT);
    yield* spin_unlock(splitter, ptl);
  }
  *split_huge_page_2638(): Op<void> {
    const { splitter, anonVma } = this;
    yield* spin_lock(splitter, anonVma); // page_lock_anon_vma(page)
    yield* within('__split_huge_page_splitting', this.__split_huge_page_splitting());
    yield* within('__split_huge_page_refcount', this.__split_huge_page_refcount());
    yield* within('__split_huge_page_map', this.__split_huge_page_map());
    yield* spin_unlock(splitter, anonVma);
  }

  // ---- the splitter, refcount v2 (4.5+ split_huge_page_to_list, read in its 4.18 form) ----
  /** remove_migration_ptes: get_page(new); page_add_anon_rmap(); set the entry back. */
  *remap_page(split: boolean, endBusy: boolean): Op<void> {
    const { splitter, ptl, tails, pages, frames, g, S, pmdp, PT } = this;
    yield* spin_lock(splitter, ptl);
    const last = split ? tails : 0;
    for (let i = 0; i <= last; i++) {
      yield* atomic_inc(splitter, pages[i]!._count);
      g.add(pages[i]!, 'map');
      if (i === last && endBusy) g.busy.delete(S);
      yield* atomic_inc(splitter, pages[i]!._mapcount);
      if (split) yield* set_pte(splitter, this.ptep(i), pfn_pte(frames[i]!, PAGE_SHARED), 'set_pte_at');
    }
    if (split) yield* pmd_populate(splitter, pmdp, PT);
    else yield* set_pte(splitter, pmdp, __pte(this.hugePmd), 'set_pmd_at (migration entry removed)');
    yield* spin_unlock(splitter, ptl);
  }
  /** unmap_page(head): the pmd becomes a migration entry (flushed); rmap and the mapping's ref go. */
  *unmap_page(): Op<void> {
    const { splitter, ptl, pmdp, frames, H } = this;
    yield* spin_lock(splitter, ptl);
    yield* set_pte(splitter, pmdp, pfn_pte(frames[0]!, pgprot(0)), 'set_pmd_migration_entry');
    yield* splitter.flush_tlb_range(va(0), this.largeEnd);
    yield* atomic_dec(splitter, H._mapcount); // page_remove_rmap(page, true)
    yield* spin_unlock(splitter, ptl);
    yield* this.put_page(splitter, H, 'map', false);
    this.g.busy.add(this.S);
  }
  /** __split_huge_page_tail(head, i): the tail becomes a page of its own with one temporary ref. */
  *__split_huge_page_tail(t: Page): Op<void> {
    const { splitter, f, g } = this;
    if (f.unfreezeFirst) yield* atomic_inc(splitter, t._count); // 4.5 (8df651c7059e "thp: cleanup split_huge_page()"): page_ref_inc(page_tail)
    yield* ClearPageTail(splitter, t); // clear_compound_head(page_tail)
    if (f.unfreezeFirst) g.add(t, 'split tmp');
    else {
      // Khlebnikov, "mm/huge_memory.c: reorder operations in __split_huge_page_tail()" (Feb 2018):
      // "clear_compound_head() also must be called before unfreezing page reference because after
      // successful get_page_unless_zero() might follow put_page() which needs correct compound_head()."
      yield* atomic_set(splitter, t._count, 1); // page_ref_unfreeze(page_tail, 1)
      g.add(t, 'split tmp');
    }
  }
  *split_huge_page_v2(): Op<void> {
    const { splitter, H, lru, g, tails, pages, p } = this;
    // can_split_huge_page(): total_mapcount(head) == page_count(head) - extra_pins - 1
    const mc0 = yield* within('can_split_huge_page', page_mapcount(splitter, H));
    const c0 = yield* within('can_split_huge_page', page_count(splitter, H));
    if (mc0 !== c0 - 1) return this.did(splitter, '-EBUSY (can_split_huge_page)');
    yield* within('unmap_page', this.unmap_page());
    const flags = yield* spin_lock_irqsave(splitter, lru);
    const mc = yield* page_mapcount(splitter, H);
    // if (!mapcount && page_ref_freeze(head, 1 + extra_pins))
    const frozen = mc === 0 && (yield* within('page_ref_freeze', cmpxchg(splitter, H._count, 1, 0))) === 1;
    if (!frozen) {
      yield* spin_unlock_irqrestore(splitter, lru, flags);
      yield* within('remap_page', this.remap_page(false, !p.dropHeadPin)); // -EBUSY: the mapping is restored
      return this.did(splitter, '-EBUSY (page_ref_freeze)');
    }
    g.frozen = true;
    g.inSplit = true;
    this.did(splitter, 'split');
    // __split_huge_page: for (i = HPAGE_PMD_NR - 1; i >= 1; i--) __split_huge_page_tail(head, i, …)
    for (let i = tails; i >= 1; i--) yield* within('__split_huge_page_tail', this.__split_huge_page_tail(pages[i]!));
    yield* within('__split_huge_page', ClearPageHead(splitter, H)); // ClearPageCompound(head)
    yield* within('__split_huge_page', atomic_inc(splitter, H._count)); // page_ref_inc(head): unfrozen, the caller's ref
    g.frozen = false;
    yield* spin_unlock_irqrestore(splitter, lru, flags);
    yield* within('remap_page', this.remap_page(true, false));
    for (let i = 1; i <= tails; i++) yield* this.put_page(splitter, pages[i]!, 'split tmp', i === tails && !p.dropHeadPin);
    g.inSplit = false;
  }

  // ---- threads ----
  *splitThread(): ThreadBody {
    const { splitter, H, p } = this;
    if (this.v2) {
      yield* within('split_huge_page_to_list', this.split_huge_page_v2());
      yield* within('unlock_page', unlock_page(splitter, H));
    } else yield* within('split_huge_page', this.split_huge_page_2638());
    if (p.dropHeadPin) yield* this.put_page(splitter, H, 'caller'); // __split_huge_page_pmd: put_page(page)
  }
  *gupThread(cpu: Cpu, t: Page, who: string): ThreadBody {
    if (this.p.gup) yield* within('get_user_pages_fast', this.get_user_pages_fast(cpu, t, who));
    yield* this.put_page(cpu, t, who);
  }
  *specThread(cpu: Cpu, target: Page, who: string): ThreadBody {
    const got = yield* within('get_page_unless_zero', get_page_unless_zero(cpu, target));
    this.did(cpu, got ? 'speculative ref taken' : 'get_page_unless_zero failed');
    if (!got) return;
    this.g.add(target, who);
    this.g.busy.add(cpu.name);
    yield* this.put_page(cpu, target, who);
  }
}

function build(variant: string, p: Params): Program {
  const f = FLAVOURS[variant];
  if (!f) throw new Error(`unknown variant ${variant}`);
  const kernel = new ThpKernel(f, p);
  const { m, g, trail, pinners, speculative, pages, tails, H } = kernel;
  const threads: ThreadSpec[] = [{ name: `${kernel.S} split`, body: () => kernel.splitThread() }];
  for (let k = 1; k <= pinners; k++) {
    const cpu = m.cpu(k);
    const t = kernel.tailOf(k);
    const who = `${cpu.name} pin`;
    threads.push({ name: `${cpu.name} gup`, body: () => kernel.gupThread(cpu, t, who) });
  }
  if (speculative) {
    const cpu = m.cpu(pinners + 1);
    const target = speculative === 1 ? H : pages[tails]!;
    const who = `${cpu.name} spec`;
    threads.push({ name: `${cpu.name} spec`, body: () => kernel.specThread(cpu, target, who) });
  }
  threads.push(...m.actors());

  return {
    threads,
    invariants: thpRefcountInvariants(g),
    // Besides the machine: the ledger of references held and each CPU's trail of what it did.
    // Both are written by thread code right after the steps they follow, so feeding the threads
    // their results rebuilds them too; saved anyway, so that the state is whole by itself.
    state: programState(
      m,
      g,
      modelState(
        // By CPU name: which CPU did something first is no part of what happens next.
        () => {
          kernel.savedTrail = kernel.trailVersion;
          return Object.entries(trail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]): [string, string[]] => [k, v.slice()]);
        },
        (s) => {
          for (const k of Object.keys(trail)) delete trail[k];
          for (const [k, v] of s) trail[k] = v.slice();
          kernel.savedTrail = ++kernel.trailVersion;
        },
        () => kernel.trailVersion === kernel.savedTrail,
      ),
    ),
    finalState: () => `${m.finalState()}|${JSON.stringify(g.refs)}|${JSON.stringify(Object.entries(trail).sort())}`,
    snapshot: () => {
      const s = m.snapshot();
      const did = Object.fromEntries(Object.entries(trail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, v.join('; ')]));
      return { refcounts: g.view(), did, pages: s.pages, tables: s.tables, locks: s.locks, cpus: s.cpus.map((c) => ({ cpu: c.cpu, irq: c.irq, ipiPending: c.ipiPending })) };
    },
  };
}

// What each variant shows depends on who races the split (params resolved):
/** Tail puts that can race the split: the pinners', and a speculative getter's on the last tail. */
const tailPuts = (p: Params): number => p.pinners! + (p.speculative === 2 ? 1 : 0);
/** The head left one too low: freed while still mapped once the caller drops its pin after the
 * split, else a count off at the next quiescent point. */
const headTooLow = (p: Params): string => (p.dropHeadPin ? 'no-free-while-referenced' : 'refcount-consistent');
const others = (first: string, all: readonly string[]): string[] => all.filter((x) => x !== first);
const ALL = ['head-positive-during-split', 'no-free-while-referenced', 'refcount-consistent'];

/**
 * no-compound-lock: every tail put races the split unserialised. Nothing to race without a
 * pinner or a speculative getter on a tail; with two or more puts, the head can also drop to 0
 * inside the split (its BUG_ON) or reach 0 / be off at a quiescent point, whichever comes first.
 */
function expectNoCompoundLock(p: Params): Expectation {
  if (tailPuts(p) === 0) return 'holds';
  const first = headTooLow(p);
  return tailPuts(p) >= 2 ? { violates: first, or: others(first, ALL) } : { violates: first };
}

/**
 * compound-lock (2.6.38): tail puts are serialised against the split, but a speculative
 * get_page_unless_zero on a tail (speculative=2) succeeds on a pinned tail's _count and counts
 * nothing on the head; the split then moves a count the head never had (the bug Andrea
 * Arcangeli's 3.2 "mm: thp: tail page refcounting fix" closed by keeping tail counts at 0). The
 * getter takes the last tail; pinner k pins tail ((k - 1) mod tails) + 1, so some pinner holds
 * it when pinners >= tails.
 */
function expectCompoundLock(p: Params): Expectation {
  if (p.speculative !== 2 || p.pinners! < p.tails!) return 'holds';
  return p.dropHeadPin ? { violates: 'refcount-consistent', or: ['no-free-while-referenced'] } : { violates: 'refcount-consistent' };
}

/** v2-unfreeze-before-clear: the bug needs the speculative getter on a tail, the variant's own
 * unless speculative=1 puts it on the head. */
function expectUnfreezeBeforeClear(p: Params): Expectation {
  if (p.speculative === 1) return 'holds';
  const first = headTooLow(p);
  return p.dropHeadPin ? { violates: first } : { violates: first, or: ['no-free-while-referenced'] };
}

export const thpRefcount = defineModel({
  name: 'thp-refcount',
  title: 'THP refcounts: get_page/put_page on tail pages vs __split_huge_page_refcount',
  source:
    'mm/huge_memory.c __split_huge_page_refcount, mm/swap.c put_compound_page, arch/x86/mm/gup.c (2.6.38, Andrea Arcangeli); ' +
    'split_huge_page_to_list / page_ref_freeze (refcount v2, Kirill A. Shutemov, v4.5); ' +
    'linux-mm "compound_lock" thread (Mar 2010); Khlebnikov, "reorder operations in __split_huge_page_tail()" (Feb 2018)',
  params: {
    tails: { default: 1, min: 1, max: 2, description: 'tail pages in the compound page' },
    pinners: { default: 1, min: 0, max: 2, description: 'CPUs that pin a tail (T1, T2, T1, …) and release it with put_page' },
    gup: { default: 1, min: 0, max: 1, description: '1: pins are taken with get_user_pages_fast during the run; 0: held from before' },
    speculative: { default: 0, min: 0, max: 2, description: 'a CPU doing get_page_unless_zero + put_page: 0 off, 1 on the head pfn, 2 on the last tail pfn' },
    dropHeadPin: { default: 1, min: 0, max: 1, description: "the split's caller drops its head pin after the split" },
  },
  variants: [
    {
      name: 'no-compound-lock',
      description: 'put_page on a tail drops the head, then the tail, with nothing against the split, which moves the pin off the head a second time',
      expect: { violates: 'no-free-while-referenced' },
      expectFor: expectNoCompoundLock,
    },
    {
      name: 'compound-lock',
      description:
        '2.6.38 put_compound_page: speculative head ref, compound_lock_irqsave, recheck PageTail under the lock; ' +
        'a speculative get_page_unless_zero on a pinned tail (--param speculative=2) is not covered (fixed in 3.2)',
      expect: 'holds',
      expectFor: expectCompoundLock,
    },
    {
      name: 'tail-mapcount',
      description:
        '3.2 (Andrea Arcangeli, "mm: thp: tail page refcounting fix", Nov 2011): compound-lock with tail pins kept in the tail\'s _mapcount and its _count at 0, ' +
        'so a speculative get_page_unless_zero on a tail fails; holds where compound-lock --param speculative=2 does not',
      expect: 'holds',
    },
    {
      name: 'refcount-v2',
      description: '2016 rework (with the 2018 tail-unfreeze order): pins on the head only; the split freezes the head count and fails with -EBUSY while pinned',
      expect: 'holds',
    },
    {
      name: 'v2-unfreeze-before-clear',
      description: 'refcount v2 as merged (4.5–4.15): a tail is unfrozen before clear_compound_head, so a speculative get_page_unless_zero on it (always on here) is followed by a put_page that drops the head',
      expect: { violates: 'no-free-while-referenced' },
      expectFor: expectUnfreezeBeforeClear,
    },
  ],
  invariants: [
    { name: 'head-positive-during-split', description: "the head's count never drops to 0 during the 2.6.38 split (its BUG_ON in __split_huge_page_refcount; v2 has none)" },
    { name: 'no-free-while-referenced', description: 'no count reaches 0 while the page is mapped or pinned' },
    { name: 'refcount-consistent', description: "every page's count equals the references held on it, at every quiescent point and at the end" },
  ],
  build,
});
export default thpRefcount;
