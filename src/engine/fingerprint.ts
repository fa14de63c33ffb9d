// State fingerprints for the state cache: a 64-bit hash of a program's saved state (its
// `Program.state.save()`, plain data) and of each thread's position.
//
// A thread is a deterministic generator (the cursor checks that), so the results it has been
// fed say where it is and what its local variables hold: its position is a hash chain over those
// results. The machine's saved state reuses an unchanged part's saved object (src/machine/
// state.ts), so the hash at each place of the saved state's tree is remembered with the object
// it was computed for (Memo), and a step that changes one part costs the hashing of that part.
//
// The hash is two independent 32-bit lanes of MurmurHash3's mixing (Appleby, public domain),
// fed a tagged walk of the value (no serialising to bytes first), 64 bits. Two distinct states
// collide with probability about 2^-64 per pair; the cache reports the bound n(n-1)/2^65 for
// the n states it stored.

import type { ProgramState } from './types.js';

/** A 64-bit fingerprint as two unsigned 32-bit halves. */
export interface Fingerprint {
  readonly lo: number;
  readonly hi: number;
}

/** Thrown for a value the fingerprint cannot see into (a function, a class instance with hidden state). */
export class Unhashable extends Error {}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // Signed: a value kept in a variable or a field stays a small integer (an unsigned one over
  // 2^31 is a heap number, allocated). Mixed in, both give the same bits; a Fingerprint shows
  // them unsigned (done).
  return h | 0;
}

// Type tags keep [1, [2]] apart from [[1], 2], "1" from 1, null from undefined.
const T_UNDEF = 1, T_NULL = 2, T_FALSE = 3, T_TRUE = 4, T_INT = 5, T_FLOAT = 6, T_STR = 7, T_ARR = 8, T_OBJ = 9, T_MAP = 10, T_SET = 11, T_BIG = 12;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Hashes of saved lists of LIST_MIN items or more that are frozen, by identity: a saved state
 * is never changed (state.ts). */
const memo = new WeakMap<object, Fingerprint>();

// The two running lanes, module-wide so that hashing allocates nothing but its results; `a` and `b` start from different seeds so they are independent. hashObject saves
// and restores them around a nested value.
const SEED_A = 0x9747b28c | 0;
const SEED_B = 0x2545f491 | 0;
let la = SEED_A;
let lb = SEED_B;
let ln = 0;

function word(k: number): void {
  la = mix(la, k);
  lb = mix(lb, k ^ 0x5bd1e995);
  ln++;
}

function begin(): void {
  la = SEED_A;
  lb = SEED_B;
  ln = 0;
}

function done(): Fingerprint {
  return { lo: fmix(la ^ ln) >>> 0, hi: fmix(lb ^ Math.imul(ln, 0x27d4eb2f)) >>> 0 };
}

function walk(v: unknown, remember = true, at?: Memo): void {
  switch (typeof v) {
    case 'undefined':
      return word(T_UNDEF);
    case 'boolean':
      return word(v ? T_TRUE : T_FALSE);
    case 'number':
      if ((v | 0) === v) {
        word(T_INT);
        return word(v);
      }
      f64[0] = v;
      word(T_FLOAT);
      word(u32[0]!);
      return word(u32[1]!);
    case 'string': {
      const h = hashString(v);
      word(h.lo);
      return word(h.hi);
    }
    case 'bigint':
      word(T_BIG);
      return walk(v.toString(16), remember);
    case 'object': {
      if (v === null) return word(T_NULL);
      hashObject(v, remember, at);
      const hi = rhi;
      word(rlo);
      return word(hi);
    }
    default:
      throw new Unhashable(`a ${typeof v} is not data`);
  }
}

/** Strings recur (names, roles, encoded TLB entries): their hashes are kept by value. */
const strings = new Map<string, Fingerprint>();

function hashString(v: string): Fingerprint {
  const known = strings.get(v);
  if (known !== undefined) return known;
  const sa = la, sb = lb, sn = ln;
  begin();
  word(T_STR);
  word(v.length);
  for (let i = 0; i < v.length; i++) word(v.charCodeAt(i));
  const h = done();
  la = sa;
  lb = sb;
  ln = sn;
  if (strings.size >= 1 << 16) strings.clear(); // a bound on memory, not on correctness
  strings.set(v, h);
  return h;
}

/** The keys of the objects whose first key is `keys[0]`, in order, with their hashes: the
 * first such object hashed fixes them (`open` until then); an object of another shape with the
 * same first key hashes its other keys one by one. */
interface Shape {
  readonly keys: string[];
  readonly lo: number[];
  readonly hi: number[];
  open: boolean;
}

const shapes = new Map<string, Shape>();

function shapeOf(first: string): Shape {
  let s = shapes.get(first);
  if (s === undefined) {
    if (shapes.size >= 1 << 12) shapes.clear(); // a bound on memory, not on correctness
    shapes.set(first, (s = { keys: [], lo: [], hi: [], open: true }));
  }
  return s;
}

/** A long saved list's hash, kept on it: saved state is never changed (state.ts). */
const HASH: unique symbol = Symbol('mmcheck.fingerprint');

/** Lists (arrays, Maps, Sets) this long keep their hash on themselves (HASH) as well as at their
 * place: one that comes back to a place after a rewind is not hashed again. Shorter ones, and
 * plain objects, are hashed again there: the lookup of a property on objects of every shape (a
 * megamorphic load) and its store were the most sampled lines of hashing. */
const LIST_MIN = 16;

/** A hash (its halves signed, as fmix gives them) kept on the object it is the hash of (`of`): an object spread or assigned from it
 * copies the property along, and the copy, which may then change, must not take it as its own. */
interface Kept extends Fingerprint {
  readonly of: object;
}

/** hashObject's result (two numbers, not an object: most are mixed into their parent at once). */
let rlo = 0;
let rhi = 0;

/**
 * The hash last computed at one place in the saved state's tree (the root, a key's value, an
 * item of a list), with the places below it. Consecutive states share most of their saved
 * objects (a save reuses an unchanged part's object, state.ts), so most places hold the object
 * they held at the last fingerprint: one comparison. Sound because saved objects never change.
 */
class Memo {
  obj: object | null = null;
  lo = 0;
  hi = 0;
  readonly kids: Memo[] = [];
  at(i: number): Memo {
    // Places past MEMO_KIDS are not remembered (a bound on memory, not on correctness).
    if (this === SCRATCH || i >= MEMO_KIDS) return SCRATCH;
    let m = this.kids[i];
    if (m === undefined) {
      this.kids[i] = m = new Memo();
    }
    return m;
  }
}
/** The most places remembered below one place. */
const MEMO_KIDS = 256;
/** A place that remembers nothing (keep() skips it, so its object stays null). */
const SCRATCH = new Memo();
/** The root place: the saved state of the last stateFingerprint. */
const root = new Memo();

/** Hashes `v` into rlo:rhi; `at`: its place in the saved state's tree (remember only). */
function hashObject(v: object, remember: boolean, at?: Memo): void {
  // Saved states are full of empty lists (no IPIs queued, no acks, no TLB entries): one hash.
  if (emptyArrayHash !== null && Array.isArray(v) && v.length === 0) {
    rlo = emptyArrayHash.lo;
    rhi = emptyArrayHash.hi;
    return;
  }
  if (at !== undefined && at.obj === v) {
    rlo = at.lo;
    rhi = at.hi;
    return;
  }
  const long = remember && (Array.isArray(v) ? v.length : v instanceof Map || v instanceof Set ? v.size : 0) >= LIST_MIN;
  if (long) {
    const own = (v as { [HASH]?: Kept })[HASH];
    const known = own !== undefined && own.of === v ? own : memo.get(v);
    if (known !== undefined) {
      rlo = known.lo;
      rhi = known.hi;
      if (at !== undefined) keep(at, v);
      return;
    }
  }
  const sa = la, sb = lb, sn = ln;
  begin();
  if (Array.isArray(v)) {
    word(T_ARR);
    word(v.length);
    // Memory is a long list of small integers: mixed inline, as walk would (tag, then value).
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'number' && (x | 0) === x) {
        la = mix(mix(la, T_INT), x);
        lb = mix(mix(lb, T_INT ^ 0x5bd1e995), x ^ 0x5bd1e995);
        ln += 2;
      } else walk(x, remember, at?.at(i));
    }
  } else if (v instanceof Map) {
    word(T_MAP);
    word(v.size);
    for (const [k, x] of v) {
      walk(k, remember);
      walk(x, remember);
    }
  } else if (v instanceof Set) {
    word(T_SET);
    word(v.size);
    for (const x of v) walk(x, remember);
  } else {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new Unhashable(`an instance of ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'a class'} is not plain data`);
    word(T_OBJ);
    // A key's hash from the object's shape (found by its first key, checked key by key), not a
    // lookup per key: saved states are many objects of a few shapes. The same words are mixed.
    let shape: Shape | undefined;
    let i = 0;
    for (const k in v) {
      if (i === 0) shape = shapeOf(k);
      if (shape !== undefined && i < shape.keys.length && shape.keys[i] === k) {
        word(shape.lo[i]!);
        word(shape.hi[i]!);
      } else {
        const h = hashString(k);
        word(h.lo);
        word(h.hi);
        if (shape !== undefined && i === shape.keys.length && shape.open) {
          shape.keys.push(k);
          shape.lo.push(h.lo);
          shape.hi.push(h.hi);
        } else shape = undefined;
      }
      walk((v as Record<string, unknown>)[k], remember, at?.at(i));
      i++;
    }
    if (shape !== undefined) shape.open = false;
  }
  rlo = fmix(la ^ ln);
  rhi = fmix(lb ^ Math.imul(ln, 0x27d4eb2f));
  la = sa;
  lb = sb;
  ln = sn;
  // A long list's hash is kept on it by a plain store (a defineProperty took half of all
  // hashing time), with the object it belongs to (see Kept); a frozen one's in the WeakMap.
  if (long) {
    if (Object.isExtensible(v)) (v as { [HASH]?: Kept })[HASH] = { lo: rlo, hi: rhi, of: v };
    else memo.set(v, { lo: rlo, hi: rhi });
  }
  if (at !== undefined) keep(at, v);
}

/** Remembers rlo:rhi as the hash of `v` at place `at`. */
function keep(at: Memo, v: object): void {
  if (at === SCRATCH) return;
  at.obj = v;
  at.lo = rlo;
  at.hi = rhi;
}

/** The hash of `[]`, as hashObject computes it (set once, below). */
let emptyArrayHash: { readonly lo: number; readonly hi: number } | null = null;
hashObject([], false);
emptyArrayHash = { lo: rlo, hi: rhi };

/** Fingerprints of position keys and memoryless threads' labels, by tag and text (asked at
 * every step, and at every step a rewind feeds). */
const keyed = new Map<string, Map<string, Fingerprint>>();

/** The fingerprint of `[tag, text]`, remembered. */
export function keyFingerprint(tag: string, text: string): Fingerprint {
  let byText = keyed.get(tag);
  if (byText === undefined) keyed.set(tag, (byText = new Map()));
  let h = byText.get(text);
  if (h === undefined) {
    if (byText.size >= 1 << 16) byText.clear(); // a bound on memory, not on correctness
    byText.set(text, (h = fingerprint([tag, text])));
  }
  return h;
}

/** Fingerprints of the positions inside operations (Step.positionInOp), by outer key and key. */
const pairs = new Map<string, Map<string, Fingerprint>>();

/** The fingerprint of `['position in op', key, inOp]`, remembered: apart from every plain key's. */
export function positionInOpFingerprint(key: string, inOp: string): Fingerprint {
  let byOp = pairs.get(key);
  if (byOp === undefined) {
    if (pairs.size >= 1 << 16) pairs.clear(); // a bound on memory, not on correctness
    pairs.set(key, (byOp = new Map()));
  }
  let h = byOp.get(inOp);
  if (h === undefined) {
    if (byOp.size >= 1 << 16) byOp.clear();
    byOp.set(inOp, (h = fingerprint(['position in op', key, inOp])));
  }
  return h;
}

/** The fingerprint of a plain-data value. Throws Unhashable for anything else. */
export function fingerprint(v: unknown): Fingerprint {
  begin();
  walk(v);
  return done();
}

/** The start of every thread's position chain (a thread that has received no result). */
export const CHAIN_START: Fingerprint = { lo: 0x6a09e667, hi: 0xbb67ae85 };

/** A thread's position after receiving `result` at `from`. A result object is hashed afresh
 * (a model may change an object it returned; a saved state it may not). */
export function extendChain(from: Fingerprint, result: unknown): Fingerprint {
  begin();
  word(from.lo);
  word(from.hi);
  walk(result, false);
  return done();
}

/**
 * A place in a saved state whose hash a program state computes itself (`ProgramState.hash`):
 * the object last hashed there and its hash. Saved objects never change, so the same object
 * again costs one comparison.
 */
export class HashPlace {
  obj: object | null = null;
  lo = 0;
  hi = 0;
  /** The generic walk's places below this one (StateHasher.value). */
  readonly memo = new Memo();
}

/**
 * Mixes a saved state into the fingerprint, for a program state that knows the shape of what
 * it saves (the machine): it hashes its parts field by field, with no walk over keys and types,
 * and each part once per saved object (`part`). What it mixes must determine the saved state:
 * every field, each list's length before its items, a mark for an absent value.
 */
export interface StateHasher {
  /** A number (an integer in one word; any other number by its bits, marked). */
  num(n: number): void;
  bool(b: boolean): void;
  /** A string, or undefined (marked apart from every string). */
  str(s: string | undefined): void;
  /** Any plain data, by the generic walk (remembered at `at`). */
  value(v: unknown, at?: HashPlace): void;
  /** `v`'s hash by `fn`, computed once per object at `at` (saved objects never change). */
  part<T extends object>(at: HashPlace, v: T, fn: (v: T, h: StateHasher) => void): void;
}

/** Marks the words after it as not one integer (see num): the encoding is prefix-free, so two
 * different streams of values never mix the same words. */
const T_MARK = 13;

const hasher: StateHasher = {
  num(n: number): void {
    if ((n | 0) === n && n !== T_MARK) return word(n);
    // T_MARK itself as [T_MARK, 0]; any other number as [T_MARK, 1, its 64 bits].
    word(T_MARK);
    if (n === T_MARK) return word(0);
    f64[0] = n;
    word(1);
    word(u32[0]!);
    word(u32[1]!);
  },
  bool(b: boolean): void {
    word(b ? 1 : 0);
  },
  str(s: string | undefined): void {
    if (s === undefined) return word(0);
    const h = hashString(s);
    word(1);
    word(h.lo);
    word(h.hi);
  },
  value(v: unknown, at?: HashPlace): void {
    walk(v, true, at?.memo);
  },
  part<T extends object>(at: HashPlace, v: T, fn: (v: T, h: StateHasher) => void): void {
    if (at.obj !== v) {
      const sa = la, sb = lb, sn = ln;
      begin();
      fn(v, hasher);
      at.lo = fmix(la ^ ln);
      at.hi = fmix(lb ^ Math.imul(ln, 0x27d4eb2f));
      at.obj = v;
      la = sa;
      lb = sb;
      ln = sn;
    }
    word(at.lo);
    word(at.hi);
  },
};

/** The fingerprint of a whole state: the saved program state (hashed by `state.hash` when the
 * program state has one, else by the generic walk) and every thread's position. */
export function stateFingerprint(saved: unknown, chains: readonly Fingerprint[], state?: Pick<ProgramState, 'hash'>): Fingerprint {
  begin();
  if (state?.hash !== undefined) state.hash(saved, hasher);
  else walk(saved, true, root);
  for (let i = 0; i < chains.length; i++) {
    word(chains[i]!.lo);
    word(chains[i]!.hi);
  }
  return done();
}
