// Checked footprints. Partial-order reduction is only as sound as the footprints models declare:
// a step that reads a location it did not declare makes DPOR skip orders that matter, and a
// per-step invariant that reads outside its `watch` sees states the reduction never promised
// to keep. So shared state the engine can see (the machine's words and cells, the tracked
// variables of the public API) reports every access here, and the engine compares what a step,
// an `enabled` condition or an invariant actually touched with what it declared.
//
// Outside an audited call nothing is recorded (setup code, footprint functions, snapshots):
// the recorder is one module variable, so an access costs one comparison when auditing is off.
import { ModelError } from './errors.js';
import type { Access, Loc } from './types.js';

/** The accesses made during one audited call. */
export class AccessRecord {
  readonly reads: Loc[] = [];
  readonly writes: Loc[] = [];
  /** Empties the record for reuse (the engine keeps one per execution: no allocation per step). */
  clear(): this {
    this.reads.length = 0;
    this.writes.length = 0;
    return this;
  }
  get empty(): boolean {
    return this.reads.length === 0 && this.writes.length === 0;
  }
}

let current: AccessRecord | null = null;

/** Called by shared state when it is read. */
export function noteRead(loc: Loc): void {
  if (current !== null) current.reads.push(loc);
}

/** Called by shared state when it is written (a read-modify-write notes both). */
export function noteWrite(loc: Loc): void {
  if (current !== null) current.writes.push(loc);
}

/** Starts recording into `record` (null: record nothing); returns what to pass to `endRecording`. */
export function beginRecording(record: AccessRecord | null): AccessRecord | null {
  const prev = current;
  current = record;
  return prev;
}

export function endRecording(prev: AccessRecord | null): void {
  current = prev;
}

/** Runs `fn` recording every access into `record` (null: record nothing). */
export function recording<T>(record: AccessRecord | null, fn: () => T): T {
  const prev = current;
  current = record;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Runs `fn` without recording (footprint functions and snapshots read state freely). */
export function unaudited<T>(fn: () => T): T {
  return recording(null, fn);
}

/** A model claim that the audit found false: a bug in the model, not a finding about it. */
export class FootprintError extends ModelError {}

/** First access in `record` that `footprint` does not cover, as a sentence; null when covered. */
export function uncovered(record: AccessRecord, footprint: readonly Access[], readsOnly: boolean): string | null {
  for (const loc of record.writes) {
    if (readsOnly) return `writes ${loc}`;
    if (!footprint.some((a) => a.loc === loc && a.write)) {
      return footprint.some((a) => a.loc === loc) ? `writes ${loc}, which its footprint declares only as read` : `writes ${loc}, which is not in its footprint`;
    }
  }
  for (const loc of record.reads) {
    if (!footprint.some((a) => a.loc === loc)) return `reads ${loc}, which is not in its footprint`;
  }
  return null;
}

/** First read in `record` outside the watched prefixes; null when every read is watched. */
export function unwatched(record: AccessRecord, watch: readonly string[]): string | null {
  for (const loc of record.reads) {
    if (!watch.some((p) => loc.startsWith(p))) return loc;
  }
  return null;
}
