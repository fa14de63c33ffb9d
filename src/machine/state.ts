// Saving and restoring shared state (`Program.state`): with it the engine starts an execution
// from the state saved at its branch point instead of re-running the prefix.
//
// Every part of the machine that a step can change implements `Stateful`, and the Machine saves
// them as one list in a fixed order. A saved state is data only — numbers, strings, arrays of
// immutable records (TLB entries, IPI requests, fault records) — never a reference to an object
// of the program it came from: it is put back into a freshly built program, whose page tables,
// CPUs and locks are other objects. Copies are flat (`slice`, loops over number arrays): `save`
// runs before every newly explored step.
import { HashPlace, type StateHasher } from '../engine/fingerprint.js';
import type { ProgramState } from '../engine/types.js';

/** A part of a program's shared state that can copy itself out and be put back. */
export interface Stateful<S = unknown> {
  /** A copy of the part's state now; later changes must not alter it. */
  save(): S;
  /** Puts a state saved from this part (or the same part of another build) back. */
  restore(saved: S): void;
  /** Mixes a state `save` returned into a fingerprint (ProgramState.hash): every field of it,
   * nothing else. Optional: a part without it is hashed by the state cache's generic walk. */
  hash?(saved: S, h: StateHasher): void;
  /** What of the part thread code between steps can change unseen by the audit (noteWrite),
   * the same object while it does not change (ProgramState.unaudited). Without it, all of it. */
  unaudited?(): unknown;
}

// Saving reuses: a part whose state equals what it saved last (element by element, ===) returns
// that same saved object instead of a new copy. Most steps change one or two parts, so a save
// mostly costs comparisons, not allocations (garbage collection was a quarter of the search's
// time). Sound because a saved state is never changed: neither by the part, which copies out of
// it on restore, nor by the engine, which only hands it back.

/** `xs` equals `saved` element by element. */
export function sameList<T>(saved: readonly T[] | undefined, xs: readonly T[]): saved is readonly T[] {
  if (saved === undefined || saved.length !== xs.length) return false;
  for (let i = 0; i < xs.length; i++) if (saved[i] !== xs[i]) return false;
  return true;
}

/** `saved` if `xs` equals it, else a copy of `xs`. */
export const reuseList = <T>(saved: readonly T[] | undefined, xs: readonly T[]): readonly T[] => (sameList(saved, xs) ? saved : xs.slice());

/** One Stateful made of several, saved as a list in their order (the last list again while no
 * part's saved state changed). */
export function compose(parts: readonly Stateful[]): Stateful<readonly unknown[]> & { unaudited(): readonly unknown[] } {
  let last: readonly unknown[] | undefined;
  const now = new Array<unknown>(parts.length);
  // A part that hashes itself is hashed by its own code, each saved object once at its place;
  // the others by the generic walk, remembered at theirs. Places and hashers are made on the
  // first hash: only the state cache hashes, and a build is made for every execution.
  let hashing: { readonly places: HashPlace[]; readonly hashes: (((v: unknown, h: StateHasher) => void) | undefined)[] } | undefined;
  const hashesItself = (p: Stateful): boolean => p.hash !== undefined;
  const hash = parts.some(hashesItself)
    ? (saved: readonly unknown[], h: StateHasher) => {
        const { places, hashes } = (hashing ??= {
          places: parts.map(() => new HashPlace()),
          hashes: parts.map((p) => (p.hash === undefined ? undefined : (v: unknown, hh: StateHasher) => p.hash!(v, hh))),
        });
        h.num(saved.length);
        for (let i = 0; i < saved.length; i++) {
          const f = hashes[i];
          const v = saved[i];
          if (f !== undefined && typeof v === 'object' && v !== null) h.part(places[i]!, v, f);
          else h.value(v, places[i]);
        }
      }
    : undefined;
  // What thread code could change without the audit seeing it: a part's own say, else all of
  // it (model bookkeeping).
  let lastQuiet: readonly unknown[] | undefined;
  const nowQuiet = new Array<unknown>(parts.length);
  // Closures, not methods: the engine calls `unaudited` unbound.
  const unaudited = (): readonly unknown[] => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      nowQuiet[i] = p.unaudited !== undefined ? p.unaudited() : p.save();
    }
    return (lastQuiet = reuseList(lastQuiet, nowQuiet));
  };
  const save = (): readonly unknown[] => {
    for (let i = 0; i < parts.length; i++) now[i] = parts[i]!.save();
    return (last = reuseList(last, now));
  };
  const restore = (saved: readonly unknown[]): void => {
    if (!Array.isArray(saved) || saved.length !== parts.length) throw new Error(`restore: a saved state of ${parts.length} parts was expected`);
    for (let i = 0; i < parts.length; i++) parts[i]!.restore(saved[i]);
    last = saved;
  };
  // Two literals rather than a spread of `hash` into one: a build makes one, and the spread
  // copied the object by a slow generic path.
  return hash ? { hash, unaudited, save, restore } : { unaudited, save, restore };
}

/**
 * A model's `Program.state`: its machine (or machines) and its own bookkeeping outside them
 * (ghost records, ledgers, JS variables its steps change). Thread-local generator variables need
 * nothing: the engine rebuilds them by feeding each thread the results it received.
 */
export function programState(...parts: Stateful[]): ProgramState {
  return compose(parts);
}

/**
 * Bookkeeping kept in plain JS by a model: `get` returns a copy of it as data, `set` puts such a
 * copy back. A helper so that each model states in one place what it keeps outside the machine.
 * `unchanged(saved)`, when given, says the bookkeeping still equals a copy `get` made: the save
 * then hands that copy out again instead of making a new one.
 */
export function modelState<S>(get: () => S, set: (s: S) => void, unchanged?: (saved: S) => boolean): Stateful<S> {
  if (!unchanged) return { save: get, restore: set };
  let last: { s: S } | undefined;
  return {
    save: () => (last !== undefined && unchanged(last.s) ? last.s : (last = { s: get() }).s),
    restore: (s) => {
      set(s);
      last = { s };
    },
  };
}

/** Puts a saved list back into `into`, keeping the array object (others may hold it). */
export function refill<T>(into: T[], from: readonly T[]): void {
  if (into.length !== 0) into.length = 0;
  for (let i = 0; i < from.length; i++) into.push(from[i]!);
}
