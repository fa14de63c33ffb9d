// DPOR keeps the per-location happens-before summaries of an execution's prefix from one
// execution to the next and takes back only what the later events recorded (location-clocks.ts).
// What it takes back must be exactly what a fresh summary of the prefix alone holds: a stale
// clock would order a race away (a missed interleaving), a lost one would invent races.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Clock, LocationClocks } from '../../src/engine/location-clocks.js';

const THREADS = 3;
const LOCATIONS = 4;

/** One recorded event: its accesses as codes (`id << 1 | write`), its clock, its visible groups. */
interface Ev {
  readonly codes: Int32Array;
  readonly clock: Clock;
  readonly visible: number;
}

const eventArb: fc.Arbitrary<Ev> = fc.record({
  codes: fc.array(fc.tuple(fc.integer({ min: 0, max: LOCATIONS - 1 }), fc.boolean()), { minLength: 1, maxLength: 3 }).map((as) => Int32Array.from(as.map(([id, w]) => (id << 1) | (w ? 1 : 0)))),
  clock: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: THREADS, maxLength: THREADS }),
  visible: fc.integer({ min: 0, max: 3 }),
});

/** What the summaries answer for every possible event: its dependencies' joined clock. */
function answers(c: LocationClocks): number[][] {
  const out: number[][] = [];
  for (let id = 0; id < LOCATIONS; id++) {
    for (const w of [0, 1]) {
      for (let visible = 0; visible < 4; visible++) {
        const into = new Array<number>(THREADS).fill(0);
        c.joinDependencies(into, Int32Array.of((id << 1) | w), visible);
        out.push(into);
      }
    }
  }
  return out;
}

function recorded(events: readonly Ev[]): LocationClocks {
  const c = new LocationClocks();
  for (const e of events) c.record(e.codes, e.clock, e.visible);
  return c;
}

describe('per-location clocks', () => {
  it('taken back to a prefix, answer exactly as the prefix recorded alone does', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 12 }), fc.array(fc.tuple(fc.nat(), fc.array(eventArb, { maxLength: 6 })), { maxLength: 4 }), (first, rounds) => {
        // As DPOR uses it: record, go back to a branch point, record a new continuation, again.
        const c = recorded(first);
        let path = [...first];
        for (const [cut, next] of rounds) {
          const k = path.length === 0 ? 0 : cut % (path.length + 1);
          c.truncate(k);
          path = path.slice(0, k);
          expect(answers(c)).toEqual(answers(recorded(path)));
          for (const e of next) c.record(e.codes, e.clock, e.visible);
          path.push(...next);
        }
        expect(answers(c)).toEqual(answers(recorded(path)));
      }),
      { numRuns: 300 },
    );
  });

  it('never change a recorded clock (the undo log hands them back as they were)', () => {
    const c = new LocationClocks();
    const a: Clock = [1, 0, 0];
    const b: Clock = [0, 2, 0];
    c.record(Int32Array.of(0 << 1), a, 0); // a reads location 0
    c.record(Int32Array.of(0 << 1), b, 0); // b reads it too: the reads since are joined
    expect(a).toEqual([1, 0, 0]);
    expect(b).toEqual([0, 2, 0]);
    const into = [0, 0, 0];
    c.joinDependencies(into, Int32Array.of((0 << 1) | 1), 0); // a write depends on both reads
    expect(into).toEqual([1, 2, 0]);
    c.truncate(1);
    const after = [0, 0, 0];
    c.joinDependencies(after, Int32Array.of((0 << 1) | 1), 0);
    expect(after).toEqual([1, 0, 0]);
  });
});
