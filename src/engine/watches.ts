// A watch prefix that matches no location any step touched (nor the invariant itself read) is
// a typo, a stale name, or an over-approximation for a configuration that does not use it (a
// page table a split may allocate, with one caller). Soundness does not rest on it — the audit
// fails any read of an invariant outside its watch — so it is reported as a warning with the
// result. It follows the search until every prefix has matched something (usually within the
// first execution), then costs nothing.
import type { Access, Invariant, Loc } from './types.js';

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

  /** Locations tested against the open prefixes already: a search touches a few hundred
   * locations over and over, and a short one (a violation in the first execution) that never
   * closes every prefix spent a tenth of its time matching them again. */
  private readonly tested = new Set<Loc>();

  touch(loc: Loc): void {
    if (this.tested.has(loc)) return;
    this.tested.add(loc);
    if (this.open.some((w) => loc.startsWith(w.prefix))) this.open = this.open.filter((w) => !loc.startsWith(w.prefix));
  }

  /** Footprints whose every location was tested already (most are lists the machine shares:
   * one lookup instead of one per location; bounded, as a model may make a list per step). */
  private readonly testedFootprints = new Set<readonly Access[]>();

  touchAll(footprint: readonly Access[]): void {
    if (this.testedFootprints.has(footprint)) return;
    for (let i = 0; i < footprint.length && this.open.length > 0; i++) this.touch(footprint[i]!.loc);
    if (this.testedFootprints.size < 1024) this.testedFootprints.add(footprint);
  }

  /** One warning per prefix that never matched. */
  warnings(): string[] {
    return this.open.map((w) => `invariant ${w.invariant} watches ${JSON.stringify(w.prefix)}, which matches no location any step touched or the invariant read (misspelt, stale, or unused in this configuration?)`);
  }
}
