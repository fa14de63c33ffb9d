// Physical memory: frames of words, a deterministic page allocator (lowest free frame first),
// and a per-frame "lines cached as WB" flag for cache-attribute changes.
//
// Locations: `mem:<pfn>:<i>` one word; `frame:<pfn>` whether the frame is allocated (read by
// every write, so a write into a freed frame is ordered against the free); `alloc` the free
// list; `cache:<pfn>` the WB-lines flag. Every accessor reports what it touches to the
// engine's access audit under those names (strings built once per frame, not per access).
// Frame names and roles are labels for traces, not state: they are not locations.
import { noteRead, noteWrite } from '../engine/audit.js';
import { type Access, type Loc, type Step, read, write } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import { type Stateful, sameList, reuseList } from './state.js';
import { type Cell, joinAccesses, readsOf, textFor, writeOf, writesOf, stableStep } from './step.js';
import { bufferedWrite, isCpu, lockedBy } from './tso/ops.js';
import type { StoreSink } from './tso/store-buffer.js';
import { type PhysAddr, type Pfn, hex, paIndex, paPfn, pfn, physAddr } from './types.js';

/** What a frame is used for (shown in snapshots; set by setup code and pmd_populate). */
export type FrameRole = 'pmd' | 'pte' | 'data';

/** writesToFreedFrame's answer while no store landed in a free frame (one list, never changed). */
const NO_FREED_WRITES: readonly FreedFrameWrite[] = [];

/** A store that landed in a frame that was free at the time. */
export interface FreedFrameWrite {
  readonly pa: PhysAddr;
  readonly value: number;
  /** "cpu1 (hardware D update)", "cpu0 set_pte" … */
  readonly by: string;
}

export const memLoc = (pa: PhysAddr): Loc => `mem:${paPfn(pa)}:${paIndex(pa)}`;
/** The prefix of every word of frame `f` (for `Invariant.watch`). */
export const memPrefix = (f: Pfn): string => `mem:${f}:`;
export const frameLoc = (f: Pfn): Loc => `frame:${f}`;
export const cacheLoc = (f: Pfn): Loc => `cache:${f}`;
export const ALLOC_LOC: Loc = 'alloc';

/** What `PhysMemory.save` copies: every word (frame after frame), allocation, names, roles,
 * WB-cache flags and the stores into free frames. */
export interface MemoryState {
  readonly words: readonly number[];
  readonly allocated: readonly boolean[];
  readonly names: readonly (string | undefined)[];
  readonly roles: readonly (FrameRole | undefined)[];
  readonly cachedWB: readonly boolean[];
  readonly freedWrites: readonly FreedFrameWrite[];
}

/** Location names for a memory of `frames` × `words`, made once per shape and shared by every
 * build (the engine builds a program per execution; the strings never change). */
interface LocNames {
  readonly memLocs: readonly (readonly Loc[])[];
  readonly frameLocs: readonly Loc[];
  readonly cacheLocs: readonly Loc[];
  /** Footprints by frame, made on first use: alloc_page / get_zeroed_page of the frame, and
   * free_page of it; and wbinvd's. */
  readonly allocFps: (readonly Access[])[];
  readonly zeroAllocFps: (readonly Access[])[];
  readonly freeFps: (readonly Access[])[];
  wbinvdFp: readonly Access[] | undefined;
}
const locNames: LocNames[][] = [];
/** Step labels by frame name (made once: a thread yields its steps again whenever its
 * execution is brought back, and the engine builds the program for every execution). */
const freeLabels = new Map<string, string>();
const clflushLabels = new Map<string, string>();
const allocLabels = new Map<string, string>();
const zeroAllocLabels = new Map<string, string>();
/** "pfn<f>", the name of an unnamed frame (labels ask for it at every step). */
const pfnNames: string[] = [];
function locNamesFor(frames: number, words: number): LocNames {
  // By frames, then words (a build asks for its shape: no key string to make).
  const byWords = (locNames[frames] ??= []);
  let n = byWords[words];
  if (!n) {
    n = {
      memLocs: Array.from({ length: frames }, (_, f) => Array.from({ length: words }, (_, i) => `mem:${f}:${i}`)),
      frameLocs: Array.from({ length: frames }, (_, f) => frameLoc(pfn(f))),
      cacheLocs: Array.from({ length: frames }, (_, f) => cacheLoc(pfn(f))),
      allocFps: [],
      zeroAllocFps: [],
      freeFps: [],
      wbinvdFp: undefined,
    };
    byWords[words] = n;
  }
  return n;
}

export class PhysMemory implements Stateful<MemoryState> {
  private readonly words: number[][];
  private readonly allocated: boolean[];
  private readonly names: (string | undefined)[];
  private readonly roles: (FrameRole | undefined)[];
  private readonly cachedWB: boolean[];
  /** Every store into a free frame, in order: a history of the `mem:` words of free frames. */
  private readonly freedWrites: FreedFrameWrite[] = [];
  /** Location names, built once: `memLocs[pfn][i]`, `frameLocs[pfn]`, `cacheLocs[pfn]`. */
  private readonly memLocs: readonly (readonly Loc[])[];
  private readonly frameLocs: readonly Loc[];
  private readonly cacheLocs: readonly Loc[];
  /** The location names and footprints of this shape, shared by every build. */
  private readonly shape: LocNames;
  private readonly cells: (MemWord | undefined)[][];
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: MemoryState | undefined;
  /** Something was changed since `last` was made or put back (every change below sets it):
   * a save of unchanged memory then costs one test, not a comparison of every word. */
  private changed = true;

  constructor(readonly frameCount: number, readonly wordsPerFrame: number) {
    // Plain loops: a build (one per execution) makes these.
    this.words = new Array<number[]>(frameCount);
    for (let f = 0; f < frameCount; f++) this.words[f] = new Array<number>(wordsPerFrame).fill(0);
    this.shape = locNamesFor(frameCount, wordsPerFrame);
    ({ memLocs: this.memLocs, frameLocs: this.frameLocs, cacheLocs: this.cacheLocs } = this.shape);
    this.cells = [];
    this.allocated = new Array<boolean>(frameCount).fill(false);
    this.names = new Array<string | undefined>(frameCount).fill(undefined);
    this.roles = new Array<FrameRole | undefined>(frameCount).fill(undefined);
    this.cachedWB = new Array<boolean>(frameCount).fill(false);
  }

  // ---- Program.state (raw copies: neither is a read or write of the program) ----

  save(): MemoryState {
    if (!this.changed && this.last !== undefined) return this.last;
    this.changed = false;
    // Each list is copied only when it changed since the last save (see state.ts).
    const last = this.last;
    const words = last && this.wordsAre(last.words) ? last.words : this.copyWords();
    const allocated = reuseList(last?.allocated, this.allocated);
    // Frame names and roles change rarely, but a step can set them (alloc, pmd_populate): saved
    // like the rest. FreedFrameWrite records are immutable: copying the list suffices.
    const names = reuseList(last?.names, this.names);
    const roles = reuseList(last?.roles, this.roles);
    const cachedWB = reuseList(last?.cachedWB, this.cachedWB);
    const freedWrites = reuseList(last?.freedWrites, this.freedWrites);
    if (last && words === last.words && allocated === last.allocated && names === last.names && roles === last.roles && cachedWB === last.cachedWB && freedWrites === last.freedWrites) return last;
    return (this.last = { words, allocated, names, roles, cachedWB, freedWrites });
  }
  private wordsAre(saved: readonly number[]): boolean {
    const n = this.wordsPerFrame;
    for (let f = 0; f < this.frameCount; f++) {
      const w = this.words[f]!;
      for (let i = 0; i < n; i++) if (saved[f * n + i] !== w[i]) return false;
    }
    return true;
  }
  private copyWords(): number[] {
    const n = this.wordsPerFrame;
    const words = new Array<number>(this.frameCount * n);
    for (let f = 0; f < this.frameCount; f++) {
      const w = this.words[f]!;
      for (let i = 0; i < n; i++) words[f * n + i] = w[i]!;
    }
    return words;
  }
  restore(s: MemoryState): void {
    if (s === this.last && !this.changed) return; // (see Cpu.restore)
    const n = this.wordsPerFrame;
    if (s.words.length !== this.frameCount * n) throw new Error(`restore: saved memory has ${s.words.length} words, this one ${this.frameCount * n}`);
    for (let f = 0; f < this.frameCount; f++) {
      const w = this.words[f]!;
      for (let i = 0; i < n; i++) w[i] = s.words[f * n + i]!;
    }
    for (let f = 0; f < this.frameCount; f++) {
      this.allocated[f] = s.allocated[f]!;
      this.names[f] = s.names[f];
      this.roles[f] = s.roles[f];
      this.cachedWB[f] = s.cachedWB[f]!;
    }
    if (this.freedWrites.length !== 0) this.freedWrites.length = 0;
    for (const x of s.freedWrites) this.freedWrites.push(x);
    this.last = s;
    this.changed = false;
  }

  // ---- plain accessors (setup code, invariants, the machine's own steps) ----

  peek(pa: PhysAddr): number {
    const f = paPfn(pa);
    const i = this.idx(pa);
    const w = this.frame(f);
    noteRead(this.memLocs[f]![i]!);
    return w[i]!;
  }
  /** Raw store. Records it when the frame is free (so it reads the frame's allocation state). */
  poke(pa: PhysAddr, value: number, by = 'setup'): void {
    const f = paPfn(pa);
    const i = this.idx(pa);
    const w = this.frame(f);
    noteRead(this.frameLocs[f]!);
    noteWrite(this.memLocs[f]![i]!);
    if (!this.allocated[f]) this.freedWrites.push({ pa, value, by });
    w[i] = value;
    this.changed = true;
  }
  /** Copy of a frame's words (reads every word). */
  contents(f: Pfn): number[] {
    const w = this.frame(f);
    for (const loc of this.memLocs[f]!) noteRead(loc);
    return [...w];
  }
  /** The first word of frame `f` that differs from `saved` (a copy contents() made), or -1:
   * reads every word, as contents() does, without the copy (invariants ask after every step). */
  firstChange(f: Pfn, saved: readonly number[]): number {
    const w = this.frame(f);
    for (const loc of this.memLocs[f]!) noteRead(loc);
    for (let k = 0; k < w.length; k++) if (w[k] !== saved[k]) return k;
    return -1;
  }
  isAllocated(f: Pfn): boolean {
    this.frame(f);
    noteRead(this.frameLocs[f]!);
    return this.allocated[f]!;
  }
  /**
   * Every store into a free frame so far, in order. The list only grows by a store to a `mem:`
   * word, so reading it reads every word of memory (an invariant watching `mem:` may read it);
   * `writesToFreedFrame(pfn)` reads only one frame's words.
   */
  get writesToFreedFrames(): readonly FreedFrameWrite[] {
    for (const locs of this.memLocs) for (const loc of locs) noteRead(loc);
    return this.freedWrites;
  }
  /** The stores into frame `f` while it was free (reads the frame's words). */
  writesToFreedFrame(f: Pfn): readonly FreedFrameWrite[] {
    for (const loc of this.memLocs[f]!) noteRead(loc);
    // Asked after every step by an invariant: no list made while there is nothing to list.
    return this.freedWrites.length === 0 ? NO_FREED_WRITES : this.freedWrites.filter((w) => paPfn(w.pa) === f);
  }
  /** The names and roles (Machine.unaudited), the same object while they do not change. */
  unauditedState(): unknown {
    const l = this.lastQuiet;
    if (l !== undefined && sameList(l.names, this.names) && sameList(l.roles, this.roles)) return l;
    return (this.lastQuiet = { names: this.names.slice(), roles: this.roles.slice() });
  }
  private lastQuiet: { readonly names: readonly (string | undefined)[]; readonly roles: readonly (FrameRole | undefined)[] } | undefined;

  /** Give a frame a short name for traces: notes then say "pte O[0]" instead of "pfn5[0]". */
  name(f: Pfn, name: string): void {
    this.frame(f);
    this.names[f] = name;
    this.changed = true;
  }
  /** The frame of that name, or null (a frame a thread allocates, found by the name it gave). */
  frameNamed(name: string): Pfn | null {
    const f = this.names.indexOf(name);
    return f < 0 ? null : pfn(f);
  }
  frameName(f: Pfn): string {
    return this.names[f] ?? (pfnNames[f] ??= `pfn${f}`);
  }
  /** "O[2]" for word 2 of the frame named O. */
  describe(pa: PhysAddr): string {
    return `${this.frameName(paPfn(pa))}[${paIndex(pa)}]`;
  }
  role(f: Pfn): FrameRole | undefined {
    return this.roles[f];
  }
  setRole(f: Pfn, role: FrameRole | undefined): void {
    this.frame(f);
    this.roles[f] = role;
    this.changed = true;
  }
  /** Setup-time allocation (lowest free frame), outside any Step. */
  allocFrame(name?: string, role?: FrameRole): Pfn {
    const f = this.lowestFree();
    if (f === null) throw new Error('out of physical frames during setup');
    this.claim(f, name, role, true);
    return f;
  }
  allocatedFrames(): Pfn[] {
    const out: Pfn[] = [];
    this.allocated.forEach((a, i) => {
      noteRead(this.frameLocs[i]!);
      if (a) out.push(pfn(i));
    });
    return out;
  }
  isCachedWB(f: Pfn): boolean {
    this.frame(f);
    noteRead(this.cacheLocs[f]!);
    return this.cachedWB[f]!;
  }
  setCachedWB(f: Pfn, v: boolean): void {
    this.frame(f);
    noteWrite(this.cacheLocs[f]!);
    this.cachedWB[f] = v;
    this.changed = true;
  }

  /** A word of memory as a Cell (for atomics and pte operations; a pte pointer is one).
   * One Cell per word, made on first use: it carries the word's location name. */
  word(pa: PhysAddr): WordCell {
    const f = paPfn(pa);
    const i = this.idx(pa);
    this.frame(f);
    const row = (this.cells[f] ??= []);
    return (row[i] ??= new MemWord(this, pa, this.memLocs[f]![i]!, this.frameLocs[f]!));
  }

  // ---- Steps ----

  // Each step below takes the CPU that issues it as an optional first argument
  // (`alloc_page(cpu, 'N', 'pte')`, `free_page(cpu, f)`, `clflush(cpu, f)`, `wbinvd(cpu)`; a CPU
  // is told apart because only a CPU has a TLB, tso/ops.ts isCpu). Without one, or on an SC
  // machine, each is the step it always was. On TSO (tso/README.md, "Allocation, free, clflush"):
  // - alloc_page / get_zeroed_page and free_page wait for the CPU's store buffer to drain, then
  //   act on the allocator at once: the page allocator takes a spinlock (a locked cmpxchg,
  //   SDM vol. 3A §8.1.2.2, §8.2.5) — zone->lock, or in current kernels pcp->lock (rmqueue_pcplist
  //   / free_unref_page: pcp_spin_trylock) — and __free_pages starts with put_page_testzero(), a
  //   `lock decl` (atomic_dec_and_test on page->_refcount);
  // - clflush enters the buffer like a store and clears the WB lines when it drains: CLFLUSH is
  //   "ordered with respect to each other and with respect to writes, locked read-modify-write
  //   instructions, and fence instructions" (SDM vol. 2A, CLFLUSH) and "no write to memory may be
  //   reordered with an execution of the CLFLUSH instruction" (SDM vol. 3A §8.2.2), while later
  //   loads may pass it; software that needs it complete fences it (clflush_cache_range: mb();
  //   clflush…; mb());
  // - wbinvd is serialising (SDM vol. 3A §8.3): it waits for the buffer to drain.

  /** Allocate the lowest free frame (not zeroed, like alloc_page). Null when memory is full. */
  alloc_page(name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown>;
  alloc_page(cpu: Cpu, name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown>;
  *alloc_page(a?: Cpu | string, b?: string | FrameRole, c?: FrameRole): Generator<Step, Pfn | null, unknown> {
    if (isCpu(a)) return yield* this.allocStep(a, 'alloc_page', b, c, false);
    return yield* this.allocStep(undefined, 'alloc_page', a, b as FrameRole | undefined, false);
  }
  /** Allocate and zero the lowest free frame. */
  get_zeroed_page(name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown>;
  get_zeroed_page(cpu: Cpu, name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown>;
  *get_zeroed_page(a?: Cpu | string, b?: string | FrameRole, c?: FrameRole): Generator<Step, Pfn | null, unknown> {
    if (isCpu(a)) return yield* this.allocStep(a, 'get_zeroed_page', b, c, true);
    return yield* this.allocStep(undefined, 'get_zeroed_page', a, b as FrameRole | undefined, true);
  }
  /** Return a frame to the allocator; its contents stay (stale) until reused. */
  free_page(f: Pfn): Generator<Step, void, unknown>;
  free_page(cpu: Cpu, f: Pfn): Generator<Step, void, unknown>;
  *free_page(a: Cpu | Pfn, b?: Pfn): Generator<Step, void, unknown> {
    const cpu = isCpu(a) ? a : undefined;
    const f = isCpu(a) ? b! : a;
    const fp = (this.shape.freeFps[f] ??= joinAccesses([writeOf(ALLOC_LOC), writeOf(this.frameLocs[f]!)]));
    yield lockedBy(cpu, stableStep(textFor(freeLabels, this.frameName(f), (n) => `free_page ${n}`), fp, (say) => {
      if (!this.isAllocated(f)) throw new Error(`double free of frame ${this.frameName(f)} (pfn ${f})`);
      noteWrite(ALLOC_LOC);
      noteWrite(this.frameLocs[f]!);
      this.allocated[f] = false;
      this.changed = true;
      say(`frame ${this.frameName(f)} (pfn ${f}) freed`);
    }));
  }
  /** __free_page(page): the same step as free_page. */
  __free_page(f: Pfn): Generator<Step, void, unknown>;
  __free_page(cpu: Cpu, f: Pfn): Generator<Step, void, unknown>;
  __free_page(a: Cpu | Pfn, b?: Pfn): Generator<Step, void, unknown> {
    return isCpu(a) ? this.free_page(a, b!) : this.free_page(a);
  }
  /** clflush every line of a frame: no WB lines remain cached. On TSO, issued by a CPU, it is
   * buffered and takes effect when it drains (see above). */
  clflush(f: Pfn): Generator<Step, void, unknown>;
  clflush(cpu: Cpu, f: Pfn): Generator<Step, void, unknown>;
  *clflush(a: Cpu | Pfn, b?: Pfn): Generator<Step, void, unknown> {
    const sb = isCpu(a) ? a.sb : undefined;
    const f = isCpu(a) ? b! : a;
    const label = textFor(clflushLabels, this.frameName(f), (n) => `clflush ${n}`);
    if (sb !== undefined) {
      this.frame(f);
      yield bufferedWrite(sb, label, this.cacheLocs[f]!, 0, `clflush of ${this.frameName(f)}'s lines buffered`);
      return;
    }
    yield stableStep(label, writesOf(this.cacheLocs[f]!), (say) => {
      this.setCachedWB(f, false);
      say(`cache lines of ${this.frameName(f)} flushed`);
    });
  }
  /** Where a buffered clflush of frame `f` lands when it drains (tso/sinks.ts): the WB flag. */
  cacheSink(f: Pfn): StoreSink {
    this.frame(f);
    const loc = this.cacheLocs[f]!;
    return {
      name: `cache lines of ${this.frameName(f)} flushed; WB`,
      set: (v: number) => this.setCachedWB(f, v !== 0),
      writeAccesses: () => writesOf(loc),
    };
  }
  /** wbinvd: write back and invalidate all caches (serialising: on TSO it waits for the buffer). */
  *wbinvd(cpu?: Cpu): Generator<Step, void, unknown> {
    const fp = (this.shape.wbinvdFp ??= joinAccesses(this.cacheLocs.map((loc) => writeOf(loc))));
    yield lockedBy(cpu, stableStep('wbinvd', fp, (say) => {
      for (const loc of this.cacheLocs) noteWrite(loc);
      this.cachedWB.fill(false);
      this.changed = true;
      say('all cache lines written back and invalidated');
    }));
  }

  private *allocStep(
    cpu: Cpu | undefined,
    what: string,
    name: string | undefined,
    role: FrameRole | undefined,
    zero: boolean,
  ): Generator<Step, Pfn | null, unknown> {
    // One list per frame (and per shape: shared by every build).
    const fp = (): readonly Access[] => {
      const f = this.lowestFree();
      if (f === null) return writesOf(ALLOC_LOC);
      const fps = zero ? this.shape.zeroAllocFps : this.shape.allocFps;
      return (fps[f] ??= joinAccesses([writeOf(ALLOC_LOC), writeOf(this.frameLocs[f]!)], zero ? this.memLocs[f]!.map((loc) => writeOf(loc)) : []));
    };
    const labels = zero ? zeroAllocLabels : allocLabels;
    const label = name ? textFor(labels, name, (n) => `${what} (${n})`) : what;
    // On TSO the allocator's lock drains the CPU's buffer first (lockedBy); the zeroing
    // (clear_page's stores, after the frame is taken) then lands at once, in the same step.
    const got = (yield lockedBy(cpu, stableStep(label, fp, (say) => {
      const f = this.lowestFree();
      if (f === null) {
        say('out of memory');
        return null;
      }
      this.claim(f, name, role, zero);
      say(`got pfn ${f}${name ? ` = ${name}` : ''}`);
      return f;
    }))) as Pfn | null;
    // The caller's own code names its next steps after the frame ("free_page N"). When the
    // engine restores a later point it brings this thread back by feeding it the pfn, before the
    // saved state (names included) is put back: so the thread names the frame too, from the result.
    if (got !== null) {
      this.names[got] = name;
      this.changed = true;
    }
    return got;
  }

  private claim(f: Pfn, name: string | undefined, role: FrameRole | undefined, zero: boolean): void {
    noteWrite(ALLOC_LOC);
    noteWrite(this.frameLocs[f]!);
    this.allocated[f] = true;
    this.names[f] = name;
    this.roles[f] = role;
    this.changed = true;
    if (zero) {
      for (const loc of this.memLocs[f]!) noteWrite(loc);
      this.words[f]!.fill(0);
    }
  }
  /** The allocator's choice: reads its free list (`alloc`), which every alloc and free writes. */
  private lowestFree(): Pfn | null {
    noteRead(ALLOC_LOC);
    const i = this.allocated.indexOf(false);
    return i < 0 ? null : pfn(i);
  }
  private frame(f: Pfn): number[] {
    const w = this.words[f];
    if (!w) throw new RangeError(`no frame ${f} (machine has ${this.frameCount})`);
    return w;
  }
  private idx(pa: PhysAddr): number {
    const i = paIndex(pa);
    if (!Number.isInteger(i) || i >= this.wordsPerFrame) throw new RangeError(`bad physical address ${hex(pa)}`);
    return i;
  }
}

/** A word of physical memory; a `pte_t *` is one of these. */
export interface WordCell extends Cell {
  readonly pa: PhysAddr;
  readonly memory: PhysMemory;
}

/** A word of physical memory seen as a Cell; stores read `frame:<pfn>` (free-frame check). */
class MemWord implements WordCell {
  private readonly frame: Pfn;
  private readonly index: number;
  private readonly fps: WordFootprints;
  /** `name`, and the frame name it was made from: labels ask for it at every step, and a frame
   * is renamed only when it is allocated again. */
  private nameText: string | undefined;
  private nameFrom: string | undefined;
  constructor(readonly memory: PhysMemory, readonly pa: PhysAddr, readonly loc: Loc, frameLocation: Loc) {
    this.frame = paPfn(pa);
    this.index = paIndex(pa);
    this.fps = wordFootprints(loc, frameLocation);
  }
  get name(): string {
    const from = this.memory.frameName(this.frame);
    if (this.nameText === undefined || from !== this.nameFrom) {
      this.nameFrom = from;
      this.nameText = `${from}[${this.index}]`;
    }
    return this.nameText;
  }
  get(): number {
    return this.memory.peek(this.pa);
  }
  set(v: number, by?: string): void {
    this.memory.poke(this.pa, v, by);
  }
  readAccesses(): readonly Access[] {
    return this.fps.reads;
  }
  writeAccesses(): readonly Access[] {
    return this.fps.writes;
  }
  rmwAccesses(): readonly Access[] {
    return this.fps.rmw;
  }
}

/** A memory word's footprints: a load reads the word; a store writes it and reads its frame's
 * allocation state. Made once per word location and shared by every build. */
interface WordFootprints {
  readonly reads: readonly Access[];
  readonly writes: readonly Access[];
  readonly rmw: readonly Access[];
}
const wordFps = new Map<Loc, WordFootprints>();
function wordFootprints(loc: Loc, frameLocation: Loc): WordFootprints {
  let fps = wordFps.get(loc);
  if (fps === undefined) {
    const reads = readsOf(loc);
    const writes = joinAccesses(writesOf(loc), readsOf(frameLocation));
    wordFps.set(loc, (fps = { reads, writes, rmw: joinAccesses(reads, writes) }));
  }
  return fps;
}
