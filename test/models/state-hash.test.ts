// The machine's own fingerprint (src/machine/state-hash.ts) on the built-in models: over every
// state each variant's search over states saves, under SC and TSO, a fingerprint never stands
// for two different saved states (compared field by field, keys sorted: the order a record's
// fields were made in is not state), equal contents always hash alike, and a fresh build hashes
// a state saved by another build alike. A field a model varies on its own that state-hash.ts
// does not mix shows here as two states behind one fingerprint (leaving out a TLB entry's dirty
// bit fails 12 variants); a field the others determine (the in-instruction flag goes with the
// TLB's pin) cannot show here, and test/machine/state.test.ts changes every field alone.
import { afterAll, describe, expect, it } from 'vitest';
import { bindModel } from '../../src/model.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { stateFingerprint } from '../../src/engine/fingerprint.js';
import type { Program } from '../../src/engine/types.js';
import { type MemoryModel, setDefaultMemoryModel } from '../../src/machine/index.js';
import { builtinModels } from '../../models/index.js';

/** The saved data as text: every value with its type, keys sorted (or in their order). */
function canon(v: unknown, sorted: boolean): string {
  if (v === undefined) return 'U';
  if (v === null) return 'N';
  if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : `n${v}`;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'string') return `s${JSON.stringify(v)}`;
  if (Array.isArray(v)) return `[${v.map((x) => canon(x, sorted)).join(',')}]`;
  const keys = Object.keys(v as object);
  if (sorted) keys.sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k], sorted)}`).join(',')}}`;
}

afterAll(() => setDefaultMemoryModel('sc'));

const CASES = builtinModels.flatMap((model) => model.variants.flatMap((v) => (['sc', 'tso'] as MemoryModel[]).map((mm) => ({ model, variant: v.name, mm }))));

describe('the machine fingerprint tells every saved state of every built-in variant apart', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant} (${c.mm})`, () => {
      setDefaultMemoryModel(c.mm);
      const bound = bindModel(c.model, c.variant);
      const byFingerprint = new Map<string, string>();
      const byContent = new Map<string, string>();
      const kept: [unknown, string][] = [];
      const make = (): Program => {
        const p = bound.make();
        const inner = p.state!;
        expect(inner.hash).toBeDefined();
        return {
          ...p,
          state: {
            save: () => {
              const s = inner.save();
              const f = stateFingerprint(s, [], inner);
              const fp = `${f.lo}:${f.hi}`;
              const content = canon(s, false);
              const state = canon(s, true);
              const was = byFingerprint.get(fp);
              if (was !== undefined && was !== state) expect.fail(`fingerprint ${fp} stands for two saved states:\n${was}\n${state}`);
              byFingerprint.set(fp, state);
              const before = byContent.get(content);
              if (before !== undefined) expect(fp).toBe(before);
              else if (kept.length < 2000) kept.push([s, fp]);
              byContent.set(content, fp);
              return s;
            },
            restore: (s) => inner.restore(s),
            hash: (s, h) => inner.hash!(s, h),
          },
        };
      };
      const r = exploreProgram(make, { cache: true, maxSteps: bound.maxSteps, timeLimitMs: 20_000 });
      expect(r.verdict).not.toBe('bounded');
      expect(byFingerprint.size).toBeGreaterThan(1);
      // A fresh build's places have hashed nothing yet: the same states, the same fingerprints.
      const fresh = bound.make().state!;
      for (const [s, fp] of kept) {
        const f = stateFingerprint(s, [], fresh);
        expect(`${f.lo}:${f.hi}`).toBe(fp);
      }
    }, 60_000);
  }
});
