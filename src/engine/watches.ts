// A watch prefix that matches no location any step touched (nor the invariant itself read) is
// a typo, a stale name, or an over-approximation for a configuration that does not use it (a
// page table a split may allocate, with one caller). Soundness does not rest on it — the audit
// fails any read of an invariant outside its watch — so it is reported as a warning with the
// result. It follows the search until every prefix has matched something (usually within the
// first execution), then costs nothing.
import type { Access, Invariant, Loc } from './types.js';

/** What is noted is matched once this much is held (a long execution, an invariant without a
 * watch list reading many locations after every step). */
const HELD = 1 << 16;

export class WatchTracker {
  /** Prefixes not matched yet, with the invariant that declared each. */
  private open: { readonly invariant: string; readonly prefix: string }[];

  constructor(invariants: readonly Invariant[]) {
    // Loops: flatMap took a microsecond a call in V8, and a tracker is made for every search.
    const open: { readonly invariant: string; readonly prefix: string }[] = [];
    for (const i of invariants) if (!i.atEnd && i.watch) for (const prefix of i.watch) open.push({ invariant: i.name, prefix });
    this.open = open;
  }

  get done(): boolean {
    return this.open.length === 0;
  }

  // What was touched is only noted as it happens, and matched against the prefixes at `settle`
  // (the driver calls it before each execution after the first) or for `warnings`: the warnings
  // are only given with a "holds", so a search that stops at a violation in its first execution
  // never matches them (a sixteenth of cpa no-cache-flush's search did). By count, never emptied.
  private readonly heldLocs: Loc[] = [];
  private nLocs = 0;
  private readonly heldFootprints: (readonly Access[])[] = [];
  private nFootprints = 0;

  /** Notes a location read or written. */
  touch(loc: Loc): void {
    this.heldLocs[this.nLocs++] = loc;
    if (this.nLocs >= HELD) this.settle();
  }

  /** Notes every location of a step's footprint. */
  touchAll(footprint: readonly Access[]): void {
    this.heldFootprints[this.nFootprints++] = footprint;
    if (this.nFootprints >= HELD) this.settle();
  }

  /** Matches what was noted since the last call against the open prefixes. */
  settle(): void {
    for (let i = 0; i < this.nFootprints; i++) this.matchAll(this.heldFootprints[i]!);
    for (let i = 0; i < this.nLocs; i++) this.match(this.heldLocs[i]!);
    this.nFootprints = 0;
    this.nLocs = 0;
  }

  /** Locations tested against the open prefixes already: a search touches a few hundred
   * locations over and over, and a short one (a violation in the first execution) that never
   * closes every prefix spent a tenth of its time matching them again. */
  private readonly tested = new Set<Loc>();

  private match(loc: Loc): void {
    if (this.open.length === 0 || this.tested.has(loc)) return;
    this.tested.add(loc);
    if (this.open.some((w) => loc.startsWith(w.prefix))) this.open = this.open.filter((w) => !loc.startsWith(w.prefix));
  }

  /** Footprints whose every location was tested already (most are lists the machine shares:
   * one lookup instead of one per location; bounded, as a model may make a list per step). */
  private readonly testedFootprints = new Set<readonly Access[]>();

  private matchAll(footprint: readonly Access[]): void {
    if (this.open.length === 0 || this.testedFootprints.has(footprint)) return;
    for (let i = 0; i < footprint.length && this.open.length > 0; i++) this.match(footprint[i]!.loc);
    if (this.testedFootprints.size < 1024) this.testedFootprints.add(footprint);
  }

  /** One warning per prefix that never matched. */
  warnings(): string[] {
    this.settle();
    return this.open.map((w) => `invariant ${w.invariant} watches ${JSON.stringify(w.prefix)}, which matches no location any step touched or the invariant read (misspelt, stale, or unused in this configuration?)`);
  }
}
