// Page-table migration and the lost dirty bit (MODELS.md §4).
//
// Ross Biro, "[RFC/PATH 2/2] MM: Make Page Tables Relocatable -- relocation code" (linux-mm,
// April/May 2008, against 2.6.25-rc9; never merged) copies a process's pte page O to a new page
// N, points the pmd at N and frees O once every CPU has flushed. Jeremy Fitzhardinge's review
// asked: "what happens if a process writes the page, causing its cpu to mark the (old,
// in-limbo) pte dirty. Meanwhile someone else is scanning the pagetables looking for things to
// evict. It check[s] the (shiny new) pte, finds it not dirty, and decides to evict the
// apparently clean page." Ross: "Just before the free, we just have to copy the dirty bits
// again" and "make the delimbo pte functions flush the tlb".
//
// Threads: writer CPUs storing to the data pages (their TLBs may start with D=0 entries filled
// from O); the migrator (`migrate_pmd_entry` + `maybe_reload_tlb_mm` + `update_new_page_and_free`,
// mm/migrate.c of the patch); a reclaim scanner shaped like `try_to_unmap_one` (mm/rmap.c,
// 2.6.25): `ptep_clear_flush`, then decide from the old pte's D bit. One lock stands for
// mm->page_table_lock and the pte lock (no split ptlocks), so reclaim and the migrator's
// critical sections exclude each other and only the hardware races with them.
import { type Access, type Program, type Step, type ThreadSpec, at, read } from '../src/engine/types.js';
import * as M from '../src/machine/index.js';
import { applyWalk, planWalk } from '../src/machine/walk.js';
import { defineModel, type Params } from '../src/model.js';
import {
  type DataPage,
  DROPPED_CLEAN,
  type PtmigrateState,
  WRITTEN_BACK,
  ptmigrateInvariants,
} from '../properties/ptmigrate.js';

type Op<T> = Generator<Step, T, unknown>;

/** How one variant migrates and reads dirty state: a few flags consulted in one body. */
interface Flavor {
  /** 'copy-switch': the patch's order (copy, switch the pmd, flush after unlocking);
   * 'clear-flush-copy': clear the pmd and flush first, like pmdp_collapse_flush (khugepaged). */
  readonly order: 'copy-switch' | 'clear-flush-copy';
  /** Ross's limbo bookkeeping: N->migrated_page and MMF_NEED_FLUSH. */
  readonly limbo: boolean;
  /** update_new_page_and_free: harvest A/D of O into N before the free. */
  readonly harvest: 'none' | 'every-entry' | 'entry0-only';
  /** The merge into N is one locked OR (else a plain read + set_pte). */
  readonly atomicMerge: boolean;
  /** Reclaim delimbos first (_delimbo_pte: flush, then harvest its entry). */
  readonly readersDelimbo: boolean;
  /** MMF_NEED_FLUSH cleared after the flush completed, or test-and-cleared before it started. */
  readonly flagClear: 'after-flush' | 'before-flush';
  /** Free O right after the switch, before the deferred flush (a pte_free outside mmu_gather's
   * flush-then-free order); the harvest still reads O's stale words afterwards. */
  readonly freeBeforeFlush: boolean;
}

const DELIMBO: Flavor = { order: 'copy-switch', limbo: true, harvest: 'every-entry', atomicMerge: true, readersDelimbo: true, flagClear: 'after-flush', freeBeforeFlush: false };
const FLAVORS: Record<string, Flavor> = {
  'no-delimbo': { ...DELIMBO, limbo: false, harvest: 'none', readersDelimbo: false },
  delimbo: DELIMBO,
  'nonatomic-merge': { ...DELIMBO, atomicMerge: false },
  'clear-flush-copy': { ...DELIMBO, order: 'clear-flush-copy', limbo: false, harvest: 'none', readersDelimbo: false },
  'harvest-entry0-only': { ...DELIMBO, harvest: 'entry0-only' },
  'flag-cleared-before-flush': { ...DELIMBO, flagClear: 'before-flush' },
  'reader-no-delimbo': { ...DELIMBO, readersDelimbo: false },
  'free-before-flush': { ...DELIMBO, freeBeforeFlush: true },
};

const MMF_NEED_FLUSH = 0;
const AD = M._PAGE_ACCESSED | M._PAGE_DIRTY;
const adText = (bits: number): string => [bits & M._PAGE_ACCESSED ? 'A' : '', bits & M._PAGE_DIRTY ? 'D' : ''].filter(Boolean).join('|') || 'nothing';

const rmw = (c: M.Cell): Access[] => [...c.readAccesses(), ...c.writeAccesses()];

/** One build's machine and the kernel code its threads run. The operations are generator
 * methods of this module-level class, not `function*` closures made in build(): V8 gives each
 * fresh generator closure a new map and prototype on its first call (µs each, and the map pins
 * the build through young-generation GCs), which every execution's build would pay again. */
class PtMigrateKernel {
  readonly writers: number;
  readonly npages: number;
  readonly stores: number;
  readonly m: M.Machine;
  readonly mem: M.PhysMemory;
  readonly geo: M.Geometry;
  readonly mm: M.PageTable;
  readonly O: M.Pfn;
  readonly pmdp: M.PtePtr;
  readonly pages: DataPage[] = [];
  readonly migrator: M.Cpu;
  readonly kswapd: M.Cpu;
  readonly ptl: M.Lock;
  /** N->migrated_page (0 = NULL; frame 0 is init_mm's pgd, never a pte page). */
  readonly migratedPage: M.Var;
  readonly mmFlags: M.Var;
  readonly state: PtmigrateState;
  /** The pages kswapd scans. */
  readonly scanned: DataPage[];

  constructor(readonly f: Flavor, params: Params) {
    const writers = (this.writers = params.cpus!);
    const npages = (this.npages = params.pages!);
    this.stores = params.stores!;
    // No fault log: nothing here reads it (a store's result says it faulted), and as history it
    // would tell apart states that differ only in which faults came before.
    const m = (this.m = new M.Machine({ cpus: writers + 2, frames: 4 + npages, ptesPerTable: Math.max(npages, 1), pagingStructureCache: params.psc === 1, faultLog: false }));
    const mem = (this.mem = m.memory);
    const geo = (this.geo = m.geo);
    const mm = (this.mm = m.newMm('mm'));
    const O = (this.O = mem.allocFrame('O', 'pte'));
    this.pmdp = mm.populate(geo.addr(0), O);
    const pages = this.pages;
    for (let i = 0; i < npages; i++) {
      const name = `D${i}`;
      const frame = mem.allocFrame(name, 'data');
      const v = geo.addr(0, i);
      mm.mapPage(v, frame, M.PAGE_SHARED);
      pages.push({ name, va: v, frame, backing: m.var(`backing:${name}`, 0), reclaim: m.var(`reclaim:${name}`, 0) });
    }
    for (let c = 0; c < writers; c++) {
      m.setMm(c, mm);
      // The writer ran before: its TLB holds D=0 entries (and the pmd → O pointer) filled from O.
      if (params.warm === 1) for (const p of pages) applyWalk(m.cpu(c).walkContext, planWalk(m.cpu(c).walkContext, p.va), 'setup');
    }
    this.migrator = m.cpu(writers);
    this.kswapd = m.cpu(writers + 1);
    this.ptl = m.spinlock('ptl');
    this.migratedPage = m.var('N->migrated_page', 0);
    this.mmFlags = m.var('mm->flags', 0);
    this.state = {
      machine: m,
      O,
      pages,
      drops: [],
      livePte: (p) => {
        const w = mm.walk(p.va);
        return w.kind === 'table' ? w.ptep : null;
      },
    };
    // kswapd scans the last `reclaim` pages (the others are checked at the end: a dirty page must
    // still look dirty to a later scan).
    this.scanned = pages.slice(Math.max(0, npages - params.reclaim!));
  }

  // N, the migrator's new pte page: the frame it allocates and names "N" (null before). Found by
  // its name, which the allocation's step gives it, so no thread code keeps it between steps.
  newPage(): M.Pfn | null {
    return this.mem.frameNamed('N');
  }

  show(v: number): string {
    const { mem } = this;
    return M.describePte(v, (x) => mem.frameName(x));
  }

  entry(table: M.Pfn, i: number): M.PtePtr {
    return this.mem.word(M.physAddr(table, i));
  }

  /** One step of a plain copy loop: `set_pte(dest_pte + i, src_pte[i])` (migrate_pmd_entry),
   * issued by the migrator. On TSO the load of O[i] forwards from its own buffer (SDM vol. 3A
   * §8.2.3.5) and the store into N[i] enters the buffer (§8.2.3.2) — one step: the store enters
   * a buffer no other CPU reads, so issuing it with the load changes nothing another CPU sees.
   * N is reachable only once the pmd_populate behind the copies drains (stores drain in order). */
  *copyPte(i: number, to: M.Pfn): Op<void> {
    const { O, migrator } = this;
    const from = this.entry(O, i);
    const dst = this.entry(to, i);
    const sb = migrator.sb;
    if (sb !== undefined) {
      const load = sb.loadAccesses(from.readAccesses(), from.loc);
      yield* M.op(M.stableStep(`copy ${from.name} → ${dst.name}`, () => sb.storeAccesses(load, dst.loc), (say) => {
        const v = M.tso.sbRead(sb, from);
        sb.push(dst.loc, v);
        say(`${dst.name} := ${this.show(v)} buffered`);
      }));
      return;
    }
    yield* M.op(M.stableStep(`copy ${from.name} → ${dst.name}`, [...from.readAccesses(), ...dst.writeAccesses()], (say) => {
      const v = from.get();
      dst.set(v, `copy ${dst.name}`);
      say(`${dst.name} := ${this.show(v)}`);
    }));
  }

  /** arch_copy_cpu_bits_pte(old, new) on `cpu`: exchange-clear A|D in O[i], then OR them into
   * N[i] (both locked: on TSO each waits for the CPU's store buffer, tso.lockedBy). */
  *harvest(cpu: M.Cpu, i: number, why: string): Op<void> {
    const { f, O } = this;
    const show = (v: number): string => this.show(v);
    const o = this.entry(O, i);
    const n = this.entry(this.newPage()!, i);
    const bits = yield* M.op(M.tso.lockedBy(cpu, M.stableStep(`${why}: harvest A|D of ${o.name} (xchg-clear)`, rmw(o), (say) => {
      const old = o.get() as M.pte_t;
      o.set(M.pte_clear_flags(old, AD), `harvest ${o.name}`);
      say(`${o.name}: ${show(old)} → ${show(o.get())}; harvested ${adText(M.pte_flags(old) & AD)}`);
      return M.pte_flags(old) & AD;
    })));
    if (bits === 0) return;
    if (f.atomicMerge) {
      yield* M.op(M.tso.lockedBy(cpu, M.stableStep(`${why}: merge ${adText(bits)} into ${n.name} (locked OR)`, rmw(n), (say) => {
        const cur = n.get() as M.pte_t;
        if (M.pte_none(cur)) return say(`${n.name} is none (page unmapped): nothing to merge into`);
        n.set(M.pte_set_flags(cur, bits), `merge ${n.name}`);
        say(`${n.name}: ${show(cur)} → ${show(n.get())}`);
      })));
      return;
    }
    const label = `${why}: read ${n.name} for a plain merge`;
    const cur = yield* M.op(cpu.sb !== undefined
      ? M.tso.forwardedLoad(cpu.sb, label, n, (v) => ({ result: v as M.pte_t, note: `${n.name} = ${show(v)}` }))
      : M.stableStep(label, n.readAccesses(), (say) => {
          const v = n.get() as M.pte_t;
          say(`${n.name} = ${show(v)}`);
          return v as M.pte_t;
        }));
    if (M.pte_none(cur)) return;
    yield* M.set_pte(cpu, n, M.pte_set_flags(cur, bits), `${why}: merge ${adText(bits)} by plain set_pte`);
  }

  *setMigratedPage(v: number): Op<void> {
    const { migratedPage } = this;
    yield* M.op(M.stableStep(`N->migrated_page = ${v ? 'O' : 'NULL'}`, migratedPage.writeAccesses(), (say) => {
      migratedPage.set(v);
      say(v ? 'N is in limbo: O may still be used by stale TLB entries' : 'limbo over');
    }));
  }

  /** maybe_reload_tlb_mm(mm) (the patch's MMF_NEED_FLUSH helpers). */
  *maybeReloadTlbMm(cpu: M.Cpu, who: string): Op<void> {
    const { f, mm, mmFlags } = this;
    if (f.flagClear === 'before-flush') {
      // As posted: `if (test_and_clear_bit(MMF_NEED_FLUSH, &mm->flags)) flush_tlb_mm(mm);`
      const was = yield* M.op(M.tso.lockedBy(cpu, M.stableStep(`${who}: test_and_clear_bit(MMF_NEED_FLUSH)`, rmw(mmFlags), (say) => {
        const w = (mmFlags.get() & (1 << MMF_NEED_FLUSH)) !== 0;
        mmFlags.set(mmFlags.get() & ~(1 << MMF_NEED_FLUSH));
        say(w ? 'was set: cleared now, flush not yet done' : 'already clear: skip the flush');
        return w;
      })));
      if (was) yield* cpu.flush_tlb_mm(mm);
      return;
    }
    const set = yield* M.op(M.stableStep(`${who}: test_bit(MMF_NEED_FLUSH)`, mmFlags.readAccesses(), (say) => {
      const w = (mmFlags.get() & (1 << MMF_NEED_FLUSH)) !== 0;
      say(w ? 'set: flush needed' : 'clear: a completed flush already covered the switch');
      return w;
    }));
    if (!set) return;
    yield* cpu.flush_tlb_mm(mm);
    yield* M.op(M.tso.lockedBy(cpu, M.stableStep(`${who}: clear_bit(MMF_NEED_FLUSH) after the flush`, rmw(mmFlags), (say) => {
      mmFlags.set(mmFlags.get() & ~(1 << MMF_NEED_FLUSH));
      say('flag cleared');
    })));
  }

  /** The migrator: migrate_page_tables_mm for one pte page. */
  *migrate(): Op<void> {
    const { f, mem, geo, mm, O, pmdp, migrator, ptl, mmFlags } = this;
    const n = yield* mem.alloc_page(migrator, 'N', 'pte');
    if (n === null) throw new Error('ptmigrate: out of frames');
    yield* M.spin_lock(migrator, ptl, 'migrate');
    if (f.order === 'clear-flush-copy') {
      // pmdp_collapse_flush (mm/pgtable-generic.c): get-and-clear the pmd, flush every CPU; then
      // O is detached and no CPU can set A/D in it: copy with the final bits. Faults wait on the
      // lock (khugepaged holds mmap_lock and the anon_vma lock for the same effect).
      yield* M.pte_xchg(migrator, pmdp, M.__pte(0));
      yield* migrator.flush_tlb_mm(mm);
      for (let i = 0; i < geo.ptesPerTable; i++) yield* this.copyPte(i, n);
      yield* M.pmd_populate(migrator, pmdp, n);
      yield* M.spin_unlock(migrator, ptl);
      yield* mem.free_page(migrator, O);
      return;
    }
    // migrate_pmd_entry: plain copy loop, record the limbo, pmd_populate, maybe_need_flush_mm.
    for (let i = 0; i < geo.ptesPerTable; i++) yield* this.copyPte(i, n);
    if (f.limbo) yield* this.setMigratedPage(O);
    yield* M.pmd_populate(migrator, pmdp, n);
    if (f.limbo) {
      yield* M.op(M.tso.lockedBy(migrator, M.stableStep('maybe_need_flush_mm: set_bit(MMF_NEED_FLUSH)', rmw(mmFlags), (say) => {
        mmFlags.set(mmFlags.get() | (1 << MMF_NEED_FLUSH));
        say('flush deferred');
      })));
    }
    yield* M.spin_unlock(migrator, ptl);
    if (f.freeBeforeFlush) yield* mem.free_page(migrator, O);
    // migrate_page_tables_mm: maybe_reload_tlb_mm(mm) (synchronize_rcu() is not modelled).
    if (f.limbo) yield* this.maybeReloadTlbMm(migrator, 'migrate');
    else yield* migrator.flush_tlb_mm(mm);
    if (f.harvest !== 'none') {
      // update_new_page_and_free: `for (i = 0; i < PTRS_PER_PTE; i++) arch_copy_cpu_bits_pte(old, new);`
      // — as posted, old/new are never advanced, so only entry 0 is merged.
      // Positions: the migrator carries nothing but N (declared state) into each part, however
      // it got there (flushed itself, or found the flag cleared by _delimbo_pte).
      yield* at('migrate: harvest', M.spin_lock(migrator, ptl, 'migrate'));
      for (let i = 0; i < geo.ptesPerTable; i++) {
        const stuck = f.harvest === 'entry0-only';
        yield* at(`migrate: harvest ${i}`, this.harvest(migrator, stuck ? 0 : i, `update_new_page_and_free i=${i}${stuck && i > 0 ? ' (old/new not advanced)' : ''}`));
      }
      yield* at('migrate: limbo over', this.setMigratedPage(0));
      yield* M.spin_unlock(migrator, ptl);
    }
    if (!f.freeBeforeFlush) yield* at('migrate: free O', mem.free_page(migrator, O));
  }

  /** try_to_unmap_one + shrink_page_list for one page. */
  *reclaim(p: DataPage): Op<void> {
    const { f, mem, geo, mm, pmdp, kswapd, ptl, migratedPage, state } = this;
    const show = (v: number): string => this.show(v);
    const i = geo.pteIndex(p.va);
    yield* M.spin_lock(kswapd, ptl, 'kswapd');
    // page_check_address (+ _delimbo_pte): find the live pte page under the lock.
    const fp = (): Access[] => [read(pmdp.loc), ...(f.readersDelimbo ? migratedPage.readAccesses() : [])];
    // The step returns table * 2 + limbo (-1: not mapped), a number a state restore can feed back.
    const code = yield* M.op(M.stableStep(`page_check_address(${p.name})${f.readersDelimbo ? ' + _delimbo_pte' : ''}`, fp, (say): number => {
      const pmd = pmdp.get() as M.pte_t;
      if (!M.pmd_present(pmd)) {
        say('pmd empty: page not mapped here');
        return -1;
      }
      const table = M.pte_pfn(pmd);
      const limbo = f.readersDelimbo && migratedPage.get() !== 0 && table === this.newPage();
      say(`pmd → ${mem.frameName(table)}${limbo ? ' (in limbo: migrated from O)' : ''}`);
      return table * 2 + (limbo ? 1 : 0);
    }));
    const found = code < 0 ? null : { table: Math.floor(code / 2) as M.Pfn, limbo: code % 2 === 1 };
    if (found === null) {
      yield* M.spin_unlock(kswapd, ptl); // not mapped here: nothing to reclaim
      return;
    }
    if (found.limbo) {
      yield* this.maybeReloadTlbMm(kswapd, '_delimbo_pte');
      // kswapd carries only the page and the table it found, whether it flushed or not.
      yield* at(`reclaim ${p.name} in ${found.table}: harvest`, this.harvest(kswapd, i, '_delimbo_pte'));
    }
    // ptep_clear_flush: xchg the live pte with 0, then flush the page on every CPU.
    const ptep = this.entry(found.table, i);
    const pteval = yield* at(`reclaim ${p.name} in ${found.table}: clear`, M.ptep_get_and_clear(kswapd, ptep));
    if (M.pte_none(pteval)) {
      yield* M.spin_unlock(kswapd, ptl); // not mapped here: nothing to reclaim
      return;
    }
    yield* kswapd.flush_tlb_range(p.va, M.va(p.va + M.PAGE_SIZE), mm);
    // After the flush: the page, the table and the pte value it cleared.
    yield* at(`reclaim ${p.name} in ${found.table}: unlock, pte ${pteval}`, M.spin_unlock(kswapd, ptl));
    const word = mem.word(M.physAddr(p.frame, 0));
    const fp2 = [...word.readAccesses(), ...p.backing.readAccesses(), ...p.backing.writeAccesses(), ...p.reclaim.writeAccesses()];
    if (M.pte_dirty(pteval)) {
      // "Move the dirty bit to the physical page now the pte is gone." → pageout.
      yield* M.op(M.stableStep(`shrink_page_list: ${p.name} dirty (${ptep.name}) → pageout`, fp2, (say) => {
        p.backing.set(word.get());
        p.reclaim.set(WRITTEN_BACK);
        say(`backing store of ${p.name} := ${word.get()}; page freed`);
      }));
      return;
    }
    yield* M.op(M.stableStep(`shrink_page_list: ${p.name} clean (${ptep.name}) → drop without write-back`, fp2, (say) => {
      state.drops.push({ page: p.name, mem: word.get(), backing: p.backing.get(), pte: show(pteval) });
      p.reclaim.set(DROPPED_CLEAN);
      say(`memory ${word.get()}, backing store ${p.backing.get()}${word.get() !== p.backing.get() ? ' → DATA LOST' : ''}`);
    }));
  }

  /** kswapd: reclaims the scanned pages in order. */
  *kswapdScan(): Op<void> {
    // kswapd carries nothing from one page to the next: each reclaim starts at a position.
    for (const p of this.scanned) yield* at(`reclaim ${p.name}`, this.reclaim(p));
  }

  /** A writer CPU; a fault is handled under the lock (waiting with interrupts on). */
  *writer(c: number): Op<void> {
    const { m, mm, ptl, pages, stores, npages } = this;
    const cpu = m.cpu(c);
    for (let s = 0; s < stores; s++) {
      for (const p of pages) {
        const value = 1 + (c * stores + s) * npages + pages.indexOf(p);
        for (let attempt = 0; attempt < 3; attempt++) {
          // The writer keeps nothing but where it is: a finished store's TLB entries and pte
          // values are dead, so states that differ only in them are one (Step.position).
          const r = yield* at(`store ${s} ${p.name} attempt ${attempt}`, cpu.store(p.va, value));
          if (r.ok) break;
          // handle_mm_fault: take the lock, look again. A cleared pmd (clear-flush-copy) is
          // back once the migrator unlocks: retry. An evicted page would need swap-in (not
          // modelled): the store is abandoned and never counts as completed.
          // However the store got to the fault (a walk, or a D update that found the entry gone
          // and a walk after it), the writer carries only where it is.
          yield* at(`fault ${s} ${p.name} attempt ${attempt}`, M.spin_lock(cpu, ptl));
          const back = yield* M.op(M.stableStep(`handle_mm_fault(${M.hex(p.va)}): look up the pte`, () => {
            const w = mm.walk(p.va);
            return w.kind === 'table' ? [read(w.pmdp.loc), read(w.ptep.loc)] : [read(w.pmdp.loc)];
          }, (say) => {
            const w = mm.walk(p.va);
            const ok = w.kind === 'table' && M.pte_present(w.pte);
            say(ok ? `${w.kind === 'table' ? w.ptep.name : ''} present again: retry` : `${w.kind === 'table' ? `${w.ptep.name} is none` : 'pmd empty'}: page evicted (swap-in not modelled), store abandoned`);
            return ok;
          }));
          yield* M.spin_unlock(cpu, ptl);
          if (!back) break;
        }
      }
    }
  }
}

function build(variant: string, params: Params): Program {
  const f = FLAVORS[variant];
  if (!f) throw new Error(`ptmigrate: no variant ${variant}`);
  const k = new PtMigrateKernel(f, params);
  const { m, writers, state } = k;
  const threads: ThreadSpec[] = [];
  for (let c = 0; c < writers; c++) threads.push({ name: `cpu${c}`, body: () => k.writer(c) });
  threads.push({ name: `cpu${writers} migrate`, body: () => k.migrate() });
  threads.push({ name: `cpu${writers + 1} kswapd`, body: () => k.kswapdScan() });
  threads.push(...m.actors());
  return {
    threads,
    invariants: ptmigrateInvariants(state),
    // Besides the machine: reclaim's drop records (immutable, appended by its steps).
    state: M.programState(
      m,
      M.modelState(
        () => state.drops.slice(),
        (s) => M.refill(state.drops, s),
        (s) => M.sameList(s, state.drops),
      ),
    ),
    // Its threads' steps and labels follow from the results they receive, and their code keeps
    // nothing outside them (the frames they name are O, N and the data pages, each named before
    // any thread reaches it).
    pureThreads: true,
    finalState: () => `${m.finalState()}|${JSON.stringify(state.drops)}`,
    snapshot: () => ({ ...m.snapshot(), drops: state.drops }),
  };
}

export const ptmigrate = defineModel({
  name: 'ptmigrate',
  title: 'Page-table migration: the lost dirty bit (Ross Biro, 2008)',
  source: 'Ross Biro, "MM: Make Page Tables Relocatable" v2 (linux-mm, 2008, 2.6.25-rc9) and Jeremy Fitzhardinge\'s review; try_to_unmap_one (mm/rmap.c); pmdp_collapse_flush (mm/pgtable-generic.c)',
  params: {
    cpus: { default: 1, min: 1, max: 3, description: 'writer CPUs running the mm' },
    pages: { default: 2, min: 1, max: 4, description: 'data pages mapped by the pte page (and entries per pte page)' },
    stores: { default: 1, min: 1, max: 3, description: 'stores per page per writer CPU' },
    reclaim: { default: 1, min: 0, max: 4, description: 'pages kswapd scans (the last ones); the others are checked at the end' },
    warm: { default: 0, min: 0, max: 1, description: '1: writers start with D=0 TLB entries filled from O' },
    psc: { default: 1, min: 0, max: 1, description: '1: CPUs cache the pmd → pte-page pointer (paging-structure cache)' },
  },
  variants: [
    { name: 'no-delimbo', expect: { violates: 'no-lost-dirty-bit' }, description: 'copy, switch, flush, free; nothing harvested: D set in O after the copy never reaches N' },
    { name: 'delimbo', expect: 'holds', description: 'after the flush, xchg-clear A/D of every O entry and OR it atomically into N; reclaim flushes and merges first; flag cleared after the flush' },
    { name: 'nonatomic-merge', expect: { violates: 'no-lost-dirty-bit' }, description: 'the merge into N is a plain read + set_pte: a D set by the hardware in N in between is overwritten' },
    { name: 'clear-flush-copy', expect: 'holds', description: 'clear the pmd and flush every CPU before copying (pmdp_collapse_flush); faults wait' },
    { name: 'harvest-entry0-only', expect: { violates: 'no-lost-dirty-bit' }, description: 'as posted: the harvest loop never advances its pointers, only entry 0 is merged' },
    { name: 'flag-cleared-before-flush', expect: { violates: 'no-lost-dirty-bit' }, description: 'as posted: MMF_NEED_FLUSH test-and-cleared before the flush completed; a second reader skips the flush' },
    { name: 'free-before-flush', expect: { violates: 'no-write-to-freed-pagetable' }, description: 'O is freed right after the switch, before the deferred flush: a stale D=0 entry makes the hardware set D in the freed page' },
    { name: 'reader-no-delimbo', expect: { violates: 'no-lost-dirty-bit' }, description: 'reclaim reads N without delimbo (no flush + merge first) while O is still in limbo' },
  ],
  invariants: [
    { name: 'no-lost-dirty-bit', description: 'a completed store is written back or seen dirty by every later dirty check; reclaim never drops a page whose memory differs from its backing store' },
    { name: 'no-write-to-freed-pagetable', description: 'the hardware never writes a pte page after it was freed' },
  ],
  build,
});
export default ptmigrate;
