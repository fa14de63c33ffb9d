// change_page_attr() on the x86 direct map: two CPUs change the attributes of two small pages
// that share one large (PS) pmd entry, a third CPU uses those pages.
//
// The code followed is arch/x86/mm/pageattr.c after Suresh Siddha's ad5ca55f6bdb
// ("x86, cpa: srlz cpa(), global flush tlb after splitting big page and before doing cpa",
// 2.6.28; the same shape is still there in 4.x): __change_page_attr_set_clr() takes cpa_lock,
// __change_page_attr() walks with lookup_address() and no lock, writes a 4K pte with
// set_pte_atomic(), and for a large entry calls try_preserve_large_page() and then
// split_large_page(), which drops cpa_lock to allocate, retakes it, takes pgd_lock, rechecks
// lookup_address() == kpte, fills the new pte page from the large entry, installs it and flushes
// locally (__split_large_page); the caller then does flush_tlb_all() before `goto repeat`
// changes the 4K pte. change_page_attr_set_clr() finishes with cpa_flush_range(): a TLB flush
// on every CPU, then clflush of each page when the cache type changed.
// Variants turn off one piece each (see VARIANTS); seed 000 (Andi Kleen, Jan 2008) is the
// thread where the 2.6.25 rewrite's split-on-demand and WBINVD costs were first argued over.
import { type Access, type Program, type Step, type ThreadSpec, at, read, write } from '../src/engine/types.js';
import {
  type Cpu,
  type IpiRequest,
  type IrqFlags,
  type Lock,
  type Lookup,
  Machine,
  PAGE_KERNEL,
  type Pfn,
  type VirtAddr,
  va,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_PCD,
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_PWT,
  _PAGE_RW,
  describePte,
  hex,
  cacheLoc,
  memLoc,
  mkStep,
  stableStep,
  within,
  joinAccesses,
  readOf,
  writeOf,
  textFor,
  writesOf,
  modelState,
  op,
  pfn_pte,
  programState,
  pgprot,
  physAddr,
  planWalk,
  pte_clrlarge,
  pmd_large,
  pte_flags,
  pte_pfn,
  type pte_t,
  type PtePtr,
  set_pte,
  set_pte_atomic,
  spin_lock,
  spin_unlock,
  tso,
  type Var,
  times,
} from '../src/machine/index.js';
import { unaudited } from '../src/engine/audit.js';
import { applyWalk } from '../src/machine/walk.js';
import { type Params, defineModel } from '../src/model.js';
import { type CpaCall, type CpaState, cpaInvariants } from '../properties/cpa.js';

type Op<T> = Generator<Step, T, unknown>;

/** What a variant changes in the code; `fixed` is all defaults. */
interface Flags {
  /** __split_large_page rechecks lookup_address() == kpte under pgd_lock. */
  readonly recheck: boolean;
  /** flush_tlb_all() between the split and the 4K change (ad5ca55f6bdb). */
  readonly flushAfterSplit: boolean;
  /** cpa_flush_range(): TLB flush on every CPU before returning. */
  readonly finalFlush: boolean;
  /** cpa_flush_range(): clflush of each page when the cache type changed. */
  readonly cacheFlush: boolean;
  /** pgd_lock taken with spin_lock_irqsave() (2.6.2x) and the split's flush_tlb_all() issued under it. */
  readonly pgdLockIrqsOff: boolean;
  /** __change_page_attr_set_clr() serialises on cpa_lock (added by ad5ca55f6bdb). */
  readonly cpaLock: boolean;
}

const FIXED: Flags = { recheck: true, flushAfterSplit: true, finalFlush: true, cacheFlush: true, pgdLockIrqsOff: false, cpaLock: true };

const VARIANTS: Record<string, Partial<Flags>> = {
  fixed: {},
  'no-recheck': { recheck: false },
  'no-flush-after-split': { flushAfterSplit: false },
  'no-final-flush': { finalFlush: false },
  'no-cache-flush': { cacheFlush: false },
  // v1 of the ad5ca55f6bdb series: the 2.6.27 locking (no cpa_lock, pgd_lock with interrupts
  // off) with the global flush after the split placed under pgd_lock. The v2 cover letter
  // (lkml 2008/9/23/383) lists what v2 changed, and this has both bugs: item 1, "the deadlock
  // associated with smp call function and spin_lock_irqsave() for pgd_lock", and item 3,
  // "Serialize cpa() ... so that a cpu with stale large page tlb's (but small PTE's in memory)
  // won't do a cpa() in parallel to some other cpu" — without cpa_lock the other caller finds
  // the 4K pte the split installed and changes it before the splitter's flush reached cpu2,
  // which still holds the 2M entry and fills a 4K one under it.
  'pgd-lock-irqs-off': { pgdLockIrqsOff: true, cpaLock: false },
};

/** The page-table flags of a kernel page-table pointer (_KERNPG_TABLE: present, RW, A, D). */
const _KERNPG_TABLE = pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);
const _PAGE_CACHE_MASK = _PAGE_PCD | _PAGE_PWT;
/** What the third CPU's rodata_test writes (mm/rodata_test.c: a store that must fault). */
const RODATA_TEST_VALUE = 0xbad;

/**
 * Footprint of a full flush of `cpu`'s TLB in the current state: the machine's. A flush of an
 * empty TLB (the two CPA callers' TLBs stay empty: they walk in software) only reads its slots,
 * so the callers' own __flush_tlb_all() and each other's IPIs do not look dependent (writing
 * `tlb:<cpu>` there multiplied the executions about eightfold).
 */
function flushFootprint(cpu: Cpu): readonly Access[] {
  return cpu.tlb.flushAllAccesses();
}

/** __flush_tlb_all() on this CPU only: a write to CR4 (or CR3), serialising — on TSO it waits
 * for the CPU's store buffer to drain (SDM vol. 3A §8.3; tso.lockedBy). */
function* localFlush(cpu: Cpu, label = 'local TLB flush'): Op<void> {
  yield* op(tso.lockedBy(cpu, stableStep(label, () => flushFootprint(cpu), (say) => say(cpu.dropped(cpu.tlb.flushAll())))));
}

/**
 * flush_tlb_all() / on_each_cpu(__cpa_flush_range): IPI every other CPU, flush locally, wait
 * for every ack — the machine's shootdown, with the local flush's footprint from flushFootprint().
 * Delivery is the machine's `ipi→cpuN` actor (interrupts on, between instructions). On TSO each
 * step waits for the sender's store buffer, as the machine's own shootdowns do (the x2APIC ICR
 * write follows weak_wrmsr_fence(), arch/x86/include/asm/barrier.h; tso/README.md).
 */
function* flushTlbAll(m: Machine, sender: Cpu, fn: string, call: string): Op<void> {
  const t = flushAllText(m, sender, fn, call);
  const others = sender.others;
  yield* op(
    tso.lockedBy(sender, mkStep(t.sendLabel, t.sendFp, (say) => {
      for (const c of others) {
        c.postIpi(t.request);
        sender.expectAck(c.id);
      }
      say(t.sent);
    })),
  );
  yield* localFlush(sender, t.localLabel);
  yield* op(tso.lockedBy(sender, stableStep(t.waitLabel, t.waitFp, sayAllAcksIn, () => sender.awaitingAcks.size === 0)));
}
const sayAllAcksIn = (say: (n: string) => void): void => say('all acks in');

/** The labels, note, request and footprints of one flushTlbAll call (`fn: call`) by one sender
 * among n CPUs, made once and shared by every build: a thread yields its steps again whenever
 * its execution is brought back. The request is immutable: one object serves every post. */
interface FlushAllText {
  readonly sendLabel: string;
  readonly localLabel: string;
  readonly waitLabel: string;
  readonly request: IpiRequest;
  readonly sendFp: readonly Access[];
  readonly waitFp: readonly Access[];
  /** The send step's note: "IPI → cpu1, cpu2". */
  readonly sent: string;
}
/** By kernel function, call, number of CPUs, then sender. */
const flushAllTexts = new Map<string, Map<string, FlushAllText[][]>>();
function flushAllText(m: Machine, sender: Cpu, fn: string, call: string): FlushAllText {
  let byCall = flushAllTexts.get(fn);
  if (byCall === undefined) flushAllTexts.set(fn, (byCall = new Map()));
  let byN = byCall.get(call);
  if (byN === undefined) byCall.set(call, (byN = []));
  const bySender = (byN[m.cpus.length] ??= []);
  let t = bySender[sender.id];
  if (t === undefined) {
    const what = `${fn}: ${call}`;
    const others = sender.others;
    bySender[sender.id] = t = {
      sendLabel: `${what}: send IPIs`,
      localLabel: `${what}: local flush`,
      waitLabel: `${what}: wait for acks`,
      request: { from: sender.id, flush: { kind: 'all' }, what },
      sendFp: joinAccesses(others.flatMap((c) => [writeOf(c.ipiLoc), writeOf(sender.ackLoc(c.id))])),
      waitFp: joinAccesses(others.map((c) => readOf(sender.ackLoc(c.id)))),
      sent: `IPI → ${others.map((c) => c.name).join(', ')}`,
    };
  }
  return t;
}

/** A pgd_lock section's footprint: the lock's write, then what the section reads (`reads`,
 * one list per call site or state). Made once per `reads` list and kept while the list lives
 * (the engine asks for footprints at every step). */
const pgdLockFps = new WeakMap<readonly Access[], readonly Access[]>();
function withPgdLock(lock: readonly Access[], reads: readonly Access[]): readonly Access[] {
  let fp = pgdLockFps.get(reads);
  if (fp === undefined || fp[0] !== lock[0]) pgdLockFps.set(reads, (fp = joinAccesses(lock, reads)));
  return fp;
}
const NO_ACCESSES: readonly Access[] = [];
/** try_preserve_large_page's section label, by address. */
const preserveLabels = new Map<string, string>();

/**
 * The speculation the TLB application note is about: while `cpu` caches the 2M translation of
 * `v`, a prefetch or speculative access walks the tables and caches a 4K translation of `v`
 * too (at most `budget` times). Narrower than the machine's general speculation actor (param
 * `speculation: 2`), which may fill at any moment and costs ~10× the executions; a fill at any
 * other moment is what cpu2's own load already does.
 */
function splitSpeculation(cpu: Cpu, v: VirtAddr, budget: number): ThreadSpec {
  const ctx = cpu.walkContext;
  const step = (): Step =>
    stableStep(
      `speculative walk ${cpu.name} ${hex(v)} under a cached 2M entry`,
      () => planWalk(ctx, v).accesses,
      (say) => say(applyWalk(ctx, planWalk(ctx, v), `${cpu.name} (speculative walk)`)),
      () => {
        const ts = cpu.tlb.translations(v);
        if (ts.length !== 1 || ts[0]!.size !== '2M') return false;
        const plan = planWalk(ctx, v);
        return plan.kind === 'fill' && plan.entry.size === '4K';
      },
    );
  return {
    name: `spec:${cpu.name}:${hex(v)}`,
    actor: true,
    body: () => times(budget, step),
  };
}

/**
 * Small pages per large page (and entries per table): the 512 of a real 2M page cut to a few
 * (MODELS.md §2). Not a parameter: only pages 0 and 1 are used by anyone, and the split fills
 * every entry in its one pgd_lock step, so more entries change no interleaving — a `ptes`
 * parameter once ran the same executions at every value, only slower.
 */
const E = 4;

// pgd_lock sections. Each short critical section is one step — enabled while pgd_lock is
// free, taking (and, when the section ends there, dropping) it — since nothing inside waits
// and everything it touches is written only under pgd_lock or read by lockless walks. With
// pgd-lock-irqs-off, spin_lock_irqsave() is local_irq_save then spin_lock (2.6.2x), as the
// machine's spin_lock_irqsave does it: a CPU then waits for pgd_lock with interrupts off.
// On TSO a section waits for the CPU's store buffer to drain (spin_lock is a locked cmpxchg,
// the local flush a serialising CR4 write: tso.lockedBy) and acts on memory — its
// spin_unlock's store included, which x86 would buffer: the section is one step anyway.
// A stable step: every caller's `reads` lists values fixed before the section (checked).
type Section = 'take' | 'take-drop' | 'drop';

/**
 * One build's kernel: the machine and what build() sets up, with the kernel's operations as
 * generator methods. V8 gives every fresh generator closure a new map and prototype on its
 * first call (µs each, and the map pins the build through young-generation GCs), so
 * `function*`s nested in build() cost that every execution; a class's methods are made once.
 */
class CpaKernel {
  readonly params: Params;
  readonly flags: Flags;
  readonly m: Machine;
  readonly frames: Pfn[] = [];
  readonly vas: VirtAddr[];
  readonly pmdp: PtePtr;
  readonly cpaLock: Lock;
  readonly pgdList: Var;
  readonly pgdLock: Lock;
  readonly calls: CpaCall[];
  readonly st: CpaState;
  /** Which translation cpu2's load used (for finalState: DPOR and DFS must see the same set). */
  loadVia = 'none';

  constructor(variant: string, params: Params) {
    this.params = params;
    this.flags = { ...FIXED, ...VARIANTS[variant] };
    // Frame 0 is init_mm's pmd page ("pgd"); D0..D(E-1) the direct-mapped data; then one free
    // frame per CPA caller for split_large_page's alloc_pages().
    const m = (this.m = new Machine({
      cpus: 3,
      frames: 1 + E + 2,
      ptesPerTable: E,
      trackCaches: true,
      pagingStructureCache: params.psc === 1,
      // speculation 2: cpu2 may fill a translation of page 0 on its own at any moment.
      speculation: params.speculation === 2 ? { vas: [va(0)], fills: 1, cpus: [2] } : undefined,
    }));
    const frames = this.frames;
    for (let i = 0; i < E; i++) frames.push(m.memory.allocFrame(`D${i}`, 'data'));
    const vas = (this.vas = frames.map((_, i) => m.geo.addr(0, i)));
    // The direct map: one large entry, PAGE_KERNEL_LARGE (RW, NX, WB, A and D preset).
    this.pmdp = m.init_mm.mapLarge(vas[0]!, frames[0]!, PAGE_KERNEL);
    // The kernel has used page 1 as ordinary WB memory: its lines are in the cache.
    m.memory.setCachedWB(frames[1]!, true);
    this.cpaLock = m.spinlock('cpa_lock');
    this.pgdList = m.var('pgd_list'); // pgd_list, which pgd_alloc() extends under pgd_lock
    this.pgdLock = m.spinlock('pgd_lock');
    const tableFrames: Pfn[] = [m.init_mm.root, ...Array.from({ length: 2 }, (_, i) => (1 + E + i) as Pfn)];

    const mkCall = (fn: string, cpu: number, page: number, maskSet: number, maskClr: number): CpaCall => ({
      fn, cpu, page, addr: vas[page]!, maskSet, maskClr, returned: m.var(`cpa:ret:cpu${cpu}`),
    });
    // set_memory_ro(): change_page_attr_clear(addr, 1, __pgprot(_PAGE_RW));
    // set_memory_uc(): change_page_attr_set(addr, 1, _PAGE_CACHE_UC) (PCD|PWT here).
    const calls = (this.calls = [mkCall('set_memory_ro', 0, 0, 0, _PAGE_RW), mkCall('set_memory_uc', 1, 1, _PAGE_CACHE_MASK, 0)].slice(0, params.callers!));
    this.st = { m, vas, frames, calls, tableFrames };
  }

  *pgdSection<T>(cpu: Cpu, label: string, mode: Section, reads: () => readonly Access[], body: (say: (n: string) => void) => { value: T; drop?: boolean }): Op<T> {
    const { pgdLock } = this;
    return yield* op(
      tso.lockedBy(cpu, stableStep(
        label,
        () => withPgdLock(writesOf(pgdLock.loc), reads()),
        (say) => {
          if (mode === 'drop' && !pgdLock.held) throw new Error(`${label}: pgd_lock is not held`);
          const notes: string[] = [];
          const r = body((n) => notes.push(n));
          const drop = mode !== 'take' || r.drop === true;
          pgdLock.held = !drop;
          pgdLock.holder = drop ? undefined : cpu.name;
          notes.push(drop ? 'pgd_lock released' : `pgd_lock held by ${cpu.name}`);
          say(notes.join('; '));
          return r.value;
        },
        mode === 'drop' ? undefined : () => !pgdLock.held,
      )),
    );
  }
  *irqSave(cpu: Cpu, fn: string): Op<IrqFlags | null> {
    return this.flags.pgdLockIrqsOff ? yield* within(fn, cpu.local_irq_save()) : null;
  }
  *irqRestore(cpu: Cpu, fn: string, f: IrqFlags | null): Op<void> {
    if (f !== null) yield* within(fn, cpu.local_irq_restore(f));
  }
  show(v: number): string {
    return describePte(v, (x) => this.m.memory.frameName(x));
  }

  /** The new value of a 4K entry: (prot & ~mask_clr) | mask_set, pfn kept. */
  newPte(c: CpaCall, old: pte_t): pte_t {
    const prot = (pte_flags(old) & ~c.maskClr) | c.maskSet;
    return pfn_pte(pte_pfn(old), pgprot(prot));
  }

  /**
   * The recheck `lookup_address(address) == kpte` for a large entry `seen`: reads the pmd only
   * (for a pte page lookup_address returns a pointer into it without reading the pte).
   */
  stillLarge(seen: Lookup): { same: boolean; pmd: pte_t } {
    const { pmdp } = this;
    const pmd = pmdp.get() as pte_t;
    return { same: pmd_large(pmd) && pmdp.pa === seen.kpte.pa, pmd };
  }

  /**
   * try_preserve_large_page(): under pgd_lock, recheck lookup_address() == kpte (if someone
   * split meanwhile: do_split = 1); one small page of a large one can never be preserved, so
   * it always answers "split" here.
   */
  *try_preserve_large_page(cpu: Cpu, c: CpaCall, seen: Lookup): Op<boolean> {
    const { pmdp } = this;
    const fn = 'try_preserve_large_page';
    const f = yield* this.irqSave(cpu, fn);
    yield* this.pgdSection(cpu, textFor(preserveLabels, hex(c.addr), (a) => `${fn}: spin_lock(pgd_lock); lookup_address(${a}) == kpte?; spin_unlock(pgd_lock)`), 'take-drop', () => pmdp.readAccesses(), (say) => {
      say(this.stillLarge(seen).same ? `${pmdp.name} still maps 2M; 1 of ${E} small pages → do_split = 1` : `${pmdp.name} no longer maps 2M (split meanwhile) → do_split = 1`);
      return { value: undefined };
    });
    yield* this.irqRestore(cpu, fn, f);
    return true;
  }

  /**
   * split_large_page() (4.x shape, ad5ca55f6bdb): drop cpa_lock to allocate, retake it, then
   * __split_large_page() under pgd_lock: recheck, fill, install, local flush.
   */
  *split_large_page(cpu: Cpu, c: CpaCall, seen: Lookup): Op<void> {
    const { m, flags, cpaLock, pmdp } = this;
    const fn = 'split_large_page';
    if (flags.cpaLock) yield* within(fn, spin_unlock(cpu, cpaLock));
    const base = yield* within(fn, m.memory.alloc_page(cpu, `P${cpu.id}`, 'pte'));
    if (flags.cpaLock) yield* within(fn, spin_lock(cpu, cpaLock));
    if (base === null) throw new Error('split_large_page: out of memory');
    const sfn = '__split_large_page';
    const P = m.memory.frameName(base);
    const words = Array.from({ length: E }, (_, i) => m.memory.word(physAddr(base, i)));
    const f = yield* this.irqSave(cpu, sfn);
    // spin_lock(&pgd_lock); "Check for races, another CPU might have split this page up for us
    // already" (tmp != kpte → unlock, return 1); then fill the new page from the large entry:
    // ref_prot = pgprot_large_2_4k(pmd_pgprot(*kpte)), ref_pfn = pmd_pfn(*kpte). Without the
    // recheck this CPU fills from the large entry its own lookup_address() saw — the mildest
    // form of the bug: the kernel would re-read *kpte, which may now point to the other CPU's
    // pte page. The new page is private until installed, so the fill is part of the step.
    const label = flags.recheck
      ? `${sfn}: spin_lock(pgd_lock); lookup_address(${hex(c.addr)}) == kpte?; fill ${P}[0..${E - 1}] from *kpte`
      : `${sfn}: spin_lock(pgd_lock); fill ${P}[0..${E - 1}] from the ${pmdp.name} value lookup_address() saw (no recheck)`;
    // Values fixed before the section (the pmd and the new page's words): one list for the call.
    const fillFp = joinAccesses(flags.recheck ? pmdp.readAccesses() : [], ...words.map((w) => w.writeAccesses()));
    const won = yield* this.pgdSection(cpu, label, 'take', () => fillFp, (say) => {
      if (flags.recheck) {
        const now = this.stillLarge(seen);
        if (!now.same) {
          say(`lost the race: ${pmdp.name} is now ${this.show(now.pmd)}, not the 2M entry → spin_unlock, return 1`);
          return { value: false, drop: true };
        }
      }
      const large = (flags.recheck ? pmdp.get() : seen.pte) as pte_t;
      const ref = pte_clrlarge(large);
      m.memory.setRole(base, 'pte');
      words.forEach((w, i) => w.set(pfn_pte((pte_pfn(ref) + i) as Pfn, pte_flags(ref)), sfn));
      say(`${P} := ${E} × ${this.show(ref)} (pfn +0..${E - 1}) from ${this.show(large)}`);
      return { value: true };
    });
    if (!won) {
      yield* this.irqRestore(cpu, sfn, f);
      yield* within(fn, m.memory.free_page(cpu, base)); // if (__split_large_page(...)) __free_page(base)
      return;
    }
    // __set_pmd_pte(kpte, address, mk_pte(base, __pgprot(_KERNPG_TABLE)))
    yield* within(sfn, set_pte(cpu, pmdp, pfn_pte(base, _KERNPG_TABLE), '__set_pmd_pte'));
    // __flush_tlb_all(): local only ("Intel Atom errata AAH41 workaround"); spin_unlock(&pgd_lock)
    const flushLocal = (say: (n: string) => void) => say(`local flush: ${cpu.dropped(cpu.tlb.flushAll())}`);
    if (!flags.pgdLockIrqsOff) {
      yield* this.pgdSection(cpu, `${sfn}: __flush_tlb_all (local); spin_unlock(pgd_lock)`, 'drop', () => flushFootprint(cpu), (say) => {
        flushLocal(say);
        return { value: undefined };
      });
      return;
    }
    yield* localFlush(cpu, `${sfn}: __flush_tlb_all (local)`);
    yield* flushTlbAll(m, cpu, sfn, 'flush_tlb_all'); // the global flush still under pgd_lock, interrupts off
    yield* this.pgdSection(cpu, `${sfn}: spin_unlock(pgd_lock)`, 'drop', () => NO_ACCESSES, () => ({ value: undefined }));
    yield* this.irqRestore(cpu, sfn, f);
  }

  /** cpa_flush_range(): on_each_cpu(__cpa_flush_range), then clflush each present page if `cache`. */
  *cpa_flush_range(cpu: Cpu, c: CpaCall, cache: boolean): Op<void> {
    const { m, flags, frames } = this;
    const fn = 'cpa_flush_range';
    if (flags.finalFlush) yield* flushTlbAll(m, cpu, fn, 'on_each_cpu(__cpa_flush_range)');
    if (cache && flags.cacheFlush) {
      const l = yield* within(fn, m.init_mm.lookup_address(cpu, c.addr));
      if (l && (l.pte & _PAGE_PRESENT) !== 0) {
        // clflush_cache_range(): mb(); clflush each line; mb(). On TSO the clflush is buffered
        // (ordered with the CPU's stores, SDM vol. 2A CLFLUSH) and the second mb() waits for it;
        // on SC both mb()s are no step.
        yield* within(fn, tso.mfence(cpu));
        yield* within(fn, m.memory.clflush(cpu, frames[c.page]!));
        yield* within(fn, tso.mfence(cpu));
      }
    }
  }

  /** change_page_attr_set_clr() for one page. */
  *change_page_attr_set_clr(cpu: Cpu, c: CpaCall): Op<void> {
    const { m, flags, cpaLock, frames } = this;
    let flushtlb = false; // cpa->flags & CPA_FLUSHTLB
    // __change_page_attr_set_clr(): spin_lock(&cpa_lock) around __change_page_attr()
    if (flags.cpaLock) yield* within('__change_page_attr_set_clr', spin_lock(cpu, cpaLock));
    for (;;) {
      // repeat: kpte = lookup_address(address, &level) — no lock
      const fn = '__change_page_attr';
      const l = yield* within(fn, m.init_mm.lookup_address(cpu, c.addr));
      if (!l) throw new Error(`${c.fn}: ${hex(c.addr)} is not mapped`);
      if (l.level === '4K') {
        const nu = this.newPte(c, l.pte);
        if (nu !== l.pte) {
          yield* within(fn, set_pte_atomic(cpu, l.kpte, nu));
          flushtlb = true;
        }
        break;
      }
      const doSplit = yield* this.try_preserve_large_page(cpu, c, l);
      if (!doSplit) break;
      yield* this.split_large_page(cpu, c, l);
      // ad5ca55f6bdb: "global flush tlb after splitting big page and before doing cpa"
      if (flags.flushAfterSplit) yield* flushTlbAll(m, cpu, fn, 'flush_tlb_all');
      // goto repeat
    }
    if (flags.cpaLock) yield* within('__change_page_attr_set_clr', spin_unlock(cpu, cpaLock));
    if (flushtlb) yield* this.cpa_flush_range(cpu, c, (c.maskSet & _PAGE_CACHE_MASK) !== 0);
    const data = m.memory.word(physAddr(frames[c.page]!, 0));
    yield* op(
      // The footprint reads what the "after the call returned" invariants compare: the page's
      // data, its entries and its cache flag, so DPOR orders every later change against it.
      stableStep(`${c.fn}(${hex(c.addr)}) returns`, () => this.returnFootprint(c), (say) => {
        c.returned.set(1);
        if ((c.maskClr & _PAGE_RW) !== 0) c.contentsAtReturn = m.memory.contents(frames[c.page]!);
        const leaf = m.init_mm.leaf(c.addr);
        const f = frames[c.page]!;
        const lines = (c.maskSet & _PAGE_CACHE_MASK) === 0 ? '' : `; ${m.memory.frameName(f)} ${m.memory.isCachedWB(f) ? 'still has WB lines cached (used as WB memory before the call)' : 'has no WB lines cached'}`;
        const word = unaudited(() => data.get()); // for the note: set_memory_uc's footprint leaves the data out
        say(`${leaf ? `${leaf.kpte.name} = ${describePte(leaf.pte, (x) => m.memory.frameName(x))}` : 'not mapped'}; ${data.name} = ${word}${lines}`);
      }),
    );
  }

  returnFootprint(c: CpaCall): readonly Access[] {
    const { m, frames } = this;
    const f = frames[c.page]!;
    const w = m.init_mm.walk(c.addr);
    const acc: Access[] = [write(c.returned.loc), read(w.pmdp.loc)];
    if (w.kind === 'table') acc.push(read(w.ptep.loc));
    if ((c.maskSet & _PAGE_CACHE_MASK) !== 0) acc.push(read(cacheLoc(f)));
    if ((c.maskClr & _PAGE_RW) !== 0) for (let i = 0; i < E; i++) acc.push(read(memLoc(physAddr(f, i))));
    return acc;
  }

  *caller(i: number): Op<void> {
    const c = this.calls[i]!;
    yield* this.change_page_attr_set_clr(this.m.cpu(c.cpu), c);
  }

  /** CPU 2: kernel code using the direct map, a fork (pgd_alloc), then rodata_test(). */
  *user(): Op<void> {
    const { m, vas, calls, pgdList } = this;
    const cpu = m.cpu(2);
    // Reads its data on page 0: fills a 2M or a 4K TLB entry, whichever the tables hold now.
    const r = yield* cpu.load(vas[0]!);
    this.loadVia = r.ok ? r.via : 'fault';
    if (this.params.forks === 1) {
      // pgd_alloc() → pgd_list_add() under pgd_lock (arch/x86/mm/pgtable.c)
      // Positions: after its load the thread carries nothing but loadVia (declared state).
      const f = yield* at('pgd_alloc', this.irqSave(cpu, 'pgd_alloc'));
      yield* this.pgdSection(cpu, `pgd_alloc: spin_lock(pgd_lock); pgd_list_add(pgd); spin_unlock(pgd_lock)`, 'take-drop', () => pgdList.writeAccesses(), (say) => {
        pgdList.set(pgdList.get() + 1);
        say('new pgd on pgd_list');
        return { value: undefined };
      });
      yield* this.irqRestore(cpu, 'pgd_alloc', f);
    }
    // rodata_test() (mm/rodata_test.c): once mark_rodata_ro() → set_memory_ro() has returned,
    // a write to the read-only page must fault.
    const ro = calls[0]!;
    yield* at('rodata_test', op(
      stableStep(`rodata_test: wait for ${ro.fn}(${hex(ro.addr)})`, [read(ro.returned.loc)], (say) => say(`${ro.fn} has returned`), () => ro.returned.get() === 1),
    ));
    yield* within('rodata_test', cpu.store(vas[0]!, RODATA_TEST_VALUE));
  }
}

function build(variant: string, params: Params): Program {
  const k = new CpaKernel(variant, params);
  const { m, vas, calls } = k;
  return {
    threads: [
      ...calls.map((c, i) => ({ name: `cpu${c.cpu}`, body: () => k.caller(i) })),
      { name: 'cpu2', body: () => k.user() },
      ...m.actors(),
      ...(params.speculation === 1 ? [splitSpeculation(m.cpu(2), vas[0]!, 1)] : []),
    ],
    invariants: cpaInvariants(k.st),
    // Besides the machine: which translation cpu2's load used (set by its thread) and the ro
    // page's contents each call saw when it returned (set by the return step).
    state: programState(
      m,
      modelState(
        () => ({ loadVia: k.loadVia, contents: calls.map((c) => c.contentsAtReturn) }),
        (s) => {
          k.loadVia = s.loadVia;
          calls.forEach((c, i) => (c.contentsAtReturn = s.contents[i]));
        },
        (s) => s.loadVia === k.loadVia && calls.every((c, i) => s.contents[i] === c.contentsAtReturn),
      ),
    ),
    // Its threads' steps and labels follow from the results they receive (no frame is renamed);
    // the one write their code makes between steps, cpu2's loadVia, is bookkeeping the engine
    // sees change (ProgramState.unaudited), so that code always runs again.
    pureThreads: true,
    finalState: () => JSON.stringify({ loadVia: k.loadVia, machine: m.finalState() }),
    snapshot: () => ({ ...m.snapshot(), returned: calls.filter((c) => c.returned.get() === 1).map((c) => `${c.fn}(${hex(c.addr)})`) }),
  };
}

export const cpa = defineModel({
  name: 'cpa',
  title: 'change_page_attr: splitting a direct-map large page under concurrent set_memory_*()',
  source:
    'arch/x86/mm/pageattr.c: __change_page_attr_set_clr, __change_page_attr, try_preserve_large_page, split_large_page, ' +
    'cpa_flush_range (2.6.28 after ad5ca55f6bdb "x86, cpa: srlz cpa(), global flush tlb after splitting big page"; lkml 2008/9/23/383)',
  params: {
    callers: { default: 2, min: 1, max: 2, description: 'CPA callers: cpu0 set_memory_ro(page 0), cpu1 set_memory_uc(page 1)' },
    speculation: { default: 1, min: 0, max: 2, description: 'cpu2 speculative walks of page 0: 0 none, 1 a 4K fill while the 2M entry is cached, 2 any fill at any moment' },
    forks: { default: 0, min: 0, max: 1, description: 'cpu2 runs pgd_alloc() (takes pgd_lock) before rodata_test' },
    psc: { default: 0, min: 0, max: 1, description: 'CPUs cache pmd → pte-page pointers (paging-structure cache)' },
  },
  variants: [
    { name: 'fixed', description: '2.6.28 / 4.x: cpa_lock, recheck under pgd_lock, flush_tlb_all after the split, final flush + clflush', expect: 'holds' },
    {
      name: 'no-recheck',
      description: '__split_large_page without the lookup_address() == kpte recheck: both CPUs split; the second install overwrites the first CPU\'s pte page and its change (and leaks it)',
      expect: { violates: 'no-lost-attribute-change' },
    },
    {
      name: 'no-flush-after-split',
      description: 'before ad5ca55f6bdb: the 4K pte is changed right after the split, while another CPU still holds the 2M entry',
      expect: { violates: 'no-conflicting-translations' },
    },
    {
      name: 'no-final-flush',
      description: 'cpa_flush_range without the TLB flush: after set_memory_ro returns, cpu2 still writes through its stale RW entry',
      expect: { violates: 'no-write-through-readonly' },
    },
    {
      name: 'no-cache-flush',
      description: 'cpa_flush_range without clflush: set_memory_uc returns with the frame\'s WB lines still cached',
      expect: { violates: 'no-cache-type-alias' },
    },
    {
      name: 'pgd-lock-irqs-off',
      description:
        'v1 of the series: 2.6.27 locking (no cpa_lock, pgd_lock irqsave) with the split\'s flush_tlb_all sent under pgd_lock: the other caller spins on pgd_lock with interrupts off and never acks (item 1 of the v2 cover letter, lkml 2008/9/23/383); ' +
        'or, unserialised (item 3), it changes the new 4K pte before the flush reached cpu2, which holds the 2M entry and fills a 4K one under it',
      expect: { violates: 'deadlock', or: ['no-conflicting-translations'] },
    },
  ],
  invariants: [
    { name: 'direct-map-identity', description: 'the direct map\'s va→pfn never changes' },
    { name: 'no-lost-attribute-change', description: 'after set_memory_*() returns, the page tables carry its attribute' },
    { name: 'no-conflicting-translations', description: 'no CPU holds a 2M and a 4K translation of one address that disagree' },
    { name: 'no-cache-type-alias', description: 'no frame has WB lines cached after set_memory_uc() on it returned' },
    { name: 'no-write-through-readonly', description: 'after set_memory_ro() returns nobody writes the page' },
    { name: 'tlb-agrees-after-cpa', description: 'at the end, every TLB entry for a changed page agrees with the page tables' },
    { name: 'deadlock', description: 'reported by the engine: no IPI wait while a CPU spins on pgd_lock with interrupts off' },
  ],
  maxSteps: 400,
  build,
});

export default cpa;
