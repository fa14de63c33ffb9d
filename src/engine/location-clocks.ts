// Per-location happens-before summaries for DPOR (dpor.ts): per location, the clock of the
// last write and the join of the reads since. An event's dependencies are exactly the last
// write of each location it reads, and the last write plus the later reads of each location it
// writes (earlier ones are ordered before those). Writes visible to one invariant are mutually
// dependent, so each invariant group is one more chain.
//
// Each execution keeps the events of its prefix and adds a few after the branch point: the
// summaries are taken back to the prefix by an undo log (what each recorded event replaced),
// not rebuilt from every kept event — rebuilding was 5.5 % of a stateless search's time
// (ptmigrate delimbo pages=3 reclaim=3), for ~120 kept events against ~22 new ones.

/** A vector clock: per thread, the number of its events ordered before (or at) this point. */
export type Clock = number[];

// Undo entries, in three parallel arrays: the kind, the location id or invariant group, and
// the value it replaced (for a write, the reads-since entry in `undoOther` as well).
const READ = 0;
const WRITE = 1;
const VISIBLE = 2;

export class LocationClocks {
  /** Per location id, the clock of its last write and the join of the reads since. Recorded
   * clocks are never changed in place (a read joins into a copy), so the log can hand them back. */
  private readonly lastWrite: (Clock | undefined)[] = [];
  private readonly readsSince: (Clock | undefined)[] = [];
  /** Per invariant group, the clock of the last write it sees. */
  private readonly lastVisibleWrite: (Clock | undefined)[] = [];
  private readonly undoKind: number[] = [];
  private readonly undoAt: number[] = [];
  private readonly undoOld: (Clock | undefined)[] = [];
  private readonly undoOther: (Clock | undefined)[] = [];
  /** The undo log's length before each recorded event. */
  private readonly marks: number[] = [];
  // The log and the marks are filled by index up to these counts and never shortened: taking
  // an array's length back below half its storage makes V8 trim the storage, which the next
  // execution's entries then allocate again (1.5 % of vmap fixed's time went to it). Entries
  // past the counts are stale and never read.
  private undoLength = 0;
  private events = 0;

  /** Takes back every event recorded after the first `n`, newest first. */
  truncate(n: number): void {
    const marks = this.marks;
    if (this.events <= n) return;
    const to = marks[n]!;
    for (let i = this.undoLength - 1; i >= to; i--) {
      const at = this.undoAt[i]!;
      switch (this.undoKind[i]) {
        case READ:
          this.readsSince[at] = this.undoOld[i];
          break;
        case WRITE:
          this.lastWrite[at] = this.undoOld[i];
          this.readsSince[at] = this.undoOther[i];
          break;
        default:
          this.lastVisibleWrite[at] = this.undoOld[i];
      }
    }
    this.undoLength = to;
    this.events = n;
  }

  joinDependencies(into: Clock, codes: ArrayLike<number>, writesVisible: number): void {
    for (let i = 0; i < codes.length; i++) {
      const id = codes[i]! >> 1;
      const w = this.lastWrite[id];
      if (w) join(into, w);
      if (codes[i]! & 1) {
        const r = this.readsSince[id];
        if (r) join(into, r);
      }
    }
    for (let g = 0, m = writesVisible; m !== 0; g++, m >>>= 1) {
      const w = m & 1 ? this.lastVisibleWrite[g] : undefined;
      if (w) join(into, w);
    }
  }

  /** Records the next event: its footprint as codes (`id << 1 | write`), its clock (kept, never
   * changed), the invariant groups its writes are visible to. */
  record(codes: ArrayLike<number>, clock: Clock, writesVisible: number): void {
    this.marks[this.events++] = this.undoLength;
    for (let i = 0; i < codes.length; i++) {
      if (codes[i]! & 1) continue;
      const id = codes[i]! >> 1;
      this.grow(id);
      const r = this.readsSince[id];
      // The join is one of the two clocks when it dominates the other (a thread reading what it
      // read before, a read ordered after the others): no copy then (a step of a TLB flush
      // reads two dozen slots, and a copy for each was a tenth of the search's allocation).
      if (r !== undefined && covers(r, clock)) continue;
      this.log(READ, id, r, undefined);
      if (r !== undefined && !covers(clock, r)) {
        const joined = r.slice();
        join(joined, clock);
        this.readsSince[id] = joined;
      } else this.readsSince[id] = clock;
    }
    for (let i = 0; i < codes.length; i++) {
      if (!(codes[i]! & 1)) continue;
      const id = codes[i]! >> 1;
      this.grow(id);
      this.log(WRITE, id, this.lastWrite[id], this.readsSince[id]);
      this.lastWrite[id] = clock;
      this.readsSince[id] = undefined;
    }
    for (let g = 0, m = writesVisible; m !== 0; g++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      this.log(VISIBLE, g, this.lastVisibleWrite[g], undefined);
      this.lastVisibleWrite[g] = clock;
    }
  }

  private log(kind: number, at: number, old: Clock | undefined, other: Clock | undefined): void {
    const i = this.undoLength++;
    this.undoKind[i] = kind;
    this.undoAt[i] = at;
    this.undoOld[i] = old;
    this.undoOther[i] = other;
  }

  /** Extends both arrays densely up to `id` (holes would make them slow). */
  private grow(id: number): void {
    while (this.lastWrite.length <= id) {
      this.lastWrite.push(undefined);
      this.readsSince.push(undefined);
    }
  }
}

/** `a` is at or after `b` in every thread: their join is `a`. */
function covers(a: Clock, b: Clock): boolean {
  for (let k = 0; k < b.length; k++) if (b[k]! > a[k]!) return false;
  return true;
}

export function join(into: Clock, other: Clock): void {
  for (let k = 0; k < into.length; k++) if (other[k]! > into[k]!) into[k] = other[k]!;
}
