// Checked footprints. Partial-order reduction is only as sound as the footprints models declare:
// a step that reads a location it did not declare makes DPOR skip orders that matter, and a
// per-step invariant that reads outside its `watch` sees states the reduction never promised
// to keep. So shared state the engine can see (the machine's words and cells, the tracked
// variables of the public API) reports every access here, and the engine compares what a step,
// an `enabled` condition or an invariant actually touched with what it declared.
//
// Outside an audited call nothing is recorded (setup code, footprint functions, snapshots):
// the recorder is one shared slot, so an access costs one comparison when auditing is off.
import { brand, hasBrand } from '../brand.js';
import { ModelError } from './errors.js';
import type { Access, Loc } from './types.js';

/** The accesses made during one audited call. */
export class AccessRecord {
  // Grow-only buffers with counts: the engine reuses one record per execution, and resetting a
  // count is cheaper than truncating an array.
  private readonly readBuf: Loc[] = [];
  private readonly writeBuf: Loc[] = [];
  private nReads = 0;
  private nWrites = 0;

  read(loc: Loc): void {
    this.readBuf[this.nReads++] = loc;
  }
  write(loc: Loc): void {
    this.writeBuf[this.nWrites++] = loc;
  }
  /** Empties the record for reuse. */
  clear(): this {
    this.nReads = 0;
    this.nWrites = 0;
    return this;
  }
  get empty(): boolean {
    return this.nReads === 0 && this.nWrites === 0;
  }
  get reads(): readonly Loc[] {
    return this.readBuf.slice(0, this.nReads);
  }
  get writes(): readonly Loc[] {
    return this.writeBuf.slice(0, this.nWrites);
  }
  /** The first write (writes first, in order), then read, that `footprint` does not cover, as
   * uncovered() words it; null when all are covered. Loops, not a callback: it runs for every
   * audited step and enabled condition. */
  firstUncovered(footprint: readonly Access[], readsOnly: boolean): string | null {
    // Each search starts where the last access was found: a step mostly touches its locations
    // in the order its footprint lists them (a TLB flush's two dozen slots), so the scans add
    // up to one pass instead of one per access.
    let at = 0;
    for (let i = 0; i < this.nWrites; i++) {
      const loc = this.writeBuf[i]!;
      if (readsOnly) return `writes ${loc}`;
      const j = indexFrom(footprint, loc, true, at);
      if (j >= 0) {
        at = j + 1;
        continue;
      }
      return indexFrom(footprint, loc, false, 0) >= 0 ? `writes ${loc}, which its footprint declares only as read` : `writes ${loc}, which is not in its footprint`;
    }
    at = 0;
    for (let i = 0; i < this.nReads; i++) {
      const loc = this.readBuf[i]!;
      const j = indexFrom(footprint, loc, false, at);
      if (j < 0) return `reads ${loc}, which is not in its footprint`;
      at = j + 1;
    }
    return null;
  }
  /** First location read / written, if any (no copy). */
  get firstRead(): Loc | undefined {
    return this.nReads > 0 ? this.readBuf[0] : undefined;
  }
  get firstWrite(): Loc | undefined {
    return this.nWrites > 0 ? this.writeBuf[0] : undefined;
  }
  /** How many of the first reads are `before`'s, in order (the same location strings). */
  readsAlike(before: readonly Loc[]): number {
    const n = Math.min(this.nReads, before.length);
    let i = 0;
    while (i < n && this.readBuf[i] === before[i]) i++;
    return i;
  }
  get readCount(): number {
    return this.nReads;
  }
  /** Puts the reads into `into`, in order, replacing what it held. */
  copyReads(into: Loc[]): void {
    into.length = this.nReads;
    for (let i = 0; i < this.nReads; i++) into[i] = this.readBuf[i]!;
  }
  /** First location read (from the `from`th on) that neither `known` holds nor a prefix in `watch` matches; each read
   * a prefix matches is added to `known` (and told to `tracker`), so a location is tested
   * against the prefixes once. */
  firstReadOutside(watch: readonly string[], known: Set<Loc>, tracker?: { touch(loc: Loc): void }, from = 0): Loc | null {
    for (let i = from; i < this.nReads; i++) {
      const loc = this.readBuf[i]!;
      if (known.has(loc)) continue;
      let ok = false;
      for (let j = 0; j < watch.length; j++) {
        if (loc.startsWith(watch[j]!)) {
          ok = true;
          break;
        }
      }
      if (!ok) return loc;
      known.add(loc);
      tracker?.touch(loc);
    }
    return null;
  }
  /** Calls `f` for each access in order, writes first; stops at the first non-null answer. */
  find<T>(f: (loc: Loc, write: boolean) => T | null): T | null {
    for (let i = 0; i < this.nWrites; i++) {
      const r = f(this.writeBuf[i]!, true);
      if (r !== null) return r;
    }
    for (let i = 0; i < this.nReads; i++) {
      const r = f(this.readBuf[i]!, false);
      if (r !== null) return r;
    }
    return null;
  }
}

/** Where accesses go now. Kept on `globalThis`, not in a module variable: a model file loaded
 * through tsx gets its own copy of mmcheck's modules, and its shared state must still report
 * to the engine that runs it. */
interface Recorder {
  read(loc: Loc): void;
  write(loc: Loc): void;
}
const slot = ((globalThis as Record<symbol, unknown>)[Symbol.for('mmcheck.audit.recorder')] ??= { current: null }) as { current: Recorder | null };

/** Called by shared state when it is read. */
export function noteRead(loc: Loc): void {
  const r = slot.current;
  if (r !== null) r.read(loc);
}

/** Called by shared state when it is written (a read-modify-write notes both). */
export function noteWrite(loc: Loc): void {
  const r = slot.current;
  if (r !== null) r.write(loc);
}

/** Starts recording into `record` (null: record nothing); returns what to pass to `endRecording`. */
export function beginRecording(record: AccessRecord | null): Recorder | null {
  const prev = slot.current;
  slot.current = record;
  return prev;
}

export function endRecording(prev: Recorder | null): void {
  slot.current = prev;
}

/** Runs `fn` recording every access into `record` (null: record nothing). */
export function recording<T>(record: AccessRecord | null, fn: () => T): T {
  const prev = slot.current;
  slot.current = record;
  try {
    return fn();
  } finally {
    slot.current = prev;
  }
}

/** Runs `fn` without recording (footprint functions and snapshots read state freely). */
export function unaudited<T>(fn: () => T): T {
  return recording(null, fn);
}

/** A model claim that the audit found false: a bug in the model, not a finding about it. */
const FOOTPRINT_ERROR = brand('FootprintError');

export class FootprintError extends ModelError {
  readonly [FOOTPRINT_ERROR] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, FOOTPRINT_ERROR);
  }
}

/** First access in `record` that `footprint` does not cover, as a sentence; null when covered. */
export function uncovered(record: AccessRecord, footprint: readonly Access[], readsOnly: boolean): string | null {
  return record.firstUncovered(footprint, readsOnly);
}

/** The index of an access in `footprint` that covers `loc` (a write when `needWrite`), looked
 * for from `from` on and then from the start; -1 when none does. */
function indexFrom(footprint: readonly Access[], loc: Loc, needWrite: boolean, from: number): number {
  const n = footprint.length;
  for (let k = 0; k < n; k++) {
    let i = from + k;
    if (i >= n) i -= n;
    const a = footprint[i]!;
    if (a.loc === loc && (a.write || !needWrite)) return i;
  }
  return -1;
}

/** First read in `record` outside the watched prefixes; null when every read is watched. */
export function unwatched(record: AccessRecord, watch: readonly string[]): string | null {
  return record.find((loc, isWrite) => (isWrite || watch.some((p) => loc.startsWith(p)) ? null : loc));
}
