// The set of visited states, as 64-bit fingerprints (SPIN's hash compaction: the state itself is
// not kept, only its hash). An open-addressing table of two Uint32Arrays: 8 bytes a slot, no
// object per state, nothing for the garbage collector to walk.
//
// A job of a split search may look states up in a second, read-only table (`base`): the states
// the jobs of earlier waves explored (src/parallel/waves.ts). A state found there is copied in
// with the sleep set it was explored with, as if this search had explored it itself.
//
// Past a memory budget the table turns into a bit array (SPIN's bitstate / supertrace,
// Holzmann 1998): every fingerprint sets BITSTATE_K bits; a state whose bits are all set counts
// as visited. A new state can then be taken for a visited one, so a search that finishes in this
// mode reports "holds (probabilistic)" with the estimated chance that a state was missed — never
// a silent cut.
import type { Fingerprint } from './fingerprint.js';

/** Bits set per state in bitstate mode (SPIN's default -k3). */
const BITSTATE_K = 3;
const EMPTY = 0;

/** `visit` of a state not seen before, stored with its sleep set. */
export const FRESH = -1;
/** `visit` of a state not seen before, in bitstate mode: no sleep set is kept, so the state must
 * be explored with none (every awake thread). */
export const FRESH_UNSLEPT = -2;

/** States explored by other searches, looked up (never changed) by a search's own cache: the
 * earlier jobs of a split search (src/parallel/explored.ts). FRESH: not there. */
export interface StateLookup {
  find(f: Fingerprint): number;
}

/** A table's slots in shared memory (StateCache.shared / over). */
export interface SharedTable {
  readonly lo: SharedArrayBuffer;
  readonly hi: SharedArrayBuffer;
  readonly sleep: SharedArrayBuffer;
  readonly count: number;
}

export interface CacheStats {
  /** Distinct states stored. */
  readonly states: number;
  /** Bytes the table takes. */
  readonly bytes: number;
  /** "hash-compact" (64-bit fingerprints, 12 bytes a state with its sleep set) or "bitstate". */
  readonly mode: 'hash-compact' | 'bitstate';
  /** Upper bound on the chance that two distinct states shared a fingerprint (or, in bitstate,
   * estimated chance that a new state was taken for a visited one). */
  readonly collisionProbability: number;
}

export class StateCache {
  private lo: Uint32Array<ArrayBufferLike> = new Uint32Array(1 << 12);
  private hi: Uint32Array<ArrayBufferLike> = new Uint32Array(1 << 12);
  /** The sleep set each state was explored with (bit per thread). */
  private sleep: Uint32Array<ArrayBufferLike> = new Uint32Array(1 << 12);
  private mask = (1 << 12) - 1;
  private count = 0;
  private bits: Uint32Array | null = null;
  /** Largest chance that a state was taken for a visited one, over the bitstate insertions. */
  private omission = 0;

  /** States copied in from `base` on a revisit (explored by an earlier search, not this one). */
  private inherited = 0;

  /** `maxBytes`: past it the table becomes a bit array of that size. `base`: the states earlier
   * searches explored (never changed by this one), looked up when this table has not a state. */
  constructor(
    private readonly maxBytes = Infinity,
    private readonly base: StateLookup | null = null,
  ) {}

  /** A read-only table over the slots of another's `shared()` (a pool worker's base). */
  static over(t: SharedTable): StateCache {
    const c = new StateCache();
    c.lo = new Uint32Array(t.lo);
    c.hi = new Uint32Array(t.hi);
    c.sleep = new Uint32Array(t.sleep);
    c.mask = c.lo.length - 1;
    c.count = t.count;
    return c;
  }

  /** This table's slots in shared memory, for workers to read (StateCache.over); not for bitstate. */
  shared(): SharedTable {
    if (this.bits) throw new Error('a bitstate table is not shared');
    const copy = (a: Uint32Array) => {
      const b = new SharedArrayBuffer(a.byteLength);
      new Uint32Array(b).set(a);
      return b;
    };
    return { lo: copy(this.lo), hi: copy(this.hi), sleep: copy(this.sleep), count: this.count };
  }

  /** The sleep set `f` was stored with, or FRESH: not stored. Changes nothing. */
  find(f: Fingerprint): number {
    if (this.bits) return FRESH;
    const lo = f.lo >>> 0;
    const hi = (f.lo === 0 && f.hi === 0 ? 1 : f.hi) >>> 0;
    const i = this.probe(lo, hi);
    return this.lo[i] === EMPTY && this.hi[i] === EMPTY ? FRESH : this.sleep[i]!;
  }

  /** The slot that holds `lo:hi`, or the empty slot where it would go. */
  private probe(lo: number, hi: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (true) {
      const l = this.lo[i]!;
      const h = this.hi[i]!;
      if ((l === EMPTY && h === EMPTY) || (l === lo && h === hi)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** States stored, copies from `base` included. */
  get size(): number {
    return this.count;
  }

  /** States this table's own search explored first (not copies from `base`). */
  get discovered(): number {
    return this.count - this.inherited;
  }

  get mode(): 'hash-compact' | 'bitstate' {
    return this.bits ? 'bitstate' : 'hash-compact';
  }

  /**
   * Looks a state up, reached with sleep set `sleep`. A new state is stored with it (FRESH, or
   * FRESH_UNSLEPT in bitstate mode); a state seen before returns the sleep set it was stored
   * with, and keeps from now on only the threads asleep both times.
   */
  visit(f: Fingerprint, sleep: number): number {
    if (this.bits) return this.addBits(f.lo >>> 0, f.hi >>> 0) ? FRESH_UNSLEPT : 0;
    // 0:0 marks an empty slot, so it is stored as 0:1 (a 2^-64 merge, within the bound reported).
    const lo = f.lo >>> 0;
    const hi = (f.lo === 0 && f.hi === 0 ? 1 : f.hi) >>> 0;
    const i = this.probe(lo, hi);
    if (this.lo[i] !== EMPTY || this.hi[i] !== EMPTY) {
      const was = this.sleep[i]!;
      this.sleep[i] = was & sleep;
      return was;
    }
    const was = this.base === null ? FRESH : this.base.find(f);
    if (was !== FRESH) {
      this.inherited++;
      this.put(i, lo, hi, was & sleep);
      return was;
    }
    this.put(i, lo, hi, sleep);
    return FRESH;
  }

  /** Takes in every state `other` stored (a bitstate table has none to give). */
  absorb(other: StateCache): void {
    if (other.bits) return;
    for (let j = 0; j <= other.mask; j++) {
      const lo = other.lo[j]!;
      const hi = other.hi[j]!;
      if (lo !== EMPTY || hi !== EMPTY) this.merge(lo, hi, other.sleep[j]!);
    }
  }

  /** Takes in the states of an `entries()` list; throws on one that does not add up. */
  absorbEntries(words: Uint32Array): void {
    if (words.length % 3 !== 0) throw new Error('a list of states is triples of 32-bit words');
    for (let j = 0; j < words.length; j += 3) {
      if (words[j] === EMPTY && words[j + 1] === EMPTY) throw new Error('the list holds the empty fingerprint 0:0');
      this.merge(words[j]!, words[j + 1]!, words[j + 2]!);
    }
  }

  /** Every state stored, as (lo, hi, sleep) triples; none for a bitstate table. */
  entries(): Uint32Array {
    if (this.bits) return new Uint32Array(0);
    const out = new Uint32Array(this.count * 3);
    let j = 0;
    for (let i = 0; i <= this.mask; i++) {
      if (this.lo[i] === EMPTY && this.hi[i] === EMPTY) continue;
      out[j++] = this.lo[i]!;
      out[j++] = this.hi[i]!;
      out[j++] = this.sleep[i]!;
    }
    return out;
  }

  /** Stores `lo:hi` explored with sleep set `sl`; one stored already keeps the threads asleep
   * both times (each exploration took every thread awake in its own). Not in bitstate mode. */
  private merge(lo: number, hi: number, sl: number): void {
    if (this.bits) throw new Error('merge into a bitstate table');
    const i = this.probe(lo, hi);
    if (this.lo[i] === EMPTY && this.hi[i] === EMPTY) this.put(i, lo, hi, sl);
    else this.sleep[i] = this.sleep[i]! & sl;
  }

  private put(i: number, lo: number, hi: number, sleep: number): void {
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.sleep[i] = sleep;
    this.count++;
    if (this.count * 2 > this.mask) this.grow();
  }

  /** The table as plain data (for checkpoints): base64 of the stored slots. */
  save(): { mode: 'hash-compact' | 'bitstate'; count: number; omission: number; words: string } {
    if (this.bits) return { mode: 'bitstate', count: this.count, omission: this.omission, words: Buffer.from(this.bits.buffer, this.bits.byteOffset, this.bits.byteLength).toString('base64') };
    return { mode: 'hash-compact', count: this.count, omission: 0, words: Buffer.from(this.entries().buffer).toString('base64') };
  }

  /** Puts a `save()`d table back; throws on one that does not add up. */
  restore(s: { mode: 'hash-compact' | 'bitstate'; count: number; omission: number; words: string }): void {
    const bytes = Buffer.from(s.words, 'base64');
    if (bytes.length % 4 !== 0) throw new Error('the table is not a whole number of 32-bit words');
    const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    if (s.mode === 'bitstate') {
      if (words.length === 0 || words.length * 4 > this.maxBytes * 2) throw new Error(`a bit array of ${words.length * 4} bytes does not fit the memory budget`);
      this.bits = words;
      this.count = s.count;
      this.omission = s.omission;
      return;
    }
    if (words.length !== s.count * 3) throw new Error(`${s.count} states need ${s.count * 3} words, the table has ${words.length}`);
    this.lo = new Uint32Array(1 << 12);
    this.hi = new Uint32Array(1 << 12);
    this.sleep = new Uint32Array(1 << 12);
    this.mask = (1 << 12) - 1;
    this.count = 0;
    this.inherited = 0;
    this.bits = null;
    for (let j = 0; j < words.length; j += 3) {
      const lo = words[j]!;
      const hi = words[j + 1]!;
      if (lo === EMPTY && hi === EMPTY) throw new Error('the table stores the empty fingerprint 0:0');
      if (this.visit({ lo, hi }, words[j + 2]!) !== FRESH) throw new Error(`fingerprint ${lo.toString(16)}:${hi.toString(16)} is stored twice`);
    }
  }

  stats(): CacheStats {
    const n = this.discovered;
    return {
      states: n,
      bytes: this.bits ? this.bits.byteLength : this.lo.byteLength + this.hi.byteLength + this.sleep.byteLength,
      mode: this.mode,
      collisionProbability: this.bits ? this.omission : Math.min(1, (n * (n - 1)) / 2 ** 65),
    };
  }

  private grow(): void {
    const slots = (this.mask + 1) * 2;
    if (slots * 12 > this.maxBytes) return this.toBitstate();
    const { lo, hi, sleep } = this;
    this.lo = new Uint32Array(slots);
    this.hi = new Uint32Array(slots);
    this.sleep = new Uint32Array(slots);
    this.mask = slots - 1;
    for (let i = 0; i < lo.length; i++) {
      if (lo[i] === EMPTY && hi[i] === EMPTY) continue;
      const j = this.probe(lo[i]!, hi[i]!);
      this.lo[j] = lo[i]!;
      this.hi[j] = hi[i]!;
      this.sleep[j] = sleep[i]!;
    }
  }

  private toBitstate(): void {
    const words = Math.max(1 << 10, Math.floor(this.maxBytes / 4));
    const { lo, hi } = this;
    this.bits = new Uint32Array(words);
    this.count = 0;
    // States explored with no thread asleep become bits. The others are forgotten, so they are
    // explored again if reached (with none asleep): never missed, as a sleep set cannot be kept.
    for (let i = 0; i < lo.length; i++) if ((lo[i] !== EMPTY || hi[i] !== EMPTY) && this.sleep[i] === 0) this.addBits(lo[i]!, hi[i]!);
    this.lo = new Uint32Array(0);
    this.hi = new Uint32Array(0);
    this.sleep = new Uint32Array(0);
  }

  private addBits(lo: number, hi: number): boolean {
    const bits = this.bits!;
    const m = bits.length * 32;
    let fresh = false;
    // Double hashing (Kirsch–Mitzenmacher): bit j at lo + j·hi.
    for (let j = 0; j < BITSTATE_K; j++) {
      const b = ((lo >>> 0) + Math.imul(j, hi | 1)) >>> 0;
      const at = b % m;
      const w = at >>> 5;
      const bit = 1 << (at & 31);
      if ((bits[w]! & bit) === 0) {
        fresh = true;
        bits[w] = bits[w]! | bit;
      }
    }
    if (!fresh) return false;
    this.count++;
    // Chance that the next new state finds all its bits set: (1 - e^{-kn/m})^k.
    this.omission = Math.max(this.omission, (1 - Math.exp((-BITSTATE_K * this.count) / m)) ** BITSTATE_K);
    return true;
  }
}
