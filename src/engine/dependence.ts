// When two steps do not commute. Two footprints conflict on a common location that one of
// them writes. Invariants checked after every step observe the locations they watch: so that
// partial-order reduction never skips an intermediate state they could see, writes to watched
// locations are all treated as mutually dependent (the "visible" steps of ample-set theory).
import type { Access, Invariant } from './types.js';

export class Dependence {
  private readonly watchAll: boolean;
  private readonly prefixes: readonly string[];

  constructor(invariants: readonly Invariant[]) {
    const perStep = invariants.filter((i) => !i.atEnd);
    this.watchAll = perStep.some((i) => i.watch === undefined);
    this.prefixes = [...new Set(perStep.flatMap((i) => i.watch ?? []))].sort();
  }

  private readonly cache = new Map<string, boolean>();

  visible(loc: string): boolean {
    if (this.watchAll) return true;
    let v = this.cache.get(loc);
    if (v === undefined) {
      v = this.prefixes.some((p) => loc.startsWith(p));
      this.cache.set(loc, v);
    }
    return v;
  }

  /** Per footprint: does it write a visible location? (Footprints are compared many times.) */
  private readonly writesVisibleCache = new WeakMap<readonly Access[], boolean>();

  writesVisible(f: readonly Access[]): boolean {
    let v = this.writesVisibleCache.get(f);
    if (v === undefined) {
      v = f.some((x) => x.write && this.visible(x.loc));
      this.writesVisibleCache.set(f, v);
    }
    return v;
  }

  /** `dependent`, for footprints whose visible-write flags are already known. */
  dependentWith(a: readonly Access[], aVisible: boolean, b: readonly Access[], bVisible: boolean): boolean {
    if (aVisible && bVisible) return true;
    for (const x of a) {
      for (const y of b) {
        if (x.loc === y.loc && (x.write || y.write)) return true;
      }
    }
    return false;
  }

  dependent(a: readonly Access[], b: readonly Access[]): boolean {
    for (const x of a) {
      for (const y of b) {
        if (x.loc === y.loc && (x.write || y.write)) return true;
      }
    }
    return this.writesVisible(a) && this.writesVisible(b);
  }
}
