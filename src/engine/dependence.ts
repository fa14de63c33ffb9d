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

  visible(loc: string): boolean {
    return this.watchAll || this.prefixes.some((p) => loc.startsWith(p));
  }

  dependent(a: readonly Access[], b: readonly Access[]): boolean {
    let aVisible = false;
    for (const x of a) {
      if (x.write && !aVisible && this.visible(x.loc)) aVisible = true;
      for (const y of b) {
        if (x.loc === y.loc && (x.write || y.write)) return true;
      }
    }
    if (!aVisible) return false;
    return b.some((y) => y.write && this.visible(y.loc));
  }
}
