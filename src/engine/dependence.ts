// When two steps do not commute. Two footprints conflict on a common location that one of
// them writes. An invariant checked after every step observes the locations it watches: so that
// partial-order reduction never skips an intermediate state it could see, the writes to its
// watched locations are treated as mutually dependent (the "visible" steps of ample-set theory).
//
// Each per-step invariant is its own group: writes visible to one invariant are ordered among
// themselves, not against writes only another invariant watches. That is enough: an invariant
// reads only its watched locations (the audit checks it), so the states it can tell apart are
// fixed by the order of the writes to them, and DPOR explores every order of each group.
// An invariant without `watch` sees everything: every write is visible to it.
import type { Access, Invariant } from './types.js';

/** Groups past this many share the last bit (sound: more writes ordered, never fewer). */
export const MAX_GROUPS = 30;

export class Dependence {
  /** Per group, the location prefixes it watches ('' matches every location). */
  private readonly groups: readonly (readonly string[])[];

  constructor(invariants: readonly Invariant[]) {
    const perStep = invariants.filter((i) => !i.atEnd);
    this.groups = perStep.map((i) => i.watch ?? ['']);
  }

  /** Whether `perStep` (a build's per-step invariants) watch what the groups were made from,
   * in the same order: then a group's bit is that invariant's. */
  describes(perStep: readonly Invariant[]): boolean {
    if (perStep.length !== this.groups.length) return false;
    for (let g = 0; g < perStep.length; g++) {
      const w = perStep[g]!.watch ?? [''];
      const h = this.groups[g]!;
      if (w.length !== h.length || w.some((p, i) => p !== h[i])) return false;
    }
    return true;
  }

  private readonly cache = new Map<string, number>();
  /** Each location seen, numbered in order of first sight (its bit in a footprint summary). */
  private readonly ids = new Map<string, number>();

  /** Bit set of the groups that watch `loc`. */
  visibleTo(loc: string): number {
    let v = this.cache.get(loc);
    if (v === undefined) {
      v = 0;
      for (let g = 0; g < this.groups.length; g++) {
        if (this.groups[g]!.some((p) => loc.startsWith(p))) v |= 1 << Math.min(g, MAX_GROUPS);
      }
      this.cache.set(loc, v);
    }
    return v;
  }

  /**
   * A footprint as location ids (`id << 1 | write`, an id minted for each location the first
   * time it is seen) with a 32-bit summary, left in `all` and `written` (no result object per
   * event): bit (id mod 32) for every location, and for every written one. Two footprints
   * whose summaries do not meet (neither's writes meet the other's locations) share no written
   * location, so most independent pairs are told apart without comparing every access with
   * every other (a TLB flush declares two dozen slots); the events DPOR keeps compare by
   * number, not by location name. A plain array of small integers: V8 makes one faster than
   * an Int32Array, and one is made for every new step.
   */
  encode(f: readonly Access[]): number[] {
    const codes = new Array<number>(f.length);
    let all = 0;
    let written = 0;
    for (let i = 0; i < f.length; i++) {
      const a = f[i]!;
      let id = this.ids.get(a.loc);
      if (id === undefined) this.ids.set(a.loc, (id = this.ids.size));
      const bit = 1 << (id & 31);
      all |= bit;
      if (a.write) written |= bit;
      codes[i] = (id << 1) | (a.write ? 1 : 0);
    }
    this.all = all;
    this.written = written;
    return codes;
  }
  /** The last encoded footprint's summaries (encode). */
  all = 0;
  written = 0;

  /** How many locations have an id so far (every id is below it). */
  get locations(): number {
    return this.ids.size;
  }

  /** The groups whose watched locations the footprint writes (no cache per footprint: they are
   * rebuilt at every evaluation, and a WeakMap costs the collector more than the lookups). */
  writesVisible(f: readonly Access[]): number {
    if (this.groups.length === 0) return 0;
    let v = 0;
    for (let i = 0; i < f.length; i++) if (f[i]!.write) v |= this.visibleTo(f[i]!.loc);
    return v;
  }

  // The footprint of the step just run is asked for twice in a row: by the invariant checks
  // after the step (stepVisible), then by DPOR's event for it (takeVisible), which share this
  // Dependence. The answer is kept from one to the other and no longer: no model code runs
  // between them, so a model that hands out one array and changes it between steps is never
  // answered from a stale copy.
  private lastFootprint: readonly Access[] | undefined = undefined;
  private lastVisible = 0;

  /** writesVisible of the step just run, kept for the takeVisible that follows. */
  stepVisible(f: readonly Access[]): number {
    const v = this.writesVisible(f);
    this.lastFootprint = f;
    this.lastVisible = v;
    return v;
  }

  /** Forgets the kept answer (a step whose event DPOR already has takes none). */
  forgetVisible(): void {
    this.lastFootprint = undefined;
  }

  /** writesVisible, answered from the last stepVisible when it was asked about this very array;
   * forgets that answer either way. */
  takeVisible(f: readonly Access[]): number {
    const kept = f === this.lastFootprint;
    this.lastFootprint = undefined;
    return kept ? this.lastVisible : this.writesVisible(f);
  }

  /** `dependent`, for footprints whose visible-write groups are already known. */
  dependentWith(a: readonly Access[], aVisible: number, b: readonly Access[], bVisible: number): boolean {
    if ((aVisible & bVisible) !== 0) return true;
    for (const x of a) {
      for (const y of b) {
        if (x.loc === y.loc && (x.write || y.write)) return true;
      }
    }
    return false;
  }

  dependent(a: readonly Access[], b: readonly Access[]): boolean {
    return this.dependentWith(a, this.writesVisible(a), b, this.writesVisible(b));
  }
}
