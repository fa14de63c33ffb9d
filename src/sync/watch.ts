// A watch prefix that matches no location any step touched (nor the invariant itself read) is a
// typo or a stale name: the invariant then watches nothing, and partial-order reduction may
// skip every state it could see. The audit catches an invariant that *reads* an unwatched
// location; this catches the watch that names nothing.
import { AccessRecord, FootprintError, noteRead, noteWrite, recording } from '../engine/audit.js';
import { exploreProgram } from '../engine/explore.js';
import type { ExploreOptions } from '../engine/results.js';
import type { Invariant, Loc, Program } from '../engine/types.js';

export interface UnmatchedWatch {
  readonly invariant: string;
  readonly prefix: string;
}

/** Watch prefixes of per-step invariants that match none of `touched`. */
export function unmatchedWatches(invariants: readonly Invariant[], touched: Iterable<Loc>): UnmatchedWatch[] {
  const locs = [...new Set(touched)];
  const out: UnmatchedWatch[] = [];
  for (const inv of invariants) {
    if (inv.atEnd || !inv.watch) continue;
    for (const prefix of inv.watch) if (!locs.some((l) => l.startsWith(prefix))) out.push({ invariant: inv.name, prefix });
  }
  return out;
}

/**
 * Explores `make` (by default DFS, at most 200 executions) collecting every location a step's
 * footprint named and every location a per-step invariant read (a ghost word written only when
 * a violation is recorded is still read by its invariant), and throws a FootprintError naming
 * each watch prefix that matched none. Returns those locations. The answer is only as good as
 * the exploration: explore fully (`maxExecutions: Infinity`) before trusting "unmatched".
 */
export function checkWatches(make: () => Program, options: ExploreOptions = {}): Set<Loc> {
  const touched = new Set<Loc>();
  exploreProgram(observingInvariants(make, touched), {
    strategy: 'dfs',
    maxExecutions: 200,
    ...options,
    onExecution: (events) => {
      for (const e of events) for (const a of e.footprint) touched.add(a.loc);
    },
  });
  const bad = unmatchedWatches(make().invariants, touched);
  if (bad.length > 0) {
    const list = bad.map((b) => `invariant ${b.invariant} watches ${JSON.stringify(b.prefix)}`).join('; ');
    throw new FootprintError(`${list}, which matches no location any step touched or the invariant read (a misspelt or stale location?)`);
  }
  return touched;
}

/** The program with each per-step invariant's reads added to `seen` (and still reported to the
 * engine's own audit, which checks them against the watch list). */
function observingInvariants(make: () => Program, seen: Set<Loc>): () => Program {
  return () => {
    const p = make();
    const invariants = p.invariants.map((inv): Invariant => {
      if (inv.atEnd) return inv;
      const rec = new AccessRecord();
      return {
        ...inv,
        check: () => {
          const r = recording(rec.clear(), () => inv.check());
          for (const l of rec.reads) {
            seen.add(l);
            noteRead(l);
          }
          for (const l of rec.writes) noteWrite(l);
          return r;
        },
      };
    });
    return { ...p, invariants };
  };
}
