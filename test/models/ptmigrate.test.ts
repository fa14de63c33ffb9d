// ptmigrate (MODELS.md §4): every buggy variant is caught with its invariant, every fixed one
// is explored exhaustively by DPOR with no violation; exact execution counts are pinned so a
// change in the model, the machine or the engine is visible.
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { ptmigrate } from '../../models/ptmigrate.js';

const expectText = (e: (typeof ptmigrate.variants)[number]['expect']): string => (e === 'holds' ? 'holds' : `violates ${e.violates}`);

/**
 * DPOR executions at the default parameters (cpus=1, pages=2, stores=1, reclaim=1, warm=0,
 * psc=1). Plain DFS does not finish these within minutes (> 200 000 executions) except for
 * no-delimbo, whose first violation it reaches after 13 314 executions.
 */
// Before each per-step invariant ordered only the writes it watches (engine/dependence.ts), with
// one chain for every watched write: 6, 2559, 99, 55, 59, 36, 90, 17.
const DPOR_DEFAULT: Record<string, number> = {
  'no-delimbo': 6,
  delimbo: 882,
  'nonatomic-merge': 35,
  'clear-flush-copy': 51,
  'harvest-entry0-only': 21,
  'flag-cleared-before-flush': 14,
  'free-before-flush': 32,
  'reader-no-delimbo': 7,
};

describe('ptmigrate: every variant shows what it declares (DPOR, unbounded)', () => {
  for (const v of ptmigrate.variants) {
    it(`${v.name}: ${expectText(v.expect)} after ${DPOR_DEFAULT[v.name]} executions`, () => {
      const r = explore(ptmigrate, { variant: v.name, strategy: 'dpor' });
      if (v.expect === 'holds') {
        expect(r.verdict).toBe('holds');
        expect(r.violation).toBeUndefined();
      } else {
        expect(r.verdict).toBe('violated');
        expect(r.violation?.kind).toBe('invariant');
        expect(r.violation?.invariant).toBe(v.expect.violates);
      }
      expect(r.asExpected).toBe(true);
      expect(r.executions).toBe(DPOR_DEFAULT[v.name]);
    });
  }
});

describe('ptmigrate: the counterexamples read as the bug', () => {
  const run = (variant: string, params = {}) => {
    const r = explore(ptmigrate, { variant, strategy: 'dpor', params });
    const labels = r.violation!.trace.map((s) => `${s.label} // ${s.note ?? ''}`);
    return { r, labels, at: (re: RegExp) => labels.findIndex((l) => re.test(l)) };
  };

  it('no-delimbo: D set in O after the copy, N says clean, reclaim drops the data', () => {
    const { r, labels, at } = run('no-delimbo');
    expect(r.violation!.message).toMatch(/dropped D1 as clean .* memory holds 2 and the backing store 0/);
    expect(at(/copy O\[1\] → N\[1\] .*D1 RW A NX/)).toBeGreaterThanOrEqual(0);
    expect(at(/set D in O\[1\]/)).toBeGreaterThan(at(/copy O\[1\] → N\[1\]/));
    expect(labels.at(-1)).toMatch(/D1 clean \(N\[1\]\) → drop without write-back .*DATA LOST/);
  });

  it('no-delimbo loses the bit with a warm TLB (D=0 entries cached from O) as well', () => {
    const { r, at } = run('no-delimbo', { warm: 1 });
    expect(r.violation?.invariant).toBe('no-lost-dirty-bit');
    expect(at(/TLB hit: 4K 0x1000→D1 RW NX from O\[1\]/)).toBeGreaterThanOrEqual(0);
  });

  it('nonatomic-merge: the plain set_pte overwrites a D the hardware just set in N', () => {
    const { at } = run('nonatomic-merge');
    const read = at(/read N\[1\] for a plain merge/);
    const dirty = at(/set D in N\[1\]/);
    const merge = at(/merge A by plain set_pte N\[1\]/);
    expect(read).toBeGreaterThanOrEqual(0);
    expect(dirty).toBeGreaterThan(read);
    expect(merge).toBeGreaterThan(dirty);
  });

  it('harvest-entry0-only: the loop harvests O[0] twice and never O[1]', () => {
    const { at } = run('harvest-entry0-only');
    expect(at(/i=1 \(old\/new not advanced\): harvest A\|D of O\[0\]/)).toBeGreaterThanOrEqual(0);
    expect(at(/harvest A\|D of O\[1\]/)).toBe(-1);
  });

  it('flag-cleared-before-flush: a reader sees the flag clear and trusts N before the flush', () => {
    const { at } = run('flag-cleared-before-flush');
    expect(at(/_delimbo_pte: test_and_clear_bit\(MMF_NEED_FLUSH\) \/\/ already clear: skip the flush/)).toBeGreaterThanOrEqual(0);
    expect(at(/set D in O\[1\] .*stale TLB entry/)).toBeGreaterThan(at(/_delimbo_pte: harvest A\|D of O\[1\]/));
  });

  it('free-before-flush: the hardware sets D in the freed O', () => {
    const { r } = run('free-before-flush');
    expect(r.violation!.message).toMatch(/O\[1\] written after its pte page was freed: .* by cpu0 \(hardware D update\)/);
  });
});

describe('ptmigrate: small instances (pages=1, reclaim=0: dirty state checked at the end)', () => {
  const small = { pages: 1, reclaim: 0 };
  // [variant, DPOR executions, DFS executions] — for buggy variants, up to the first violation.
  const counts: [string, number, number][] = [
    ['no-delimbo', 2, 19],
    ['delimbo', 6, 385],
    ['nonatomic-merge', 5, 261],
    ['clear-flush-copy', 4, 76],
    ['free-before-flush', 3, 61],
  ];
  for (const [variant, dpor, dfs] of counts) {
    it(`${variant}: DPOR ${dpor}, DFS ${dfs} executions, same verdict`, () => {
      const a = explore(ptmigrate, { variant, strategy: 'dpor', params: small });
      const b = explore(ptmigrate, { variant, strategy: 'dfs', params: small });
      expect(a.asExpected).toBe(true);
      expect(b.asExpected).toBe(true);
      expect(a.violation?.invariant).toBe(b.violation?.invariant);
      expect([a.executions, b.executions]).toEqual([dpor, dfs]);
    });
  }

  for (const variant of ['delimbo', 'clear-flush-copy']) {
    it(`${variant}: DPOR reaches exactly the final states DFS reaches`, () => {
      const a = explore(ptmigrate, { variant, strategy: 'dpor', params: small, collectFinalStates: true });
      const b = explore(ptmigrate, { variant, strategy: 'dfs', params: small, collectFinalStates: true });
      expect(a.verdict).toBe('holds');
      expect(b.verdict).toBe('holds');
      expect(a.finalStates!.length).toBeGreaterThan(1);
      expect(a.finalStates).toEqual(b.finalStates);
    });
  }

  for (const variant of ['delimbo', 'clear-flush-copy']) {
    it(`${variant}, warm TLB (D=0 entries and the pmd pointer cached from O): same final states`, () => {
      const params = { ...small, warm: 1 };
      const a = explore(ptmigrate, { variant, strategy: 'dpor', params, collectFinalStates: true });
      const b = explore(ptmigrate, { variant, strategy: 'dfs', params, collectFinalStates: true });
      expect(a.verdict).toBe('holds');
      expect(a.finalStates).toEqual(b.finalStates);
    });
  }
});
