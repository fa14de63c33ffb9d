// A simulated CPU: loads and stores through its TLB (walking the page tables on a miss),
// the hardware A/D update, local TLB flushes, interrupt flag, and the remote TLB shootdowns
// (implemented in ipi.ts). Every operation that touches shared state is a Step.
//
// Instruction model (MODELS.md §1): a load is [translate, read data]; a store is
// [translate, (locked A|D update on the source entry, if the cached D is clear), write data].
// The first and last step of an instruction write `cpu:<id>:insn`; IPIs are delivered only
// while no instruction is in progress.
//
// The CPU's own state (interrupt flag, instruction in progress, cr3, IPI queue, acks) reports
// every access to the engine's access audit under the locations below; notes for traces that
// mention state outside a step's footprint are built unaudited (they never affect behaviour).
import { noteRead, noteWrite, unaudited } from '../engine/audit.js';
import { type Access, type Loc, type Step, write } from '../engine/types.js';
import * as ipi from './ipi.js';
import { type PhysMemory, cacheLoc } from './memory.js';
import type { PageTable, PgLevel } from './pagetable.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, describePte, type pte_t, pte_present, pte_set_flags, pte_write } from './pte.js';
import { mkStep, op } from './step.js';
import { type Stateful, sameList } from './state.js';
import { Tlb, type TlbEntry, type TlbState, decodeEntry, encodeEntry } from './tlb.js';
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
  | { readonly ok: true; readonly value: T; /** the size of the TLB entry the access went through */ readonly via: PgLevel }
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
  /** The address spaces by number, for saving which one a CPU runs (a saved state holds no
   * objects: it is put back into another build of the program). */
  mmIndex(mm: PageTable): number;
  mmAt(i: number): PageTable;
}

/** What `Cpu.save` copies: interrupt flag, instruction in progress, cr3 (as an mm number), the
 * IPI queue (immutable requests), the acks awaited, and the TLB. */
export interface CpuState {
  readonly irq: boolean;
  readonly insn: boolean;
  readonly mm: number;
  readonly ipis: readonly ipi.IpiRequest[];
  readonly acks: readonly CpuId[];
  readonly tlb: TlbState;
}

type Op<T> = Generator<Step, T, unknown>;
type Translated = { readonly ok: true; readonly entry: TlbEntry } | { readonly ok: false; readonly fault: PageFaultKind; readonly why: string };

/** translate's step result: an encoded entry (it starts with a digit), or "<fault kind>:<why>".
 * Decoded once per distinct string: the results are immutable, and a search sees few distinct
 * ones again and again (every store decodes one). */
function decodeTranslated(r: string): Translated {
  let t = decoded.get(r);
  if (t === undefined) {
    const c = r.charCodeAt(0);
    if (c >= 48 && c <= 57) t = { ok: true, entry: decodeEntry(r) };
    else {
      const k = r.indexOf(':');
      t = { ok: false, fault: r.slice(0, k) as PageFaultKind, why: r.slice(k + 1) };
    }
    if (decoded.size >= 1 << 16) decoded.clear(); // a bound, never reached by the built-in models
    decoded.set(r, t);
  }
  return t;
}
const decoded = new Map<string, Translated>();

function sameAcks(saved: readonly CpuId[], acks: ReadonlySet<CpuId>): boolean {
  if (saved.length !== acks.size) return false;
  let i = 0;
  for (const a of acks) if (saved[i++] !== a) return false;
  return true;
}

export class Cpu implements Stateful<CpuState> {
  readonly tlb: Tlb;
  readonly name: string;
  readonly insnLoc: Loc;
  readonly irqLoc: Loc;
  readonly ipiLoc: Loc;
  readonly cr3Loc: Loc;
  readonly faultLoc: Loc;
  private readonly ackLocs: Loc[] = [];
  private irq = true;
  private insn = false;
  private root: PageTable;
  private readonly ipiQueue: ipi.IpiRequest[] = [];
  private readonly acks = new Set<CpuId>();
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: CpuState | undefined;

  constructor(readonly id: CpuId, mm: PageTable, readonly host: CpuHost) {
    this.tlb = new Tlb(id, host.geo);
    this.name = `cpu${id}`;
    this.insnLoc = `cpu:${id}:insn`;
    this.irqLoc = `irq:${id}`;
    this.ipiLoc = `ipi:${id}`;
    this.cr3Loc = `cr3:${id}`;
    this.faultLoc = `fault:${id}`;
    this.root = mm;
  }

  // ---- Program.state (raw copies, not audited) ----

  save(): CpuState {
    const tlb = this.tlb.save();
    const mm = this.host.mmIndex(this.root);
    const last = this.last;
    // The last state again while nothing changed (see state.ts); the acks in their set's order.
    if (last && last.tlb === tlb && last.irq === this.irq && last.insn === this.insn && last.mm === mm && sameList(last.ipis, this.ipiQueue) && sameAcks(last.acks, this.acks)) return last;
    return (this.last = { irq: this.irq, insn: this.insn, mm, ipis: this.ipiQueue.slice(), acks: [...this.acks], tlb });
  }
  restore(s: CpuState): void {
    this.irq = s.irq;
    this.insn = s.insn;
    this.root = this.host.mmAt(s.mm);
    this.ipiQueue.length = 0;
    for (const r of s.ipis) this.ipiQueue.push(r);
    this.acks.clear();
    for (const a of s.acks) this.acks.add(a);
    this.tlb.restore(s.tlb);
    this.last = s;
  }

  ackLoc(target: CpuId): Loc {
    return (this.ackLocs[target] ??= `ack:${this.id}:${target}`);
  }

  /** Interrupts enabled (`irq:<id>`). */
  get irqEnabled(): boolean {
    noteRead(this.irqLoc);
    return this.irq;
  }
  set irqEnabled(on: boolean) {
    noteWrite(this.irqLoc);
    this.irq = on;
  }
  /** Inside a load/store (`cpu:<id>:insn`). */
  get inInsn(): boolean {
    noteRead(this.insnLoc);
    return this.insn;
  }
  set inInsn(v: boolean) {
    noteWrite(this.insnLoc);
    this.insn = v;
  }
  /** The mm this CPU runs (its cr3, `cr3:<id>`). */
  get mm(): PageTable {
    noteRead(this.cr3Loc);
    return this.root;
  }
  set mm(next: PageTable) {
    noteWrite(this.cr3Loc);
    this.root = next;
  }
  /**
   * The mm, read by this CPU's own thread between its steps (flush_tlb_mm() defaulting to
   * current->active_mm). Not audited: only this CPU's own switch_mm writes its cr3, so no other
   * thread's step can change what its own code reads here.
   */
  get ownMm(): PageTable {
    return this.root;
  }

  /** Shootdown requests not yet handled (`ipi:<id>`). */
  get ipiPending(): readonly ipi.IpiRequest[] {
    noteRead(this.ipiLoc);
    return this.ipiQueue;
  }
  /** Queue a shootdown request on this CPU (the sender's step). */
  postIpi(r: ipi.IpiRequest): void {
    noteWrite(this.ipiLoc);
    this.ipiQueue.push(r);
  }
  /** Take every pending request (the delivery step). */
  takeIpis(): ipi.IpiRequest[] {
    noteWrite(this.ipiLoc);
    return this.ipiQueue.splice(0);
  }

  /** CPUs whose ack this CPU is waiting for (reads every `ack:<id>:<target>`). */
  get awaitingAcks(): ReadonlySet<CpuId> {
    for (const c of this.host.cpuList) if (c !== this) noteRead(this.ackLoc(c.id));
    return this.acks;
  }
  /** The sender starts waiting for `target`'s ack. */
  expectAck(target: CpuId): void {
    noteWrite(this.ackLoc(target));
    this.acks.add(target);
  }
  /** `target` acked this CPU's request. */
  acked(target: CpuId): void {
    noteWrite(this.ackLoc(target));
    this.acks.delete(target);
  }

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
    return { ok: true, value, via: t.entry.size };
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
      return { ok: true, value: undefined, via: entry.size };
    }
  }

  /**
   * First step of an access: TLB hit, or one-step walk + fill; permission check. The step's
   * result is a string (`encodeTranslated`), decoded here by the thread: a state restore feeds
   * a thread only plain results back, and translate starts every load and store.
   */
  private *translate(v: VirtAddr, access: AccessKind, what: string): Op<Translated> {
    return decodeTranslated(yield* this.translateStep(v, access, what));
  }
  private *translateStep(v: VirtAddr, access: AccessKind, what: string): Op<string> {
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
      mkStep(`${what}: translate`, fp, (say): string => {
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
        return encodeEntry(entry);
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
    // The step returns the updated entry encoded (plain data for a state restore, as translate).
    const r = yield* op(
      mkStep(`${what}: set D in ${src.name}`, fp, (say): string | null => {
        const cur = src.get() as pte_t;
        const name = (f: Pfn) => mem.frameName(f);
        if (!pte_present(cur) || !pte_write(cur)) {
          this.tlb.drop(entry);
          say(`source ${src.name} is ${describePte(cur, name)}: D not set, TLB entry dropped, re-walk`);
          return null;
        }
        src.set(pte_set_flags(cur, _PAGE_ACCESSED | _PAGE_DIRTY), `${this.name} (hardware D update)`);
        const cached = this.tlb.update(entry, { ...entry, dirty: true });
        const kept = cached !== null;
        // Evicted meanwhile: the store goes on through the D-set entry the CPU had; it is in no
        // TLB, so its serial is one no fill has.
        const nu: TlbEntry = cached ?? { ...entry, dirty: true, serial: -entry.serial };
        const notes = [`D set in ${src.name}`];
        if (!kept) notes.push('(TLB entry was evicted meanwhile)');
        // The note looks at the live tables, outside the footprint: it never affects behaviour.
        unaudited(() => {
          const live = this.mm.leaf(v);
          if (!live) notes.push('(stale TLB entry: nothing maps the address now)');
          else if (live.kpte.pa !== entry.source) notes.push(`(stale TLB entry: live entry is ${live.kpte.name})`);
          if (!mem.isAllocated(paPfn(entry.source))) notes.push(`— ${mem.frameName(paPfn(entry.source))} is a FREED frame`);
        });
        say(notes.join(' '));
        return encodeEntry(nu);
      }),
    );
    return r === null ? null : decodeEntry(r);
  }

  private fault(v: VirtAddr, access: AccessKind, kind: PageFaultKind, why: string): string {
    this.endInsn();
    this.host.recordFault({ cpu: this.id, va: v, access, kind, why });
    return `${kind}:${why}`;
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
    yield* op(mkStep('local TLB flush', () => this.tlb.flushAllAccesses(), (say) => say(this.dropped(this.tlb.flushAll()))));
  }
  dropped(gone: readonly TlbEntry[]): string {
    return gone.length === 0 ? 'nothing cached' : `dropped ${gone.map((e) => this.describe(e)).join('; ')}`;
  }

  /** Load a new root (cr3 write): the whole TLB is flushed. */
  *switch_mm(next: PageTable): Op<void> {
    yield* op(mkStep(`switch_mm → ${next.name}`, () => [write(this.cr3Loc), ...this.tlb.flushAllAccesses()], (say) => {
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
      say(`interrupts ${on ? 'on' : 'off'}${on && unaudited(() => this.ipiQueue.length > 0) ? ' (IPI pending)' : ''}`);
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
    yield* ipi.shootdown(this, { kind: 'range', start, end: va(start + PAGE_SIZE) }, this.ownMm, `flush_tlb_page(${hex(v)})`);
  }
  /** Flush [start, end) on every CPU running `mm` (default: this CPU's). */
  *flush_tlb_range(start: VirtAddr, end: VirtAddr, mm: PageTable = this.ownMm): Op<void> {
    yield* ipi.shootdown(this, { kind: 'range', start, end }, mm, `flush_tlb_range(${hex(start)}, ${hex(end)})`);
  }
  /** Flush the whole TLB of every CPU running `mm` (default: this CPU's). */
  *flush_tlb_mm(mm: PageTable = this.ownMm): Op<void> {
    yield* ipi.shootdown(this, { kind: 'all' }, mm, `flush_tlb_mm(${mm.name})`);
  }
}
