// The simulated x86 machine: physical memory, struct pages, page-table roots, CPUs with TLBs,
// IPI delivery, locks and model variables. Build one per execution (inside `make()`), set up the
// page tables with the plain helpers, then hand the threads and `machine.actors()` to the engine.
import { noteRead, noteWrite } from '../engine/audit.js';
import type { StateHasher } from '../engine/fingerprint.js';
import type { ProgramState, ThreadSpec } from '../engine/types.js';
import { Cpu, type CpuHost, type CpuState, type FaultRecord } from './cpu.js';
import { ipiActor } from './ipi.js';
import { Lock, type LockState } from './locks.js';
import { type MemoryState, PhysMemory } from './memory.js';
import { type Stateful, programState, reuseList } from './state.js';
import { PageArray, type Page } from './page.js';
import { PageTable } from './pagetable.js';
import { describePte, type pte_t } from './pte.js';
import { type SpeculationOptions, speculationActors } from './speculation.js';
import { Var } from './step.js';
import { MachineHashPlaces } from './state-hash.js';
import { type MemoryModel, type SbEntry, StoreBuffer, type StoreSink, defaultMemoryModel, serialisedOp } from './tso/store-buffer.js';
import { sinkAt } from './tso/sinks.js';
import type { TlbEntry } from './tlb.js';
import { type CpuId, Geometry, type Pfn, type VirtAddr, cpuId, hex, pfn } from './types.js';

/** Machine.translations of an address no CPU caches (one shared list: callers only read it). */
const NO_TRANSLATIONS: readonly { cpu: CpuId; entry: TlbEntry }[] = [];

export interface MachineOptions {
  /** Number of CPUs (≥ 1). */
  readonly cpus: number;
  /** Physical frames (default 16). Frame 0 becomes init_mm's pmd page. */
  readonly frames?: number;
  /** Entries per page-table page, and words per frame (default 4). */
  readonly ptesPerTable?: number;
  /** CPUs cache pmd → pte-page pointers until a flush (default false). */
  readonly pagingStructureCache?: boolean;
  /** Track "lines cached as WB" per frame on every WB data access (default false). */
  readonly trackCaches?: boolean;
  /** Opt-in speculative TLB fill / eviction actors. */
  readonly speculation?: SpeculationOptions;
  /** 'sc': every store reaches memory at once. 'tso': x86-TSO, a FIFO store buffer per CPU
   * drained by actors (tso/store-buffer.ts). Default: 'sc' (or MMCHECK_MEMORY_MODEL). */
  readonly memoryModel?: MemoryModel;
  /** Keep every page fault in `faults` (default true). The log is history: states that differ
   * only in which faults came before are different states to the state cache. A model that
   * never reads it can turn it off (its traces still say "→ page fault" at the faulting step). */
  readonly faultLog?: boolean;
}

/** One TLB entry as shown in snapshots. */
export interface TlbView {
  readonly va: string;
  readonly size: '4K' | '2M';
  readonly frame: string;
  readonly rw: boolean;
  readonly dirty: boolean;
  readonly nx: boolean;
  readonly cache: string;
  readonly source: string;
}

/** What `Machine.save` copies, part by part (see each part's own state type). */
export interface MachineState {
  readonly memory: MemoryState;
  readonly pages: readonly number[];
  readonly cpus: readonly CpuState[];
  readonly locks: readonly LockState[];
  readonly vars: readonly number[];
  readonly faults: readonly FaultRecord[];
  /** Each CPU's store buffer, oldest entry first (TSO only). */
  readonly sb?: readonly (readonly SbEntry[])[];
}

export class Machine implements CpuHost, Stateful<MachineState> {
  readonly geo: Geometry;
  readonly memory: PhysMemory;
  readonly pages: PageArray;
  /** The kernel's page tables (root pmd page in frame 0, named "pgd"). */
  readonly init_mm: PageTable;
  readonly cpuList: readonly Cpu[];
  readonly pagingStructureCache: boolean;
  readonly trackCaches: boolean;
  private readonly faultLog: FaultRecord[] = [];
  private readonly logFaults: boolean;
  private readonly mms: PageTable[] = [];
  private readonly locks = new Map<string, Lock>();
  private readonly vars = new Map<string, Var>();

  constructor(readonly options: MachineOptions) {
    if (!Number.isInteger(options.cpus) || options.cpus < 1) throw new RangeError('cpus must be ≥ 1');
    this.geo = new Geometry(options.ptesPerTable ?? 4);
    this.memory = new PhysMemory(options.frames ?? 16, this.geo.ptesPerTable);
    this.pages = new PageArray(this.memory);
    this.pagingStructureCache = options.pagingStructureCache ?? false;
    this.trackCaches = options.trackCaches ?? false;
    this.logFaults = options.faultLog ?? true;
    this.init_mm = this.newMm('init_mm', 'pgd');
    this.cpuList = Array.from({ length: options.cpus }, (_, i) => new Cpu(cpuId(i), this.init_mm, this));
    this.memoryModel = options.memoryModel ?? defaultMemoryModel();
    if (this.memoryModel === 'tso') {
      const resolve = (loc: string): StoreSink => sinkAt(loc, this.memory, this.vars, this.locks, this.pages);
      this.buffers = this.cpuList.map((c) => (c.sb = new StoreBuffer(c.id, resolve)));
    }
  }
  readonly memoryModel: MemoryModel;
  /** The CPUs' store buffers (TSO), by CPU; undefined on an SC machine. */
  readonly buffers: readonly StoreBuffer[] | undefined;

  // ---- Program.state ----

  /** What thread code may change between steps unseen by the audit (Stateful.unaudited): frame
   * names and roles, notes for traces that model code sets (vmap names a page between steps).
   * Every word, cell, TLB, lock and queue reports its writes (noteWrite). */
  unaudited(): unknown {
    return this.memory.unauditedState();
  }

  /**
   * Everything a step can change, as data: memory (words, allocation, names, roles, WB-cache
   * flags, stores into free frames), struct pages, each CPU (irq, instruction, cr3, IPI queue,
   * acks, TLB and paging-structure cache), locks, variables and the fault log. Address spaces,
   * locks and variables are made at setup, in the same order by every build, so they are saved
   * by position. Raw copies: saving and restoring read and write nothing of the program.
   */
  save(): MachineState {
    // Each part, and the whole, is the last saved object again while unchanged (see state.ts).
    const last = this.last;
    const s = this.scratch;
    // Each list is compared with the last one as it is filled, and copied only when it differs.
    let sameCpus = last !== undefined && last.cpus.length === this.cpuList.length;
    for (let i = 0; i < this.cpuList.length; i++) {
      const c = (s.cpus[i] = this.cpuList[i]!.save());
      if (sameCpus && last!.cpus[i] !== c) sameCpus = false;
    }
    let sameLocks = last !== undefined && last.locks.length === this.lockList.length;
    for (let i = 0; i < this.lockList.length; i++) {
      const l = (s.locks[i] = this.lockList[i]!.save());
      if (sameLocks && last!.locks[i] !== l) sameLocks = false;
    }
    let sameVars = last !== undefined && last.vars.length === this.varList.length;
    for (let i = 0; i < this.varList.length; i++) {
      const v = (s.vars[i] = this.varList[i]!.save());
      if (sameVars && last!.vars[i] !== v) sameVars = false;
    }
    const memory = this.memory.save();
    const pages = this.pages.save();
    const cpus = sameCpus ? last!.cpus : s.cpus.slice();
    const locks = sameLocks ? last!.locks : s.locks.slice();
    const vars = sameVars ? last!.vars : s.vars.slice();
    const faults = reuseList(last?.faults, this.faultLog);
    if (this.buffers !== undefined) return this.saveWithBuffers(last, { memory, pages, cpus, locks, vars, faults });
    if (last && memory === last.memory && pages === last.pages && cpus === last.cpus && locks === last.locks && vars === last.vars && faults === last.faults) return last;
    return (this.last = { memory, pages, cpus, locks, vars, faults });
  }
  /** Mixes a saved state into a fingerprint, field by field (state-hash.ts). */
  hash(s: MachineState, h: StateHasher): void {
    (this.hashPlaces ??= new MachineHashPlaces()).hash(s, h);
  }
  /** Made on the first hash: only the state cache hashes, and a build is made per execution. */
  private hashPlaces: MachineHashPlaces | undefined;
  restore(s: MachineState): void {
    if (s.cpus.length !== this.cpuList.length || s.locks.length !== this.locks.size || s.vars.length !== this.vars.size) {
      throw new Error(`restore: the saved machine has ${s.cpus.length} CPUs, ${s.locks.length} locks and ${s.vars.length} variables; this one ${this.cpuList.length}, ${this.locks.size} and ${this.vars.size} (locks and variables must be made at setup)`);
    }
    this.memory.restore(s.memory);
    this.pages.restore(s.pages);
    this.cpuList.forEach((c, i) => c.restore(s.cpus[i]!));
    for (let i = 0; i < this.lockList.length; i++) this.lockList[i]!.restore(s.locks[i]!);
    for (let i = 0; i < this.varList.length; i++) this.varList[i]!.restore(s.vars[i]!);
    if (this.faultLog.length !== 0) this.faultLog.length = 0;
    for (const f of s.faults) this.faultLog.push(f);
    if (this.buffers !== undefined) this.buffers.forEach((b, i) => b.restore(s.sb?.[i] ?? []));
    this.last = s;
  }
  /** save on a TSO machine: the parts and the store buffers (the last state again while unchanged). */
  private saveWithBuffers(last: MachineState | undefined, p: Omit<MachineState, 'sb'>): MachineState {
    const now = this.buffers!.map((b) => b.save());
    const sb = last?.sb !== undefined && now.every((b, i) => b === last.sb![i]) ? last.sb : now;
    if (last && p.memory === last.memory && p.pages === last.pages && p.cpus === last.cpus && p.locks === last.locks && p.vars === last.vars && p.faults === last.faults && sb === last.sb) return last;
    return (this.last = { ...p, sb });
  }
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: MachineState | undefined;
  /** Lists `save` fills before deciding whether to copy them (sized on first use: locks and
   * variables are made at setup, after the constructor). */
  private get scratch(): { cpus: CpuState[]; locks: LockState[]; vars: number[] } {
    const s = (this.scratchLists ??= { cpus: [], locks: [], vars: [] });
    if (s.locks.length !== this.lockList.length) s.locks.length = this.lockList.length;
    if (s.vars.length !== this.varList.length) s.vars.length = this.varList.length;
    return s;
  }
  private scratchLists: { cpus: CpuState[]; locks: LockState[]; vars: number[] } | undefined;
  /** The locks and variables in the order they were made (saved by position; a list is quicker
   * to walk than the maps that find them by name). */
  private readonly lockList: Lock[] = [];
  private readonly varList: Var[] = [];
  /** The machine as a whole `Program.state`, for a model that keeps nothing outside it. */
  get state(): ProgramState {
    return programState(this);
  }
  mmIndex(mm: PageTable): number {
    const i = this.mms.indexOf(mm);
    if (i < 0) throw new Error(`address space ${mm.name} is not this machine's`);
    return i;
  }
  mmAt(i: number): PageTable {
    const mm = this.mms[i];
    if (!mm) throw new Error(`restore: no address space ${i} (machine has ${this.mms.length})`);
    return mm;
  }

  cpu(i: number): Cpu {
    const c = this.cpuList[i];
    if (!c) throw new RangeError(`no cpu ${i} (machine has ${this.cpuList.length})`);
    return c;
  }
  get cpus(): readonly Cpu[] {
    return this.cpuList;
  }
  /** Setup: a new address space with its own pmd page. CPUs start on init_mm. */
  newMm(name: string, rootName = `${name}.pmd`): PageTable {
    const root = this.memory.allocFrame(rootName, 'pmd');
    const mm = new PageTable(name, root, this.memory, this.geo);
    this.mms.push(mm);
    return mm;
  }
  /** Setup: point CPU `i` at `mm` (no Step; use cpu.switch_mm inside threads). */
  setMm(i: number, mm: PageTable): void {
    this.cpu(i).mm = mm;
  }
  page(f: Pfn): Page {
    return this.pages.get(f);
  }
  /** A named spinlock (same name → same lock). */
  spinlock(name: string): Lock {
    return this.lock(name, 'spinlock');
  }
  mutex(name: string): Lock {
    return this.lock(name, 'mutex');
  }
  /** A named model variable (`var:<name>`), for state the model keeps besides memory. */
  var(name: string, init = 0): Var {
    const existing = this.vars.get(name);
    if (existing) return existing;
    const v = new Var(name, init);
    this.vars.set(name, v);
    this.varList.push(v);
    return v;
  }
  /** Every page fault, in order (reads every CPU's `fault:<cpu>`: the log grows by faults). */
  get faults(): readonly FaultRecord[] {
    for (const c of this.cpuList) noteRead(c.faultLoc);
    return this.faultLog;
  }
  recordFault(f: FaultRecord): void {
    noteWrite(this.cpu(f.cpu).faultLoc);
    if (this.logFaults) this.faultLog.push(f);
  }

  /** Hardware actors to include in the program: IPI delivery per CPU, then speculation. */
  actors(): ThreadSpec[] {
    const out = this.cpuList.length > 1 ? this.cpuList.map((c) => this.serialisedActor(c, ipiActor(c))) : [];
    // TSO: a drain actor per CPU; IPI delivery waits for the target's buffer (the handler's
    // invlpg or cr3 write is serialising: tso/README.md).
    if (this.buffers !== undefined) out.push(...this.buffers.map((b) => b.actor()));
    if (this.options.speculation) out.push(...speculationActors(this.cpuList, this.options.speculation));
    return out;
  }

  private serialisedActor(c: Cpu, spec: ThreadSpec): ThreadSpec {
    const sb = c.sb;
    return sb === undefined ? spec : { ...spec, body: () => serialisedOp(sb, spec.body()) };
  }

  // ---- queries for invariants ----

  /** Every TLB entry of every CPU that translates `v`. */
  translations(v: VirtAddr): readonly { cpu: CpuId; entry: TlbEntry }[] {
    // A loop, not flatMap, and one shared empty list for none: invariants ask this for every
    // address after every step, and most addresses are cached nowhere.
    let out: { cpu: CpuId; entry: TlbEntry }[] | undefined;
    for (const c of this.cpuList) for (const entry of c.tlb.translations(v)) (out ??= []).push({ cpu: c.id, entry });
    return out ?? NO_TRANSLATIONS;
  }

  // ---- state descriptions ----

  tlbView(c: Cpu): TlbView[] {
    const m = this.memory;
    return c.tlb.entries().map((e) => ({
      va: hex(e.va),
      size: e.size,
      frame: m.frameName(e.pfn),
      rw: e.rw,
      dirty: e.dirty,
      nx: e.nx,
      cache: e.cacheType,
      source: m.describe(e.source),
    }));
  }

  /** Compact, JSON-able state for traces. */
  snapshot(): MachineSnapshot {
    const m = this.memory;
    const name = (f: Pfn) => m.frameName(f);
    const tables: Record<string, string[]> = {};
    const data: Record<string, number[]> = {};
    for (const f of m.allocatedFrames()) {
      const role = m.role(f);
      if (role === 'pmd' || role === 'pte') {
        tables[`${m.frameName(f)} (${role})`] = m.contents(f).map((v) => describePte(v as pte_t, name));
      } else {
        data[m.frameName(f)] = m.contents(f);
      }
    }
    const pages: Record<string, ReturnType<Page['state']>> = {};
    for (const p of this.pages.all()) if (!p.isPristine()) pages[m.frameName(p.pfn)] = p.state();
    const vars: Record<string, number> = {};
    for (const [k, v] of this.vars) vars[k] = v.get();
    return {
      cpus: this.cpuList.map((c) => ({
        cpu: c.id,
        mm: c.mm.name,
        irq: c.irqEnabled,
        inInsn: c.inInsn,
        tlb: this.tlbView(c).map((e) => `${e.size} ${e.va}→${e.frame} ${e.rw ? 'RW' : 'RO'}${e.dirty ? ' D' : ''}${e.cache !== 'WB' ? ` ${e.cache}` : ''} from ${e.source}`),
        psc: c.tlb.pscEntries().map(([i, t]) => `pmd[${i}]→${name(t)}`),
        ipiPending: c.ipiPending.map((r) => `${r.what} from cpu${r.from}`),
        awaitingAcks: [...c.awaitingAcks].sort((a, b) => a - b),
        ...(c.sb === undefined ? {} : { storeBuffer: c.sb.describe() }),
      })),
      tables,
      data,
      free: this.allFrames().filter((f) => !m.isAllocated(f)).map(name),
      pages,
      locks: [...this.locks.values()].filter((l) => l.held).map((l) => `${l.name}${l.holder ? ` (${l.holder})` : ''}`),
      vars,
      faults: this.faults.map((f) => `cpu${f.cpu} ${f.access} ${hex(f.va)}: ${f.kind} (${f.why})`),
      writesToFreedFrames: m.writesToFreedFrames.map((w) => `${m.describe(w.pa)} := ${w.value} by ${w.by}`),
      cachedWB: this.trackCaches ? this.allFrames().filter((f) => m.isCachedWB(f)).map(name) : [],
    };
  }

  /** Canonical string of the whole state (memory words, allocation, TLBs, pages, locks…). */
  finalState(): string {
    const m = this.memory;
    return JSON.stringify({
      mem: this.allFrames().map((f) => [m.isAllocated(f) ? 1 : 0, m.isCachedWB(f) ? 1 : 0, ...m.contents(f)]),
      tlb: this.cpuList.map((c) => [
        c.mm.name, c.irqEnabled, c.inInsn,
        c.tlb.entries().map((e) => [e.va, e.size, e.pfn, e.rw, e.nx, e.cacheType, e.dirty, e.source]),
        c.tlb.pscEntries(), c.ipiPending.map((r) => [r.from, r.flush]), [...c.awaitingAcks].sort((a, b) => a - b),
      ]),
      pages: this.pages.all().map((p) => (p.isPristine() ? 0 : [p.flags.get(), p._count.get(), p._mapcount.get(), p.first_page.get()])),
      locks: [...this.locks.values()].map((l) => [l.name, l.held]),
      vars: [...this.vars.values()].map((v) => [v.name, v.get()]),
      faults: this.faults.map((f) => [f.cpu, f.va, f.access, f.kind]),
      freedWrites: m.writesToFreedFrames.map((w) => [w.pa, w.value]),
      ...(this.buffers === undefined ? {} : { sb: this.buffers.map((b) => b.contents().map((e) => [e.loc, e.value])) }),
    });
  }

  private allFrames(): Pfn[] {
    return Array.from({ length: this.memory.frameCount }, (_, i) => pfn(i));
  }
  private lock(name: string, kind: 'spinlock' | 'mutex'): Lock {
    const existing = this.locks.get(name);
    if (existing) {
      if (existing.kind !== kind) throw new Error(`lock ${name} is a ${existing.kind}, not a ${kind}`);
      return existing;
    }
    const l = new Lock(name, kind);
    this.locks.set(name, l);
    this.lockList.push(l);
    return l;
  }
}

export interface MachineSnapshot {
  readonly cpus: readonly {
    cpu: number;
    mm: string;
    irq: boolean;
    inInsn: boolean;
    tlb: string[];
    psc: string[];
    ipiPending: string[];
    awaitingAcks: number[];
    /** TSO: the buffered stores, oldest first. */
    storeBuffer?: string[];
  }[];
  readonly tables: Record<string, string[]>;
  readonly data: Record<string, number[]>;
  readonly free: string[];
  readonly pages: Record<string, { count: number; mapcount: number; flags: string[]; first_page?: number }>;
  readonly locks: string[];
  readonly vars: Record<string, number>;
  readonly faults: string[];
  readonly writesToFreedFrames: string[];
  readonly cachedWB: string[];
}
