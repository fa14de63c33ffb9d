// Refcount invariants for a transparent huge page (MODELS.md §5, models/thp-refcount.ts).
//
// The model keeps a ledger of the references each actor *holds* (the pmd mapping, the split
// caller's head pin, gup pins on a tail, the splitter's temporary tail references, speculative
// references) and updates it atomically with the count operation that takes or gives up each
// one. The invariants compare every struct page's `_count` with what that ledger says it should
// be under the kernel's accounting rules — never with an old total: raw sums are not conserved
// across `__split_huge_page_refcount` (the mapping's one reference on the head becomes one on
// every subpage).
//
// Accounting (who counts a reference where):
// - 2.6.38 (Andrea Arcangeli's THP): a reference on a tail that is still PageTail is counted on
//   the tail *and* on the head (`get_page`: `atomic_inc(&page->_count); if (PageTail(page))
//   atomic_inc(&page->first_page->_count)`). So `head._count = M + p0 + Σpi`, `tail_i._count = pi`.
// - refcount v2 (Kirill Shutemov, v4.5): every reference on a compound page is taken on the head
//   (`get_page(page)` → `page = compound_head(page)`); a tail's own `_count` stays 0.
// - 3.2 ("mm: thp: tail page refcounting fix"): like v2 for `_count` — a tail pin is counted on
//   the head, and in the tail's `_mapcount`, so the tail's `_count` stays 0 until the split.
// - Once a tail's PageTail is clear it is a page of its own: it counts exactly what it holds.
//
// Ledger changes only ever ride on steps that write a watched location (a `_count` or a tail's
// flags), so DPOR keeps every ordering the invariants could tell apart.
import { unaudited } from '../src/engine/audit.js';
import type { Invariant } from '../src/engine/types.js';
import type { Cpu } from '../src/machine/cpu.js';
import { PG_tail, type Page } from '../src/machine/page.js';
import { latest } from '../src/machine/tso/ops.js';
import { sameList } from '../src/machine/state.js';

export type Accounting = 'tail-and-head' | 'head-only';

/** What the invariants read from the model. Index 0 is the head, 1.. the tails. */
export interface ThpRefState {
  readonly pages: readonly Page[];
  readonly accounting: Accounting;
  /** Short names for messages ("H", "T1"). */
  readonly names: readonly string[];
  /** Holders of a reference on each page ("map", "caller", "cpu1 gup", "split tmp"). */
  readonly refs: readonly string[][];
  /** Threads inside a refcount operation (counts in flux): quiescent when empty. */
  readonly busy: ReadonlySet<string>;
  /** Inside `__split_huge_page_refcount` (2.6.38) / `__split_huge_page` (v2). */
  inSplit: boolean;
  /** v2: the head's count is frozen at 0 by `page_ref_freeze` (owned by the splitter). */
  frozen: boolean;
  /** The split has 2.6.38's BUG_ON(page_count(page) <= 0) (2.6.38 and 3.2; not v2). */
  readonly splitBugOn: boolean;
  /** On TSO, the CPUs whose store buffers may hold a count (page_ref_unfreeze and atomic_set
   * are plain stores): a count is what it will be once they drain. Empty on SC. */
  readonly buffered: readonly Cpu[];
}

/** Page `i`'s `_count`: memory, or the youngest store to it still in a CPU's buffer (TSO) — a
 * count on its way to memory is not a freed page (tso.latest). */
export function countOf(s: ThpRefState, i: number): number {
  const c = s.pages[i]!._count;
  return s.buffered.length === 0 ? c.get() : latest(s.buffered, c);
}

/** Is page `i` still part of the compound page (the head, or a tail with PageTail set)? */
export function isCompoundPart(s: ThpRefState, i: number): boolean {
  return i === 0 || s.pages[i]!.hasFlag(PG_tail);
}

/** The `_count` page `i` should have for the references held now. */
export function expectedCount(s: ThpRefState, i: number): number {
  if (i === 0) {
    let n = s.refs[0]!.length;
    for (let t = 1; t < s.pages.length; t++) if (isCompoundPart(s, t)) n += s.refs[t]!.length;
    return n;
  }
  if (isCompoundPart(s, i) && s.accounting === 'head-only') return 0;
  return s.refs[i]!.length;
}

/** The references page `i`'s count must cover (for the head: also those on compound tails). */
function heldBy(s: ThpRefState, i: number): string[] {
  const held: string[] = [...s.refs[i]!];
  if (i === 0) {
    for (let t = 1; t < s.pages.length; t++) {
      if (isCompoundPart(s, t)) held.push(...s.refs[t]!.map((h) => `${h} on ${s.names[t]}`));
    }
  } else if (isCompoundPart(s, i) && s.accounting === 'head-only') return [];
  return held;
}

/** "H: _count 1, expected 2 (held by map, caller)". */
function describe(s: ThpRefState, i: number): string {
  const held = heldBy(s, i);
  const by = held.length ? `held by ${held.join(', ')}` : 'nothing held';
  return `${s.names[i]}: _count ${countOf(s, i)}, expected ${expectedCount(s, i)} (${by})`;
}

/** Locations the invariants read: every `_count`, and the tails' flags (PageTail). */
export function watchedLocations(s: ThpRefState): string[] {
  const pages = s.pages.flatMap((p, i) => (i === 0 ? [p._count.loc] : [p._count.loc, p.flags.loc]));
  return s.buffered.length === 0 ? pages : [...pages, 'sb:'];
}

/**
 * The kernel's `BUG_ON(page_count(page) <= 0)` inside 2.6.38's `__split_huge_page_refcount`.
 * v2's `__split_huge_page` has no such check (the head is frozen at 0 for most of it): there a
 * head count that drops during the split is caught by no-free-while-referenced, as a count
 * that goes negative (a put on the frozen head) or reaches 0 while the caller's pin is held.
 */
export function headPositiveDuringSplit(s: ThpRefState): Invariant {
  return {
    name: 'head-positive-during-split',
    description: "the head's _count never drops to 0 or below while the 2.6.38 split runs (the kernel's BUG_ON(page_count(page) <= 0) in __split_huge_page_refcount)",
    watch: s.buffered.length === 0 ? [s.pages[0]!._count.loc] : [s.pages[0]!._count.loc, 'sb:'],
    check: () => {
      if (!s.inSplit) return null;
      const c = countOf(s, 0);
      // The description is for the message only (the verdict is already "violated").
      return c > 0 ? null : `BUG_ON(page_count(head) <= 0) in the split: ${unaudited(() => describe(s, 0))}`;
    },
  };
}

/** No count reaches 0 (or below) while references that it must cover are held. */
export function noFreeWhileReferenced(s: ThpRefState): Invariant {
  return {
    name: 'no-free-while-referenced',
    description: 'no _count reaches 0 while the page is mapped or pinned (it would be freed under its users), and none goes negative',
    watch: watchedLocations(s),
    check: () => {
      for (let i = 0; i < s.pages.length; i++) {
        const c = countOf(s, i);
        // Below 0 even while frozen: a frozen count is exactly 0, and a put on it is the
        // VM_BUG_ON_PAGE(page_ref_count(page) == 0) in put_page_testzero().
        if (c < 0) return `${s.names[i]}: _count went negative (${describe(s, i)})`;
        if (s.frozen && isCompoundPart(s, i)) continue; // 0 by page_ref_freeze, owned by the splitter
        if (c === 0 && expectedCount(s, i) > 0) return `${s.names[i]} freed while referenced: ${describe(s, i)}`;
      }
      return null;
    },
  };
}

/** At every quiescent point (no thread inside a get/put/split) and at the end, counts = refs held. */
export function refcountConsistent(s: ThpRefState): Invariant {
  return {
    name: 'refcount-consistent',
    description: "at every quiescent point and at the end, every page's _count equals the references held on it (2.6.38: a tail pin counts on the tail and the head; v2: on the head only)",
    watch: watchedLocations(s),
    check: () => {
      if (s.busy.size > 0) return null;
      const bad: string[] = [];
      for (let i = 0; i < s.pages.length; i++) {
        if (countOf(s, i) !== expectedCount(s, i)) bad.push(describe(s, i));
      }
      return bad.length ? bad.join('; ') : null;
    },
  };
}

/** What `RefLedger.save` copies. */
export interface LedgerState {
  readonly refs: readonly (readonly string[])[];
  readonly busy: readonly string[];
  readonly inSplit: boolean;
  readonly frozen: boolean;
  readonly freed: readonly string[];
}

/** `list` (distinct items) holds what `set` holds: compared at every save without copying the set. */
function sameMembers(list: readonly string[], set: ReadonlySet<string>): boolean {
  if (list.length !== set.size) return false;
  for (let i = 0; i < list.length; i++) if (!set.has(list[i]!)) return false;
  return true;
}

/** Puts `x` into `xs`, kept sorted, where push then sort() would: strings in code-unit order,
 * sort()'s default (no sort's work copy at every reference taken). */
function insertSorted(xs: string[], x: string): void {
  let i = xs.length;
  xs.push(x);
  for (; i > 0 && xs[i - 1]! > x; i--) xs[i] = xs[i - 1]!;
  xs[i] = x;
}

/** The ledger a model keeps (implements ThpRefState): holders per page, busy threads, split state. */
export class RefLedger implements ThpRefState {
  readonly refs: string[][];
  readonly busy = new Set<string>();
  inSplit = false;
  frozen = false;
  /** Pages whose count reached 0 and that the kernel would have freed ("H (by cpu0)"), sorted
   * (see `save`). */
  readonly freed: string[] = [];
  constructor(
    readonly pages: readonly Page[],
    readonly names: readonly string[],
    readonly accounting: Accounting,
    readonly splitBugOn: boolean = accounting === 'tail-and-head',
    readonly buffered: readonly Cpu[] = [],
  ) {
    this.refs = pages.map(() => []);
  }
  index(p: Page): number {
    const i = this.pages.indexOf(p);
    if (i < 0) throw new Error(`model bug: ${p.label} is not part of the huge page`);
    return i;
  }
  add(p: Page, who: string): void {
    insertSorted(this.refs[this.index(p)]!, who);
  }
  /** A page's count reached 0 (`text`: "T1 (by cpu1)"). */
  noteFreed(text: string): void {
    insertSorted(this.freed, text);
  }
  drop(p: Page, who: string): void {
    const r = this.refs[this.index(p)]!;
    const k = r.indexOf(who);
    if (k < 0) throw new Error(`model bug: ${who} holds no reference on ${p.label}`);
    r.splice(k, 1);
  }
  /** The ledger as data (`Program.state`): its lists are copied, its strings shared; the last
   * copy again while the ledger is unchanged. In a canonical order (holders and frees sorted as
   * they are kept, busy threads sorted): no order here is ever observed, and ledgers that differ
   * only in it are one state for the state cache. */
  save(): LedgerState {
    const l = this.last;
    if (l && l.inSplit === this.inSplit && l.frozen === this.frozen && sameList(l.freed, this.freed) && sameMembers(l.busy, this.busy) && this.refs.every((r, i) => sameList(l.refs[i], r))) return l;
    return (this.last = { refs: this.refs.map((r) => r.slice()), busy: [...this.busy].sort(), inSplit: this.inSplit, frozen: this.frozen, freed: this.freed.slice() });
  }
  private last: LedgerState | undefined;
  restore(s: LedgerState): void {
    s.refs.forEach((r, i) => {
      const into = this.refs[i]!;
      into.length = 0;
      into.push(...r);
    });
    this.busy.clear();
    for (const b of s.busy) this.busy.add(b);
    this.inSplit = s.inSplit;
    this.frozen = s.frozen;
    this.freed.length = 0;
    this.freed.push(...s.freed);
    this.last = s;
  }
  /** For snapshots, one line per page: "expected 3 (map, caller, cpu1 pin on T1)". */
  view(): Record<string, string | boolean> {
    const o: Record<string, string | boolean> = {};
    this.names.forEach((n, i) => (o[n] = `expected ${expectedCount(this, i)} (${heldBy(this, i).join(', ') || 'nothing held'})`));
    return { ...o, busy: [...this.busy].sort().join(', ') || 'none', inSplit: this.inSplit, frozen: this.frozen, freed: this.freed.join(', ') || 'none' };
  }
}

/** In reporting order: the most specific symptom first; the split's BUG_ON only where the kernel has it. */
export function thpRefcountInvariants(s: ThpRefState): Invariant[] {
  const bugOn = s.splitBugOn ? [headPositiveDuringSplit(s)] : [];
  return [...bugOn, noFreeWhileReferenced(s), refcountConsistent(s)];
}
