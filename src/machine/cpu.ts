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
import { type Access, type Loc, type OpPosition, type OpScope, type Step, scopedOp } from '../engine/types.js';
import * as ipi from './ipi.js';
import { type PhysMemory, type WordCell, cacheLoc } from './memory.js';
import type { PageTable, PgLevel } from './pagetable.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, describePte, type pte_t, pte_present, pte_set_flags, pte_write } from './pte.js';
import { joinAccesses, readsOf, textFor, writeOf, writesOf, stableStep } from './step.js';
import { type Stateful, sameList } from './state.js';
import { Tlb, type TlbEntry, type TlbState, decodeEntry, encodeEntry } from './tlb.js';
import { type CpuId, type Geometry, type Pfn, type PhysAddr, type VirtAddr, PAGE_SIZE, hex, paPfn, physAddr, va } from './types.js';
import { applyWalk, describeEntry, planWalk, type WalkContext } from './walk.js';
import { type StoreBuffer, serialised, serialisedOp } from './tso/store-buffer.js';

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
/** setDirty's step result (an encoded entry), decoded once per distinct string like translate's. */
function decodeUpdated(r: string): TlbEntry {
  const t = decodeTranslated(r);
  if (!t.ok) throw new Error(`not an encoded TLB entry: ${r}`);
  return t.entry;
}

/**
 * The texts of one access site: loads of one address, or stores of one value to one address.
 * A thread yields an access's steps again whenever its execution is brought back from a saved
 * state, and the engine builds the program again for every execution, so the texts are made
 * once per site and shared by every build and CPU.
 */
interface SiteText {
  /** "load 0x1000", "store 0x1000 := 3". */
  readonly what: string;
  readonly translate: string;
  /** The data step's label ("…: write D0[0]") and setDirty's ("…: set D in O[0]") by word name. */
  readonly word: Map<string, string>;
  readonly dirty: Map<string, string>;
}
const loadTexts = new Map<number, SiteText>();
const storeTexts = new Map<number, Map<number, SiteText>>();
const siteText = (what: string): SiteText => ({ what, translate: `${what}: translate`, word: new Map(), dirty: new Map() });
function loadText(v: VirtAddr): SiteText {
  let t = loadTexts.get(v);
  if (t === undefined) {
    if (loadTexts.size >= 1 << 16) loadTexts.clear(); // a bound, never reached by the built-in models
    loadTexts.set(v, (t = siteText(`load ${hex(v)}`)));
  }
  return t;
}
function storeText(v: VirtAddr, value: number): SiteText {
  let byValue = storeTexts.get(v);
  if (byValue === undefined) {
    if (storeTexts.size >= 1 << 16) storeTexts.clear();
    storeTexts.set(v, (byValue = new Map()));
  }
  let t = byValue.get(value);
  if (t === undefined) {
    if (byValue.size >= 1 << 16) byValue.clear();
    byValue.set(value, (t = siteText(`store ${hex(v)} := ${value}`)));
  }
  return t;
}

/** Where a store is at its last step (Step.opPosition): everything that step and the store's
 * return read — the CPU, the address, the value, the physical word, the entry's size (returned)
 * and cache type (the WB-cache mark). */
class StoreAt implements OpPosition {
  private text: string | undefined = undefined;
  constructor(
    readonly scope: OpScope,
    private readonly kind: 'write' | 'buffer',
    private readonly cpu: CpuId,
    private readonly v: VirtAddr,
    private readonly value: number,
    private readonly pa: PhysAddr,
    private readonly e: TlbEntry,
  ) {}
  /** Made when first read: a step made again by a thread brought back is never placed. */
  get key(): string {
    return (this.text ??= `${this.kind} cpu${this.cpu} ${hex(this.v)} := ${this.value} at ${this.pa} ${this.e.size} ${this.e.cacheType}`);
  }
}

/** Location names and footprints of one CPU in one geometry, shared by every build (see
 * TlbShared in tlb.ts). */
interface CpuShared {
  readonly name: string;
  readonly insnLoc: Loc;
  readonly irqLoc: Loc;
  readonly ipiLoc: Loc;
  readonly cr3Loc: Loc;
  readonly faultLoc: Loc;
  readonly ackLocs: Loc[];
  readonly insnWrite: Access;
  readonly faultWrite: Access;
  /** Translate footprints on a TLB hit, per page: [insn write, lookup reads], and with the fault
   * write (a store through a read-only entry). */
  readonly hitFps: (readonly Access[])[];
  readonly hitFaultFps: (readonly Access[])[];
  /** Data-access footprints by word location: [insn write, the word's accesses, the WB-cache
   * write when caches are tracked]; load, store, load with cache, store with cache. */
  readonly dataFps: readonly [Map<Loc, readonly Access[]>, Map<Loc, readonly Access[]>, Map<Loc, readonly Access[]>, Map<Loc, readonly Access[]>];
  /** setDirty footprints by page, then source entry location; for a 4K and a 2M entry. */
  readonly dirtyFps: readonly [Map<number, Map<Loc, readonly Access[]>>, Map<number, Map<Loc, readonly Access[]>>];
}
/** By entries per table, then CPU. */
const cpuShared: CpuShared[][] = [];
function cpuSharedFor(id: CpuId, geo: Geometry): CpuShared {
  const byCpu = (cpuShared[geo.ptesPerTable] ??= []);
  let c = byCpu[id];
  if (c === undefined) {
    const insnLoc = `cpu:${id}:insn`;
    const faultLoc = `fault:${id}`;
    c = byCpu[id] = {
      name: `cpu${id}`,
      insnLoc,
      irqLoc: `irq:${id}`,
      ipiLoc: `ipi:${id}`,
      cr3Loc: `cr3:${id}`,
      faultLoc,
      ackLocs: [],
      insnWrite: writeOf(insnLoc),
      faultWrite: writeOf(faultLoc),
      hitFps: [],
      hitFaultFps: [],
      dataFps: [new Map(), new Map(), new Map(), new Map()],
      dirtyFps: [new Map(), new Map()],
    };
  }
  return c;
}

/** One context for every walk of a CPU; `mm` is read (and audited) when a walk asks for it. */
class CpuWalkContext implements WalkContext {
  readonly tlb: Tlb;
  readonly cr3Loc: Loc;
  constructor(private readonly cpu: Cpu, readonly psc: boolean) {
    this.tlb = cpu.tlb;
    this.cr3Loc = cpu.cr3Loc;
  }
  get mm(): PageTable {
    return this.cpu.mm;
  }
}

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
  /** Location names and footprints shared by every build (see CpuShared). */
  private readonly shared: CpuShared;
  private irq = true;
  private insn = false;
  private root: PageTable;
  private readonly ipiQueue: ipi.IpiRequest[] = [];
  private readonly acks = new Set<CpuId>();
  /** The x86-TSO store buffer (tso/store-buffer.ts), set by the machine; undefined on an SC
   * machine, where every branch on it takes the code path SC always had. */
  sb: StoreBuffer | undefined = undefined;
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: CpuState | undefined;
  /** Its own state (not the TLB's) was changed since `last` was made or put back (every change
   * sets it): a save of an unchanged CPU then costs two tests. */
  private changed = true;

  constructor(readonly id: CpuId, mm: PageTable, readonly host: CpuHost) {
    this.tlb = new Tlb(id, host.geo);
    const shared = (this.shared = cpuSharedFor(id, host.geo));
    this.name = shared.name;
    this.insnLoc = shared.insnLoc;
    this.irqLoc = shared.irqLoc;
    this.ipiLoc = shared.ipiLoc;
    this.cr3Loc = shared.cr3Loc;
    this.faultLoc = shared.faultLoc;
    this.root = mm;
    this.walkCtx = new CpuWalkContext(this, host.pagingStructureCache);
  }
  private readonly walkCtx: WalkContext;

  // ---- Program.state (raw copies, not audited) ----

  save(): CpuState {
    const tlb = this.tlb.save();
    const last = this.last;
    if (!this.changed && last !== undefined && last.tlb === tlb) return last;
    this.changed = false;
    const mm = this.host.mmIndex(this.root);
    // The last state again while nothing changed (see state.ts); the acks in their set's order.
    if (last && last.tlb === tlb && last.irq === this.irq && last.insn === this.insn && last.mm === mm && sameList(last.ipis, this.ipiQueue) && sameAcks(last.acks, this.acks)) return last;
    return (this.last = { irq: this.irq, insn: this.insn, mm, ipis: this.ipiQueue.slice(), acks: [...this.acks], tlb });
  }
  restore(s: CpuState): void {
    // Put back the state it holds, unchanged since: nothing to do (a rewind puts back every
    // part, and most CPUs did not change after the branch point; refilling their sets and maps
    // allocated more than any other part of the search).
    if (s === this.last && !this.changed) return this.tlb.restore(s.tlb);
    this.irq = s.irq;
    this.insn = s.insn;
    this.root = this.host.mmAt(s.mm);
    if (this.ipiQueue.length !== 0) this.ipiQueue.length = 0; // (setting length is a builtin call even on an empty list)
    for (const r of s.ipis) this.ipiQueue.push(r);
    this.acks.clear();
    for (const a of s.acks) this.acks.add(a);
    this.tlb.restore(s.tlb);
    this.last = s;
    this.changed = false;
  }

  ackLoc(target: CpuId): Loc {
    return (this.shared.ackLocs[target] ??= `ack:${this.id}:${target}`);
  }

  /** Interrupts enabled (`irq:<id>`). */
  get irqEnabled(): boolean {
    noteRead(this.irqLoc);
    return this.irq;
  }
  set irqEnabled(on: boolean) {
    noteWrite(this.irqLoc);
    this.irq = on;
    this.changed = true;
  }
  /** Inside a load/store (`cpu:<id>:insn`). */
  get inInsn(): boolean {
    noteRead(this.insnLoc);
    return this.insn;
  }
  set inInsn(v: boolean) {
    noteWrite(this.insnLoc);
    this.insn = v;
    this.changed = true;
  }
  /** The mm this CPU runs (its cr3, `cr3:<id>`). */
  get mm(): PageTable {
    noteRead(this.cr3Loc);
    return this.root;
  }
  set mm(next: PageTable) {
    noteWrite(this.cr3Loc);
    this.root = next;
    this.changed = true;
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
    this.changed = true;
  }
  /** Take every pending request (the delivery step). */
  takeIpis(): ipi.IpiRequest[] {
    noteWrite(this.ipiLoc);
    this.changed = true;
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
    this.changed = true;
  }
  /** `target` acked this CPU's request. */
  acked(target: CpuId): void {
    noteWrite(this.ackLoc(target));
    this.acks.delete(target);
    this.changed = true;
  }

  /** The context of this CPU's walks: its TLB, cr3 (read when the walk reads it) and whether
   * it has a paging-structure cache. */
  get walkContext(): WalkContext {
    return this.walkCtx;
  }

  /** What translating `v` touches, in the current state: on a TLB hit the shared list of the
   * page, on a miss the walk's own. */
  private translateFp(v: VirtAddr, access: AccessKind): readonly Access[] {
    const sh = this.shared;
    const hit = this.tlb.lookup(v);
    if (hit) {
      const page = Math.floor(v / PAGE_SIZE);
      if (access === 'store' && !hit.rw) return (sh.hitFaultFps[page] ??= joinAccesses([sh.insnWrite], this.tlb.lookupAccesses(v), [sh.faultWrite]));
      return (sh.hitFps[page] ??= joinAccesses([sh.insnWrite], this.tlb.lookupAccesses(v)));
    }
    const plan = planWalk(this.walkCtx, v, sh.insnWrite);
    // planWalk's list is fresh: the fault write goes on its end.
    if (plan.kind === 'fault' || (access === 'store' && !plan.entry.rw)) (plan.accesses as Access[]).push(sh.faultWrite);
    return plan.accesses;
  }
  /** [insn write, the word's accesses, the WB-cache write when caches are tracked]. */
  private dataFp(word: WordCell, e: TlbEntry, pa: PhysAddr, store: boolean): readonly Access[] {
    const cached = this.host.trackCaches && e.cacheType === 'WB';
    const map = this.shared.dataFps[(store ? 1 : 0) + (cached ? 2 : 0)];
    let fp = map.get(word.loc);
    if (fp === undefined) {
      fp = joinAccesses([this.shared.insnWrite], store ? word.writeAccesses() : word.readAccesses(), cached ? writesOf(cacheLoc(paPfn(pa))) : []);
      map.set(word.loc, fp);
    }
    return fp;
  }
  /** A buffered store's own accesses before the buffer's: [insn write, the WB-cache write when
   * tracked] (one list per CPU, and per frame with caches tracked). */
  private bufferedPrefix(e: TlbEntry, pa: PhysAddr): readonly Access[] {
    const cached = this.host.trackCaches && e.cacheType === 'WB';
    if (!cached) return (this.bufferedStoreFp ??= [this.shared.insnWrite]);
    const map = (this.bufferedCacheFps ??= new Map());
    let fp = map.get(paPfn(pa));
    if (fp === undefined) map.set(paPfn(pa), (fp = joinAccesses([this.shared.insnWrite], writesOf(cacheLoc(paPfn(pa))))));
    return fp;
  }
  private bufferedStoreFp: readonly Access[] | undefined;
  private bufferedCacheFps: Map<number, readonly Access[]> | undefined;
  /** `s`, or on a TSO machine `s` waiting for the store buffer to drain: a serialising
   * instruction (invlpg, a mov to cr3 or cr4) or the IPI send of a shootdown (tso/README). */
  private ser<T>(s: Step<T>): Step<T> {
    return this.sb === undefined ? s : serialised(this.sb, s);
  }
  /** `op`, each step serialised on a TSO machine (see ser). */
  serOp<T>(op: Op<T>): Op<T> {
    return this.sb === undefined ? op : serialisedOp(this.sb, op);
  }

  /** setDirty's footprint: the lookup, the slot write and the source entry's read-modify-write. */
  private dirtyFp(v: VirtAddr, e: TlbEntry, src: WordCell): readonly Access[] {
    const byPage = this.shared.dirtyFps[e.size === '4K' ? 0 : 1];
    const page = Math.floor(v / PAGE_SIZE);
    let bySource = byPage.get(page);
    if (bySource === undefined) byPage.set(page, (bySource = new Map()));
    let fp = bySource.get(src.loc);
    if (fp === undefined) {
      fp = joinAccesses(this.tlb.lookupAccesses(v), [writeOf(this.tlb.slotLoc(v, e.size))], src.readAccesses(), src.writeAccesses());
      bySource.set(src.loc, fp);
    }
    return fp;
  }

  // ---- loads and stores ----

  /** Load the word at `v`. */
  *load(v: VirtAddr): Op<AccessResult<number>> {
    const text = loadText(v);
    const t = yield* this.translate(v, 'load', text);
    if (!t.ok) return t;
    const pa = physAddr(this.tlb.frameOf(t.entry, v), this.host.geo.wordIndex(v));
    const word = this.host.memory.word(pa);
    const sb = this.sb;
    const fp = this.dataFp(word, t.entry, pa, false);
    const value = (yield stableStep(textFor(text.word, word.name, (name) => `${text.what}: read ${name}`), sb === undefined ? fp : sb.loadAccesses(fp, word.loc), (say) => {
      this.endInsn();
      this.touchCache(t.entry, pa);
      // TSO: the youngest store of this CPU's own to the word, while it is still buffered.
      const buffered = sb === undefined ? undefined : sb.forward(word.loc);
      const x = buffered === undefined ? word.get() : buffered;
      say(buffered === undefined ? `${word.name} = ${x}` : `${word.name} = ${x} (from the store buffer)`);
      return x;
    })) as number;
    return { ok: true, value, via: t.entry.size };
  }

  /** Store `value` at `v`. Its write (or, on TSO, its entry into the store buffer) says where
   * the store is (Step.opPosition): whatever translation, fill or dirty-bit update came before,
   * the store then does the one thing its key names and returns `via` the entry's size. */
  store(v: VirtAddr, value: number): Op<AccessResult<void>> {
    return scopedOp((op) => this.storeOp(v, value, op));
  }

  private *storeOp(v: VirtAddr, value: number, op: OpScope): Op<AccessResult<void>> {
    const text = storeText(v, value);
    for (;;) {
      const t = yield* this.translate(v, 'store', text);
      if (!t.ok) return t;
      let entry = t.entry;
      if (!entry.dirty) {
        const updated = yield* this.setDirty(v, entry, text);
        if (updated === null) continue; // source entry gone: re-walk
        entry = updated;
      }
      const pa = physAddr(this.tlb.frameOf(entry, v), this.host.geo.wordIndex(v));
      const word = this.host.memory.word(pa);
      const fp = this.dataFp(word, entry, pa, true);
      const sb = this.sb;
      if (sb !== undefined) {
        const prefix = this.bufferedPrefix(entry, pa);
        yield stableStep(textFor(text.word, word.name, (name) => `${text.what}: buffer ${name}`), () => sb.storeAccesses(prefix, word.loc), (say) => {
          this.endInsn();
          this.touchCache(entry, pa);
          // TSO: the data reaches memory when the drain actor takes it (tso/store-buffer.ts).
          sb.push(word.loc, value);
          say(`${word.name} := ${value} buffered`);
        }, undefined, new StoreAt(op, 'buffer', this.id, v, value, pa, entry));
        return { ok: true, value: undefined, via: entry.size };
      }
      yield stableStep(textFor(text.word, word.name, (name) => `${text.what}: write ${name}`), fp, (say) => {
        this.endInsn();
        this.touchCache(entry, pa);
        const old = word.get();
        word.set(value, `${this.name} store ${hex(v)}`);
        const freed = this.host.memory.isAllocated(paPfn(pa)) ? '' : ` — ${this.host.memory.frameName(paPfn(pa))} is a FREED frame`;
        say(`${word.name}: ${old} → ${value}${freed}`);
      }, undefined, new StoreAt(op, 'write', this.id, v, value, pa, entry));
      return { ok: true, value: undefined, via: entry.size };
    }
  }

  /**
   * First step of an access: TLB hit, or one-step walk + fill; permission check. The step's
   * result is a string (`encodeTranslated`), decoded here by the thread: a state restore feeds
   * a thread only plain results back, and translate starts every load and store.
   * Under TSO a walk reads memory, never this CPU's store buffer, and waits for nothing (SDM
   * vol. 3A §8.2.3.1: page walks are outside the ordering rules; §8.1.2.2: "only instruction
   * fetch and page table accesses can pass locked instructions"): tso/README.md.
   */
  private *translate(v: VirtAddr, access: AccessKind, text: SiteText): Op<Translated> {
    return decodeTranslated((yield stableStep(text.translate, () => this.translateFp(v, access), (say): string => {
      this.inInsn = true;
      let entry = this.tlb.lookup(v);
      let note: string;
      if (entry) {
        note = `TLB hit: ${this.describe(entry)}`;
      } else {
        const plan = planWalk(this.walkCtx, v);
        note = applyWalk(this.walkCtx, plan, this.name);
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
      this.tlb.hold(entry);
      return encodeEntry(entry);
    })) as string);
  }

  /**
   * The locked A|D update on the entry the TLB entry came from. Returns the updated TLB entry,
   * or null when the source is no longer present/writable (the TLB entry is dropped: re-walk).
   * Under TSO it acts on memory at once, neither through nor after the store buffer (SDM vol. 3A
   * §8.1.2.1: A/D updates use locked cycles; §8.2.3.1: processor updates of paging structures are
   * outside the ordering rules); the data write it precedes is buffered. tso/README.md.
   */
  private *setDirty(v: VirtAddr, entry: TlbEntry, text: SiteText): Op<TlbEntry | null> {
    const mem = this.host.memory;
    const src = mem.word(entry.source);
    // The step returns the updated entry encoded (plain data for a state restore, as translate).
    const r = (yield stableStep(textFor(text.dirty, src.name, (name) => `${text.what}: set D in ${name}`), this.dirtyFp(v, entry, src), (say): string | null => {
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
    })) as string | null;
    return r === null ? null : decodeUpdated(r);
  }

  private fault(v: VirtAddr, access: AccessKind, kind: PageFaultKind, why: string): string {
    this.endInsn();
    this.host.recordFault({ cpu: this.id, va: v, access, kind, why });
    return `${kind}:${why}`;
  }
  private endInsn(): void {
    this.inInsn = false;
    this.tlb.release();
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
    yield this.ser(stableStep(`invlpg ${hex(v)}`, this.tlb.invlpgAccesses(v), (say) => {
      say(this.dropped(this.tlb.invalidate(v)));
    }));
  }
  /** Local flush of every page in [start, end), one step. */
  *flushTlbLocalRange(start: VirtAddr, end: VirtAddr): Op<void> {
    yield this.ser(stableStep(`local flush ${hex(start)}-${hex(end)}`, ipi.flushAccesses(this, { kind: 'range', start, end }), (say) => {
    say(ipi.applyFlush(this, { kind: 'range', start, end }));
  }));
  }
  /** Flush this CPU's whole TLB (__flush_tlb_all). */
  *flushTlbLocal(): Op<void> {
    yield this.ser(stableStep('local TLB flush', () => this.tlb.flushAllAccesses(), (say) => say(this.dropped(this.tlb.flushAll()))));
  }
  dropped(gone: readonly TlbEntry[]): string {
    return gone.length === 0 ? 'nothing cached' : `dropped ${gone.map((e) => this.describe(e)).join('; ')}`;
  }

  /** Load a new root (cr3 write): the whole TLB is flushed. */
  *switch_mm(next: PageTable): Op<void> {
    yield this.ser(stableStep(`switch_mm → ${next.name}`, () => [writeOf(this.cr3Loc), ...this.tlb.flushAllAccesses()], (say) => {
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
    return (yield stableStep(label, writesOf(this.irqLoc), on ? this.irqOn : this.irqOff)) as boolean;
  }
  private readonly irqOn = (say: (note: string) => void): boolean => {
    const was = this.irqEnabled;
    this.irqEnabled = true;
    say(unaudited(() => this.ipiQueue.length > 0) ? 'interrupts on (IPI pending)' : 'interrupts on');
    return was;
  };
  private readonly irqOff = (say: (note: string) => void): boolean => {
    const was = this.irqEnabled;
    this.irqEnabled = false;
    say('interrupts off');
    return was;
  };

  // ---- remote shootdowns (ipi.ts) ----

  /** Flush every CPU's whole TLB; waits for every other CPU's ack. */
  *flush_tlb_all(): Op<void> {
    yield* this.serOp(ipi.runShootdown(this, shootdownText('flush_tlb_all', '', -1, -1, () => [{ kind: 'all' }, 'flush_tlb_all']), 'all'));
  }
  /** Flush [start, end) on every CPU (kernel addresses); waits for the acks. */
  *flush_tlb_kernel_range(start: VirtAddr, end: VirtAddr): Op<void> {
    yield* this.serOp(ipi.runShootdown(this, shootdownText('flush_tlb_kernel_range', '', start, end, () => [{ kind: 'range', start, end }, `flush_tlb_kernel_range(${hex(start)}, ${hex(end)})`]), 'all'));
  }
  /** Flush one page on every CPU running this CPU's mm. */
  *flush_tlb_page(v: VirtAddr): Op<void> {
    const start = va(v - (v % PAGE_SIZE));
    yield* this.serOp(ipi.runShootdown(this, shootdownText('flush_tlb_page', '', v, -1, () => [{ kind: 'range', start, end: va(start + PAGE_SIZE) }, `flush_tlb_page(${hex(v)})`]), this.ownMm));
  }
  /** Flush [start, end) on every CPU running `mm` (default: this CPU's). */
  *flush_tlb_range(start: VirtAddr, end: VirtAddr, mm: PageTable = this.ownMm): Op<void> {
    yield* this.serOp(ipi.runShootdown(this, shootdownText('flush_tlb_range', '', start, end, () => [{ kind: 'range', start, end }, `flush_tlb_range(${hex(start)}, ${hex(end)})`]), mm));
  }
  /** Flush the whole TLB of every CPU running `mm` (default: this CPU's). */
  *flush_tlb_mm(mm: PageTable = this.ownMm): Op<void> {
    yield* this.serOp(ipi.runShootdown(this, shootdownText('flush_tlb_mm', mm.name, -1, -1, () => [{ kind: 'all' }, `flush_tlb_mm(${mm.name})`]), mm));
  }

  /** Every other CPU of the machine (shootdown targets). */
  get others(): readonly Cpu[] {
    return (this.otherCpus ??= this.host.cpuList.filter((c) => c !== this));
  }
  private otherCpus: readonly Cpu[] | undefined;
}

/** The texts of kernel call `fn` with arguments `name`, `a`, `b` (-1: none), made once and
 * shared by every build (see ipi.ShootdownText). */
function shootdownText(fn: string, name: string, a: number, b: number, make: () => [ipi.FlushRequest, string]): ipi.ShootdownText {
  let byName = shootdownTexts.get(fn);
  if (byName === undefined) shootdownTexts.set(fn, (byName = new Map()));
  let byA = byName.get(name);
  if (byA === undefined) byName.set(name, (byA = new Map()));
  let byB = byA.get(a);
  if (byB === undefined) {
    if (byA.size >= 1 << 12) byA.clear(); // a bound, never reached by the built-in models
    byA.set(a, (byB = new Map()));
  }
  let t = byB.get(b);
  if (t === undefined) {
    if (byB.size >= 1 << 12) byB.clear();
    const [flush, what] = make();
    byB.set(b, (t = ipi.shootdownText(flush, what)));
  }
  return t;
}
const shootdownTexts = new Map<string, Map<string, Map<number, Map<number, ipi.ShootdownText>>>>();
