import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameFingerprint, sameState } from '../../src/engine/rewind.js';

/** What sameState answered before plain data was compared as it is: the fingerprints. */
const byFingerprint = sameFingerprint;

class Box {
  constructor(readonly v: number) {}
}

const leaf = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, -0, NaN, 1.5, 'a', 'b', '', true, false, null, undefined));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('x', 'y', 'z'), tie('v'), { maxKeys: 3 }), tie('v').map((x) => new Map([['k', x]])), fc.integer({ min: 0, max: 2 }).map((n) => new Box(n))),
})).v;

describe('sameState', () => {
  it('answers as the fingerprints do on any two values of plain data, Maps, instances, -0 and NaN', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameState(a, b)).toBe(byFingerprint(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('answers as the fingerprints do on a value and a copy of it with one leaf changed, or none', () => {
    // Most pairs of random values differ at the top; these differ deep inside, or not at all.
    const copy = (v: unknown, path: readonly number[], to: unknown): unknown => {
      if (Array.isArray(v)) return v.map((x, i) => (path.length > 0 && i === path[0]! % v.length ? copy(x, path.slice(1), to) : copy(x, [], undefined)));
      if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        const keys = Object.keys(v);
        return Object.fromEntries(keys.map((k, i) => [k, path.length > 0 && i === path[0]! % keys.length ? copy((v as Record<string, unknown>)[k], path.slice(1), to) : copy((v as Record<string, unknown>)[k], [], undefined)]));
      }
      return path.length > 0 || to !== undefined ? to : v;
    };
    fc.assert(
      fc.property(value, fc.array(fc.nat(), { maxLength: 4 }), fc.option(leaf, { nil: undefined }), (a, path, to) => {
        const b = copy(a, path, to);
        expect(sameState(a, b)).toBe(byFingerprint(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes 0 and -0 alike inside a state, and NaN as NaN, as the fingerprint does', () => {
    expect(sameState([0], [-0])).toBe(true);
    expect(sameState({ x: [NaN] }, { x: [NaN] })).toBe(true);
    expect(sameState({ x: 1, y: 2 }, { x: 1, y: 3 })).toBe(false);
    expect(sameState({ x: 1, y: [2, 'a'] }, { x: 1, y: [2, 'a'] })).toBe(true);
  });
});
