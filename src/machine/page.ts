// struct page: flags, _count, _mapcount, first_page — one Cell each, so a step on one field
// does not conflict with a step on another. Locations: `page:<pfn>:flags|count|mapcount|first`.
import { noteRead, noteWrite } from '../engine/audit.js';
import { type Access, type Step, read } from '../engine/types.js';
import * as A from './atomics.js';
import { issued } from './atomics.js';
import type { Cpu, IrqFlags } from './cpu.js';
import { bit_spin_lock, bit_spin_unlock } from './locks.js';
import type { PhysMemory } from './memory.js';
import { type Stateful, sameList } from './state.js';
import { AtLoc, type Cell, stableStep, textFor } from './step.js';
import { type Pfn, pfn as mkPfn } from './types.js';
import { sbRead } from './tso/ops.js';

type Op<T> = Generator<Step, T, unknown>;

// Page flag bit numbers (the order is the model's own; names are the kernel's).
export const PG_locked = 0;
export const PG_referenced = 1;
export const PG_uptodate = 2;
export const PG_dirty = 3;
export const PG_lru = 4;
export const PG_head = 5;
export const PG_tail = 6;
export const PG_compound_lock = 7;
export const PG_swapbacked = 8;
const FLAG_NAMES = ['locked', 'referenced', 'uptodate', 'dirty', 'lru', 'head', 'tail', 'compound_lock', 'swapbacked'];

type Field = 'flags' | 'count' | 'mapcount' | 'first';

/** `page:<pfn>:<field>` location names, made once and shared by every build. */
const fieldLocs: Record<Field, string[]> = { flags: [], count: [], mapcount: [], first: [] };
const fieldLoc = (f: Pfn, field: Field): string => (fieldLocs[field][f] ??= `page:${f}:${field}`);

const FIELD_NAMES: Record<Field, string> = { flags: 'flags', count: '_count', mapcount: '_mapcount', first: 'first_page' };

/** One field of one struct page: a word of its PageArray's flat list. */
class PageField extends AtLoc implements Cell {
  readonly loc: string;
  /** `name`, and the page label it was made from (see Page.label). */
  private nameText: string | undefined;
  private nameFrom: string | undefined;
  constructor(private readonly page: Page, readonly field: Field, private readonly slot: number) {
    super();
    this.loc = fieldLoc(page.pfn, field);
  }
  get name(): string {
    const from = this.page.label;
    if (this.nameText === undefined || from !== this.nameFrom) {
      this.nameFrom = from;
      this.nameText = `${from}->${FIELD_NAMES[this.field]}`;
    }
    return this.nameText;
  }
  get(): number {
    noteRead(this.loc);
    return this.page.owner.word(this.slot);
  }
  set(v: number): void {
    noteWrite(this.loc);
    this.page.owner.setWord(this.slot, v);
  }
}

const FIELDS = 4;
/** A pristine struct page: flags 0, _count 0, _mapcount -1, first_page -1. */
const PRISTINE: readonly number[] = [0, 0, -1, -1];

export class Page {
  readonly flags: Cell;
  readonly _count: Cell;
  /** -1 when unmapped, as in the kernel (page_mapcount = _mapcount + 1). */
  readonly _mapcount: Cell;
  /** pfn of the head page for a tail (-1 otherwise). */
  readonly first_page: Cell;
  /** The fields live in `owner`'s flat list, from word pfn * 4 on. */
  constructor(readonly pfn: Pfn, private readonly mem: PhysMemory, readonly owner: PageArray) {
    const at = pfn * FIELDS;
    this.flags = new PageField(this, 'flags', at);
    this._count = new PageField(this, 'count', at + 1);
    this._mapcount = new PageField(this, 'mapcount', at + 2);
    this.first_page = new PageField(this, 'first', at + 3);
  }
  /** "page H" (frame name) for labels: made again only when the frame is renamed (labels ask
   * for it at every step). */
  get label(): string {
    const from = this.mem.frameName(this.pfn);
    if (this.labelText === undefined || from !== this.labelFrom) {
      this.labelFrom = from;
      this.labelText = `page ${from}`;
    }
    return this.labelText;
  }
  private labelText: string | undefined;
  private labelFrom: string | undefined;
  hasFlag(nr: number): boolean {
    return (this.flags.get() & (1 << nr)) !== 0;
  }
  flagNames(): string[] {
    return FLAG_NAMES.filter((_, i) => this.hasFlag(i));
  }
  /** Non-step state, for invariants and snapshots. */
  state(): { count: number; mapcount: number; flags: string[]; first_page?: number } {
    const s = { count: this._count.get(), mapcount: this._mapcount.get(), flags: this.flagNames() };
    const fp = this.first_page.get();
    return fp >= 0 ? { ...s, first_page: fp } : s;
  }
  isPristine(): boolean {
    return this.flags.get() === 0 && this._count.get() === 0 && this._mapcount.get() === -1 && this.first_page.get() === -1;
  }
}

/**
 * mem_map: one struct page per frame, its four fields kept in one flat list of numbers (saved
 * as it is). A build makes the list only; the Page objects and their cells are made when first
 * asked for (most frames' pages are never touched, and the engine builds the program again for
 * every execution).
 */
export class PageArray implements Stateful<readonly number[]> {
  /** flags, _count, _mapcount, first_page of page 0, then of page 1, … */
  private readonly words: number[];
  /** The Page objects made so far, by pfn. */
  private readonly made: (Page | undefined)[];
  /** The state the last save returned or restore put back (reused while nothing changed). */
  private last: readonly number[] | undefined;
  /** A field was changed since `last` was made or put back (every change sets it). */
  private changed = true;
  constructor(private readonly mem: PhysMemory) {
    const n = mem.frameCount;
    this.words = new Array<number>(n * FIELDS);
    for (let i = 0; i < n * FIELDS; i++) this.words[i] = PRISTINE[i % FIELDS]!;
    this.made = new Array<Page | undefined>(n).fill(undefined);
  }
  /** Word `slot` of the flat list (a field's value; PageField reports the access). */
  word(slot: number): number {
    return this.words[slot]!;
  }
  setWord(slot: number, v: number): void {
    this.words[slot] = v;
    this.changed = true;
  }
  save(): readonly number[] {
    const last = this.last;
    if (last !== undefined && (!this.changed || sameList(last, this.words))) {
      this.changed = false;
      return last;
    }
    this.changed = false;
    return (this.last = this.words.slice());
  }
  restore(s: readonly number[]): void {
    if (s === this.last && !this.changed) return; // (see Cpu.restore)
    if (s.length !== this.words.length) throw new Error(`restore: saved struct pages are for ${s.length / FIELDS} frames, not ${this.words.length / FIELDS}`);
    for (let k = 0; k < s.length; k++) this.words[k] = s[k]!;
    this.last = s;
    this.changed = false;
  }
  get(f: Pfn): Page {
    if (!Number.isInteger(f) || f < 0 || f >= this.made.length) throw new RangeError(`no struct page for pfn ${f}`);
    return (this.made[f] ??= new Page(f, this.mem, this));
  }
  all(): readonly Page[] {
    for (let f = 0; f < this.made.length; f++) this.get(mkPfn(f));
    return this.made as readonly Page[];
  }
  /**
   * Setup: make `head` and the next `nr - 1` frames one compound page (PG_head on the head,
   * PG_tail + first_page on tails), as prep_compound_page does.
   */
  prep_compound_page(head: Pfn, nr: number): void {
    const h = this.get(head);
    h.flags.set(h.flags.get() | (1 << PG_head));
    for (let i = 1; i < nr; i++) {
      const t = this.get(mkPfn(head + i));
      t.flags.set(t.flags.get() | (1 << PG_tail));
      t.first_page.set(head);
    }
  }
}

// ---- Steps on struct page ----
// Each takes the issuing CPU as an optional first argument, as the atomics they are made of
// (atomics.ts): on a TSO machine the reads forward from its store buffer and the locked
// operations wait for it to drain.

const W = A.withCpu;
export const page_count = issued(function* (cpu: Cpu | undefined, p: Page): Op<number> {
  return yield* W(A.atomic_read, cpu, p._count);
});
/** page_mapcount(): _mapcount + 1. */
export const page_mapcount = issued(function* (cpu: Cpu | undefined, p: Page): Op<number> {
  return (yield* W(A.atomic_read, cpu, p._mapcount)) + 1;
});
export const get_page = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.atomic_inc, cpu, p._count));
export const get_page_unless_zero = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.atomic_inc_not_zero, cpu, p._count));
/** Decrement _count; true when it reached 0. */
export const put_page_testzero = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.atomic_dec_and_test, cpu, p._count));
export const PageHead = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.test_bit, cpu, PG_head, p.flags));
export const PageTail = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.test_bit, cpu, PG_tail, p.flags));
export const SetPageTail = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.set_bit, cpu, PG_tail, p.flags));
export const ClearPageTail = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.clear_bit, cpu, PG_tail, p.flags));
export const SetPageHead = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.set_bit, cpu, PG_head, p.flags));
export const ClearPageHead = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.clear_bit, cpu, PG_head, p.flags));
export const SetPageDirty = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(A.set_bit, cpu, PG_dirty, p.flags));
export const TestClearPageDirty = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.test_and_clear_bit, cpu, PG_dirty, p.flags));
export const PageDirty = issued((cpu: Cpu | undefined, p: Page): Op<boolean> => W(A.test_bit, cpu, PG_dirty, p.flags));
/** true when the page lock was taken. */
export const trylock_page = issued(function* (cpu: Cpu | undefined, p: Page): Op<boolean> {
  return !(yield* W(A.test_and_set_bit, cpu, PG_locked, p.flags));
});
export const lock_page = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(bit_spin_lock, cpu, PG_locked, p.flags));
export const unlock_page = issued((cpu: Cpu | undefined, p: Page): Op<void> => W(bit_spin_unlock, cpu, PG_locked, p.flags));

/** `[read flags, read first_page]` of a page, one list per page (TSO footprints extend it). */
const headReadLists = new Map<string, readonly Access[]>();
function headReads(p: Page): readonly Access[] {
  let l = headReadLists.get(p.flags.loc);
  if (l === undefined) headReadLists.set(p.flags.loc, (l = [read(p.flags.loc), read(p.first_page.loc)]));
  return l;
}
/** compound_head's labels, by page label (a thread yields its steps again whenever its
 * execution is brought back). */
const compoundHeadLabels = new Map<string, string>();
/** compound_head(): for a tail, its first_page (flags and first_page read in one step; on a TSO
 * CPU both forward from its buffer). */
export const compound_head = issued(function* (cpu: Cpu | undefined, p: Page, pages: PageArray): Op<Page> {
  // The step returns the head's pfn, not the Page: a state restore feeds a thread only plain
  // results back (an object result makes the rest of the execution re-run instead).
  const sb = cpu?.sb;
  const label = textFor(compoundHeadLabels, p.label, (l) => `compound_head(${l})`);
  const head = (yield sb === undefined
    ? stableStep(label, headReads(p), (say): number => {
        const h = p.hasFlag(PG_tail) ? pages.get(mkPfn(p.first_page.get())) : p;
        say(`→ ${h.label}`);
        return h.pfn;
      })
    : stableStep(label, sb.loadAccesses(sb.loadAccesses(headReads(p), p.flags.loc), p.first_page.loc), (say): number => {
        const h = (sbRead(sb, p.flags) & (1 << PG_tail)) !== 0 ? pages.get(mkPfn(sbRead(sb, p.first_page))) : p;
        say(`→ ${h.label}`);
        return h.pfn;
      })) as number;
  return pages.get(mkPfn(head));
});
/** compound_lock: bit spinlock PG_compound_lock in the head's flags. */
export const compound_lock = issued((cpu: Cpu | undefined, head: Page): Op<void> => W(bit_spin_lock, cpu, PG_compound_lock, head.flags));
export const compound_unlock = issued((cpu: Cpu | undefined, head: Page): Op<void> => W(bit_spin_unlock, cpu, PG_compound_lock, head.flags));
export function* compound_lock_irqsave(cpu: Cpu, head: Page): Op<IrqFlags> {
  const flags = yield* cpu.local_irq_save();
  yield* compound_lock(cpu, head);
  return flags;
}
export function* compound_unlock_irqrestore(cpu: Cpu, head: Page, flags: IrqFlags): Op<void> {
  yield* compound_unlock(cpu, head);
  yield* cpu.local_irq_restore(flags);
}
