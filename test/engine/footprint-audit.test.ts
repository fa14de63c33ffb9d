// The access audit's comparison of what a step touched with what its footprint declares
// (AccessRecord.firstUncovered): each lookup starts where the last one was found, so these pin
// that the answer does not depend on the order of the accesses or of the footprint.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AccessRecord } from '../../src/engine/audit.js';
import { type Access, read, write } from '../../src/engine/types.js';

function recordOf(reads: string[], writes: string[]): AccessRecord {
  const r = new AccessRecord();
  for (const l of writes) r.write(l);
  for (const l of reads) r.read(l);
  return r;
}

/** The answer by the plain definition: every write declared as a write, every read declared. */
function plainAnswer(reads: string[], writes: string[], fp: readonly Access[]): string | null {
  for (const l of writes) {
    if (fp.some((a) => a.loc === l && a.write)) continue;
    return fp.some((a) => a.loc === l) ? `writes ${l}, which its footprint declares only as read` : `writes ${l}, which is not in its footprint`;
  }
  for (const l of reads) if (!fp.some((a) => a.loc === l)) return `reads ${l}, which is not in its footprint`;
  return null;
}

describe('the footprint audit', () => {
  it('accepts accesses in any order, repeated, against a footprint in any order', () => {
    const fp = [read('a'), read('b'), write('c'), read('d')];
    expect(recordOf(['a', 'b', 'd'], ['c']).firstUncovered(fp, false)).toBeNull();
    expect(recordOf(['d', 'b', 'a', 'd', 'a'], ['c', 'c']).firstUncovered(fp, false)).toBeNull();
    expect(recordOf(['c'], []).firstUncovered(fp, false)).toBeNull();
  });

  it('names the first read the footprint lacks, even after reads found near its end', () => {
    const fp = [read('a'), read('b'), read('c')];
    expect(recordOf(['c', 'b', 'x'], []).firstUncovered(fp, false)).toBe('reads x, which is not in its footprint');
    expect(recordOf(['c', 'a', 'b'], []).firstUncovered(fp, false)).toBeNull();
  });

  it('tells a write declared only as read from one not declared at all', () => {
    const fp = [write('w'), read('r')];
    expect(recordOf([], ['w', 'r']).firstUncovered(fp, false)).toBe('writes r, which its footprint declares only as read');
    expect(recordOf([], ['w', 'z']).firstUncovered(fp, false)).toBe('writes z, which is not in its footprint');
    expect(recordOf([], ['w']).firstUncovered(fp, true)).toBe('writes w');
  });

  it('answers as the plain definition on random accesses and footprints', () => {
    const loc = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
      fc.property(fc.array(fc.record({ loc, write: fc.boolean() }), { maxLength: 6 }), fc.array(loc, { maxLength: 6 }), fc.array(loc, { maxLength: 4 }), (fp, reads, writes) => {
        expect(recordOf(reads, writes).firstUncovered(fp, false)).toBe(plainAnswer(reads, writes, fp));
      }),
      { numRuns: 2000, seed: 16 },
    );
  });
});
