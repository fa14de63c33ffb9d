// Physical memory: frames of words, a deterministic page allocator (lowest free frame first),
// and a per-frame "lines cached as WB" flag for cache-attribute changes.
//
// Locations: `mem:<pfn>:<i>` one word; `frame:<pfn>` whether the frame is allocated (read by
// every write, so a write into a freed frame is ordered against the free); `alloc` the free
// list; `cache:<pfn>` the WB-lines flag.
import { type Access, type Loc, type Step, read, write } from '../engine/types.js';
import { type Cell, mkStep, op } from './step.js';
import { type PhysAddr, type Pfn, hex, paIndex, paPfn, pfn, physAddr } from './types.js';

/** What a frame is used for (shown in snapshots; set by setup code and pmd_populate). */
export type FrameRole = 'pmd' | 'pte' | 'data';

/** A store that landed in a frame that was free at the time. */
export interface FreedFrameWrite {
  readonly pa: PhysAddr;
  readonly value: number;
  /** "cpu1 (hardware D update)", "cpu0 set_pte" … */
  readonly by: string;
}

export const memLoc = (pa: PhysAddr): Loc => `mem:${paPfn(pa)}:${paIndex(pa)}`;
export const frameLoc = (f: Pfn): Loc => `frame:${f}`;
export const cacheLoc = (f: Pfn): Loc => `cache:${f}`;
export const ALLOC_LOC: Loc = 'alloc';

export class PhysMemory {
  private readonly words: number[][];
  private readonly allocated: boolean[];
  private readonly names: (string | undefined)[];
  private readonly roles: (FrameRole | undefined)[];
  private readonly cachedWB: boolean[];
  /** Every store into a free frame, in order (an invariant can demand it stays empty). */
  readonly writesToFreedFrames: FreedFrameWrite[] = [];

  constructor(readonly frameCount: number, readonly wordsPerFrame: number) {
    this.words = Array.from({ length: frameCount }, () => new Array<number>(wordsPerFrame).fill(0));
    this.allocated = new Array<boolean>(frameCount).fill(false);
    this.names = new Array<string | undefined>(frameCount).fill(undefined);
    this.roles = new Array<FrameRole | undefined>(frameCount).fill(undefined);
    this.cachedWB = new Array<boolean>(frameCount).fill(false);
  }

  // ---- plain accessors (setup code, invariants, the machine's own steps) ----

  peek(pa: PhysAddr): number {
    return this.frame(paPfn(pa))[this.idx(pa)]!;
  }
  /** Raw store. Records it when the frame is free. */
  poke(pa: PhysAddr, value: number, by = 'setup'): void {
    const f = paPfn(pa);
    if (!this.allocated[f]) this.writesToFreedFrames.push({ pa, value, by });
    this.frame(f)[this.idx(pa)] = value;
  }
  /** Copy of a frame's words. */
  contents(f: Pfn): number[] {
    return [...this.frame(f)];
  }
  isAllocated(f: Pfn): boolean {
    this.frame(f);
    return this.allocated[f]!;
  }
  /** Give a frame a short name for traces: notes then say "pte O[0]" instead of "pfn5[0]". */
  name(f: Pfn, name: string): void {
    this.frame(f);
    this.names[f] = name;
  }
  frameName(f: Pfn): string {
    return this.names[f] ?? `pfn${f}`;
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
    this.allocated.forEach((a, i) => a && out.push(pfn(i)));
    return out;
  }
  isCachedWB(f: Pfn): boolean {
    return this.cachedWB[f]!;
  }
  setCachedWB(f: Pfn, v: boolean): void {
    this.frame(f);
    this.cachedWB[f] = v;
  }

  /** A word of memory as a Cell (for atomics and pte operations; a pte pointer is one). */
  word(pa: PhysAddr): WordCell {
    this.frame(paPfn(pa));
    this.idx(pa);
    return new MemWord(this, pa);
  }

  // ---- Steps ----

  /** Allocate the lowest free frame (not zeroed, like alloc_page). Null when memory is full. */
  *alloc_page(name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown> {
    return yield* this.allocStep('alloc_page', name, role, false);
  }
  /** Allocate and zero the lowest free frame. */
  *get_zeroed_page(name?: string, role?: FrameRole): Generator<Step, Pfn | null, unknown> {
    return yield* this.allocStep('get_zeroed_page', name, role, true);
  }
  /** Return a frame to the allocator; its contents stay (stale) until reused. */
  *free_page(f: Pfn): Generator<Step, void, unknown> {
    yield* op(
      mkStep(`free_page ${this.frameName(f)}`, [write(ALLOC_LOC), write(frameLoc(f))], (say) => {
        if (!this.allocated[f]) throw new Error(`double free of frame ${this.frameName(f)} (pfn ${f})`);
        this.allocated[f] = false;
        say(`frame ${this.frameName(f)} (pfn ${f}) freed`);
      }),
    );
  }
  /** clflush every line of a frame: no WB lines remain cached. */
  *clflush(f: Pfn): Generator<Step, void, unknown> {
    yield* op(
      mkStep(`clflush ${this.frameName(f)}`, [write(cacheLoc(f))], (say) => {
        this.cachedWB[f] = false;
        say(`cache lines of ${this.frameName(f)} flushed`);
      }),
    );
  }
  /** wbinvd: write back and invalidate all caches. */
  *wbinvd(): Generator<Step, void, unknown> {
    const fp = this.words.map((_, i) => write(cacheLoc(pfn(i))));
    yield* op(
      mkStep('wbinvd', fp, (say) => {
        this.cachedWB.fill(false);
        say('all cache lines written back and invalidated');
      }),
    );
  }

  private *allocStep(
    what: string,
    name: string | undefined,
    role: FrameRole | undefined,
    zero: boolean,
  ): Generator<Step, Pfn | null, unknown> {
    const fp = (): readonly Access[] => {
      const f = this.lowestFree();
      if (f === null) return [write(ALLOC_LOC)];
      const acc: Access[] = [write(ALLOC_LOC), write(frameLoc(f))];
      if (zero) for (let i = 0; i < this.wordsPerFrame; i++) acc.push(write(memLoc(physAddr(f, i))));
      return acc;
    };
    return yield* op(
      mkStep(`${what}${name ? ` (${name})` : ''}`, fp, (say) => {
        const f = this.lowestFree();
        if (f === null) {
          say('out of memory');
          return null;
        }
        this.claim(f, name, role, zero);
        say(`got pfn ${f}${name ? ` = ${name}` : ''}`);
        return f;
      }),
    );
  }

  private claim(f: Pfn, name: string | undefined, role: FrameRole | undefined, zero: boolean): void {
    this.allocated[f] = true;
    this.names[f] = name;
    this.roles[f] = role;
    if (zero) this.words[f]!.fill(0);
  }
  private lowestFree(): Pfn | null {
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
  readonly loc: Loc;
  constructor(readonly memory: PhysMemory, readonly pa: PhysAddr) {
    this.loc = memLoc(pa);
  }
  get name(): string {
    return this.memory.describe(this.pa);
  }
  get(): number {
    return this.memory.peek(this.pa);
  }
  set(v: number, by?: string): void {
    this.memory.poke(this.pa, v, by);
  }
  readAccesses(): readonly Access[] {
    return [read(this.loc)];
  }
  writeAccesses(): readonly Access[] {
    return [write(this.loc), read(frameLoc(paPfn(this.pa)))];
  }
}
