// A simulated CPU: loads and stores through its TLB (walking the page tables on a miss),
// the hardware A/D update, local TLB flushes, interrupt flag, and the remote TLB shootdowns
// (implemented in ipi.ts). Every operation that touches shared state is a Step.
//
// Instruction model (MODELS.md §1): a load is [translate, read data]; a store is
// [translate, (locked A|D update on the source entry, if the cached D is clear), write data].
// The first and last step of an instruction write `cpu:<id>:insn`; IPIs are delivered only
// while no instruction is in progress.
import { type Access, type Loc, type Step, read, write } from '../engine/types.js';
import * as ipi from './ipi.js';
import { type PhysMemory, cacheLoc } from './memory.js';
import type { PageTable } from './pagetable.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, describePte, type pte_t, pte_present, pte_set_flags, pte_write } from './pte.js';
import { mkStep, op } from './step.js';
import { Tlb, type TlbEntry } from './tlb.js';
import { type CpuId, type Geometry, type Pfn, type PhysAddr, type VirtAddr, PAGE_SIZE, hex, paPfn, physAddr, va } from './types.js';
import { applyWalk, describeEntry, planWalk, type WalkContext } from './walk.js';

export type AccessKind = 'load' | 'store';
export type PageFaultKind = 'not-present' | 'write-protect';

/** A page fault, as recorded in `machine.faults`. */
export interface FaultRecord {
  readonly cpu: CpuId;
  readonly va: VirtAddr;
  readonly access: AccessKind;
  readonly kind: PageFaultKind;
  readonly why: string;
}

/** What load/store return. A fault is also recorded in `machine.faults`. */
export type AccessResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly fault: PageFaultKind; readonly why: string };

/** Saved interrupt state from local_irq_save. */
export type IrqFlags = boolean & { readonly __brand: 'IrqFlags' };

/** What a CPU needs from the machine it belongs to. */
export interface CpuHost {
  readonly memory: PhysMemory;
  readonly geo: Geometry;
  readonly pagingStructureCache: boolean;
  readonly trackCaches: boolean;
  readonly cpuList: readonly Cpu[];
  recordFault(f: FaultRecord): void;
}

type Op<T> = Generator<Step, T, unknown>;
type Translated = { readonly ok: true; readonly entry: TlbEntry } | { readonly ok: false; readonly fault: PageFaultKind; readonly why: string };

export class Cpu {
  readonly tlb: Tlb;
  readonly name: string;
  /** Interrupts enabled (`irq:<id>`). */
  irqEnabled = true;
  /** Inside a load/store (`cpu:<id>:insn`). */
  inInsn = false;
  /** Shootdown requests not yet handled (`ipi:<id>`). */
  readonly ipiPending: ipi.IpiRequest[] = [];
  /** CPUs whose ack this CPU is waiting for (`ack:<id>:<target>`). */
  readonly awaitingAcks = new Set<CpuId>();

  constructor(readonly id: CpuId, public mm: PageTable, readonly host: CpuHost) {
    this.tlb = new Tlb(id, host.geo);
    this.name = `cpu${id}`;
  }

  get insnLoc(): Loc { return `cpu:${this.id}:insn`; }
  get irqLoc(): Loc { return `irq:${this.id}`; }
  get ipiLoc(): Loc { return `ipi:${this.id}`; }
  get cr3Loc(): Loc { return `cr3:${this.id}`; }
  get faultLoc(): Loc { return `fault:${this.id}`; }
  ackLoc(target: CpuId): Loc { return `ack:${this.id}:${target}`; }

  get walkContext(): WalkContext {
    return { tlb: this.tlb, mm: this.mm, cr3Loc: this.cr3Loc, psc: this.host.pagingStructureCache };
  }

  // ---- loads and stores ----

  /** Load the word at `v`. */
  *load(v: VirtAddr): Op<AccessResult<number>> {
    const t = yield* this.translate(v, 'load', `load ${hex(v)}`);
    if (!t.ok) return t;
    const pa = physAddr(this.tlb.frameOf(t.entry, v), this.host.geo.wordIndex(v));
    const word = this.host.memory.word(pa);
    const value = yield* op(
      mkStep(`load ${hex(v)}: read ${word.name}`, [write(this.insnLoc), ...word.readAccesses(), ...this.cacheAccess(t.entry, pa)], (say) => {
        this.endInsn();
        this.touchCache(t.entry, pa);
        const x = word.get();
        say(`${word.name} = ${x}`);
        return x;
      }),
    );
    return { ok: true, value };
  }

  /** Store `value` at `v`. */
  *store(v: VirtAddr, value: number): Op<AccessResult<void>> {
    const what = `store ${hex(v)} := ${value}`;
    for (;;) {
      const t = yield* this.translate(v, 'store', what);
      if (!t.ok) return t;
      let entry = t.entry;
      if (!entry.dirty) {
        const updated = yield* this.setDirty(v, entry, what);
        if (updated === null) continue; // source entry gone: re-walk
        entry = updated;
      }
      const pa = physAddr(this.tlb.frameOf(entry, v), this.host.geo.wordIndex(v));
      const word = this.host.memory.word(pa);
      const fp = [write(this.insnLoc), ...word.writeAccesses(), ...this.cacheAccess(entry, pa)];
      yield* op(
        mkStep(`${what}: write ${word.name}`, fp, (say) => {
          this.endInsn();
          this.touchCache(entry, pa);
          const old = word.get();
          word.set(value, `${this.name} store ${hex(v)}`);
          const freed = this.host.memory.isAllocated(paPfn(pa)) ? '' : ` — ${this.host.memory.frameName(paPfn(pa))} is a FREED frame`;
          say(`${word.name}: ${old} → ${value}${freed}`);
        }),
      );
      return { ok: true, value: undefined };
    }
  }

  /** First step of an access: TLB hit, or one-step walk + fill; permission check. */
  private *translate(v: VirtAddr, access: AccessKind, what: string): Op<Translated> {
    const fp = (): readonly Access[] => {
      const hit = this.tlb.lookup(v);
      if (hit) {
        const f = access === 'store' && !hit.rw ? [write(this.faultLoc)] : [];
        return [write(this.insnLoc), ...this.tlb.lookupAccesses(v), ...f];
      }
      const plan = planWalk(this.walkContext, v);
      const f = plan.kind === 'fault' || (access === 'store' && !plan.entry.rw) ? [write(this.faultLoc)] : [];
      return [write(this.insnLoc), ...plan.accesses, ...f];
    };
    return yield* op(
      mkStep(`${what}: translate`, fp, (say): Translated => {
        this.inInsn = true;
        let entry = this.tlb.lookup(v);
        let note: string;
        if (entry) {
          note = `TLB hit: ${this.describe(entry)}`;
        } else {
          const plan = planWalk(this.walkContext, v);
          note = applyWalk(this.walkContext, plan, this.name);
          if (plan.kind === 'fault') {
            say(`${note} → page fault`);
            return this.fault(v, access, 'not-present', plan.why);
          }
          entry = plan.entry;
        }
        if (access === 'store' && !entry.rw) {
          say(`${note} → write-protect fault`);
          return this.fault(v, access, 'write-protect', `entry from ${this.host.memory.describe(entry.source)} is read-only`);
        }
        say(note);
        return { ok: true, entry };
      }),
    );
  }

  /**
   * The locked A|D update on the entry the TLB entry came from. Returns the updated TLB entry,
   * or null when the source is no longer present/writable (the TLB entry is dropped: re-walk).
   */
  private *setDirty(v: VirtAddr, entry: TlbEntry, what: string): Op<TlbEntry | null> {
    const mem = this.host.memory;
    const src = mem.word(entry.source);
    const fp = [...this.tlb.lookupAccesses(v), write(this.tlb.slotLoc(v, entry.size)), ...src.readAccesses(), ...src.writeAccesses()];
    return yield* op(
      mkStep(`${what}: set D in ${src.name}`, fp, (say) => {
        const cur = src.get() as pte_t;
        const name = (f: Pfn) => mem.frameName(f);
        if (!pte_present(cur) || !pte_write(cur)) {
          this.tlb.drop(entry);
          say(`source ${src.name} is ${describePte(cur, name)}: D not set, TLB entry dropped, re-walk`);
          return null;
        }
        src.set(pte_set_flags(cur, _PAGE_ACCESSED | _PAGE_DIRTY), `${this.name} (hardware D update)`);
        const nu: TlbEntry = { ...entry, dirty: true };
        const kept = this.tlb.update(entry, nu);
        const notes = [`D set in ${src.name}`];
        const live = this.mm.leaf(v);
        if (!live) notes.push('(stale TLB entry: nothing maps the address now)');
        else if (live.kpte.pa !== entry.source) notes.push(`(stale TLB entry: live entry is ${live.kpte.name})`);
        if (!mem.isAllocated(paPfn(entry.source))) notes.push(`— ${mem.frameName(paPfn(entry.source))} is a FREED frame`);
        if (!kept) notes.push('(TLB entry was evicted meanwhile)');
        say(notes.join(' '));
        return nu;
      }),
    );
  }

  private fault(v: VirtAddr, access: AccessKind, kind: PageFaultKind, why: string): Translated {
    this.endInsn();
    this.host.recordFault({ cpu: this.id, va: v, access, kind, why });
    return { ok: false, fault: kind, why };
  }
  private endInsn(): void {
    this.inInsn = false;
  }
  private cacheAccess(e: TlbEntry, pa: PhysAddr): Access[] {
    return this.host.trackCaches && e.cacheType === 'WB' ? [write(cacheLoc(paPfn(pa)))] : [];
  }
  private touchCache(e: TlbEntry, pa: PhysAddr): void {
    if (this.host.trackCaches && e.cacheType === 'WB') this.host.memory.setCachedWB(paPfn(pa), true);
  }
  describe(e: TlbEntry): string {
    const mem = this.host.memory;
    return describeEntry(e, (f) => mem.frameName(f), mem.describe(e.source));
  }

  // ---- local TLB flushes ----

  /** invlpg: drop this CPU's translations of `v` (and its paging-structure cache). */
  *invlpg(v: VirtAddr): Op<void> {
    yield* op(
      mkStep(`invlpg ${hex(v)}`, this.tlb.invlpgAccesses(v), (say) => {
        say(this.dropped(this.tlb.invalidate(v)));
      }),
    );
  }
  /** Local flush of every page in [start, end), one step. */
  *flushTlbLocalRange(start: VirtAddr, end: VirtAddr): Op<void> {
    yield* op(mkStep(`local flush ${hex(start)}-${hex(end)}`, ipi.flushAccesses(this, { kind: 'range', start, end }), (say) => {
      say(ipi.applyFlush(this, { kind: 'range', start, end }));
    }));
  }
  /** Flush this CPU's whole TLB (__flush_tlb_all). */
  *flushTlbLocal(): Op<void> {
    yield* op(mkStep('local TLB flush', this.tlb.flushAllAccesses(), (say) => say(this.dropped(this.tlb.flushAll()))));
  }
  dropped(gone: readonly TlbEntry[]): string {
    return gone.length === 0 ? 'nothing cached' : `dropped ${gone.map((e) => this.describe(e)).join('; ')}`;
  }

  /** Load a new root (cr3 write): the whole TLB is flushed. */
  *switch_mm(next: PageTable): Op<void> {
    yield* op(mkStep(`switch_mm → ${next.name}`, [write(this.cr3Loc), ...this.tlb.flushAllAccesses()], (say) => {
      this.mm = next;
      say(`now on ${next.name}; ${this.dropped(this.tlb.flushAll())}`);
    }));
  }

  // ---- interrupts ----

  *local_irq_disable(): Op<void> {
    yield* this.setIrq(false, 'local_irq_disable');
  }
  *local_irq_enable(): Op<void> {
    yield* this.setIrq(true, 'local_irq_enable');
  }
  *local_irq_save(): Op<IrqFlags> {
    const was = yield* this.setIrq(false, 'local_irq_save');
    return was as IrqFlags;
  }
  *local_irq_restore(flags: IrqFlags): Op<void> {
    yield* this.setIrq(flags, 'local_irq_restore');
  }
  private *setIrq(on: boolean, label: string): Op<boolean> {
    return yield* op(mkStep(label, [write(this.irqLoc)], (say) => {
      const was = this.irqEnabled;
      this.irqEnabled = on;
      say(`interrupts ${on ? 'on' : 'off'}${this.ipiPending.length && on ? ' (IPI pending)' : ''}`);
      return was;
    }));
  }

  // ---- remote shootdowns (ipi.ts) ----

  /** Flush every CPU's whole TLB; waits for every other CPU's ack. */
  *flush_tlb_all(): Op<void> {
    yield* ipi.shootdown(this, { kind: 'all' }, 'all', 'flush_tlb_all');
  }
  /** Flush [start, end) on every CPU (kernel addresses); waits for the acks. */
  *flush_tlb_kernel_range(start: VirtAddr, end: VirtAddr): Op<void> {
    yield* ipi.shootdown(this, { kind: 'range', start, end }, 'all', `flush_tlb_kernel_range(${hex(start)}, ${hex(end)})`);
  }
  /** Flush one page on every CPU running this CPU's mm. */
  *flush_tlb_page(v: VirtAddr): Op<void> {
    const start = va(v - (v % PAGE_SIZE));
    yield* ipi.shootdown(this, { kind: 'range', start, end: va(start + PAGE_SIZE) }, this.mm, `flush_tlb_page(${hex(v)})`);
  }
  /** Flush [start, end) on every CPU running `mm` (default: this CPU's). */
  *flush_tlb_range(start: VirtAddr, end: VirtAddr, mm: PageTable = this.mm): Op<void> {
    yield* ipi.shootdown(this, { kind: 'range', start, end }, mm, `flush_tlb_range(${hex(start)}, ${hex(end)})`);
  }
  /** Flush the whole TLB of every CPU running `mm` (default: this CPU's). */
  *flush_tlb_mm(mm: PageTable = this.mm): Op<void> {
    yield* ipi.shootdown(this, { kind: 'all' }, mm, `flush_tlb_mm(${mm.name})`);
  }
}
