// The built-in models on a TSO machine (MMCHECK_MEMORY_MODEL=tso does the same from the command
// line): every variant shows what it declares, and its TSO verdict is pinned here. The models
// issue their page-table writes, atomics and locks from the CPU that runs the thread
// (`set_pte(cpu, …)`, `atomic_inc(cpu, …)`, `spin_lock(cpu, …)`), so those go through its store
// buffer: plain stores are buffered, locked operations wait for the buffer to drain.
import { afterAll, describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { builtinModels } from '../../models/index.js';
import { setDefaultMemoryModel } from '../../src/machine/index.js';

setDefaultMemoryModel('tso');
afterAll(() => setDefaultMemoryModel('sc'));

/** Each variant's verdict under TSO (default parameters, default search): 'holds', or the
 * invariant it violates. States stored for the variants that hold (README, "The models under SC
 * and TSO"). */
const TSO: Record<string, Record<string, { holds: number } | string>> = {
  cpa: {
    fixed: { holds: 17_852 },
    'no-recheck': 'no-lost-attribute-change',
    'no-flush-after-split': 'no-conflicting-translations',
    'no-final-flush': 'no-write-through-readonly',
    'no-cache-flush': 'no-cache-type-alias',
    // It may deadlock too; the search meets conflicting translations first.
    'pgd-lock-irqs-off': 'no-conflicting-translations',
  },
  'thp-refcount': {
    'no-compound-lock': 'no-free-while-referenced',
    'compound-lock': { holds: 1_387 },
    'tail-mapcount': { holds: 1_391 },
    'refcount-v2': { holds: 561 },
    'v2-unfreeze-before-clear': 'no-free-while-referenced',
  },
  vmap: {
    fixed: { holds: 2_716 },
    'highmem-only-unmap-aliases': 'no-stale-alias-on-pinned-pagetable',
    'no-unmap-aliases': 'no-stale-alias-on-pinned-pagetable',
    'reuse-before-flush': 'no-reuse-before-flush',
    'rfc-no-purge-lock': 'no-alias-after-vm-unmap-aliases',
    'eager-clear': { holds: 2_666 },
    'eager-clear-no-unmap-aliases': 'no-stale-alias-on-pinned-pagetable',
    'vb-full-block-skipped': 'no-alias-after-vm-unmap-aliases',
  },
  ptmigrate: {
    'no-delimbo': 'no-lost-dirty-bit',
    delimbo: { holds: 6_928 },
    'nonatomic-merge': 'no-lost-dirty-bit',
    'clear-flush-copy': { holds: 1_545 },
    'harvest-entry0-only': 'no-lost-dirty-bit',
    'flag-cleared-before-flush': 'no-lost-dirty-bit',
    'free-before-flush': 'no-write-to-freed-pagetable',
    'reader-no-delimbo': 'no-lost-dirty-bit',
  },
  percpu: {
    'module-mutex': { holds: 385 },
    'no-module-mutex': 'mapped-once',
  },
};

const CASES = builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name })));

describe('every built-in variant under TSO', () => {
  it('the table names every variant', () => {
    expect(CASES.map((c) => `${c.model.name} ${c.variant}`).sort()).toEqual(Object.entries(TSO).flatMap(([m, vs]) => Object.keys(vs).map((v) => `${m} ${v}`)).sort());
  });
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant} shows what it declares`, () => {
      const r = explore(c.model, { variant: c.variant, strategy: 'dpor', cache: true, collectFinalStates: true });
      expect(r.asExpected).toBe(true);
      const want = TSO[c.model.name]![c.variant]!;
      if (typeof want === 'string') {
        expect([r.verdict, r.violation?.invariant]).toEqual(['violated', want]);
      } else {
        expect([r.verdict, r.cache?.states]).toEqual(['holds', want.holds]);
        // It ran on store buffers: the machine's final state lists them.
        expect(r.finalStates!.every((s) => /\\*"sb\\*":/.test(s))).toBe(true);
      }
    }, 120_000);
  }
});

// A store's entry into the store buffer says where the store is (Step.opPosition): with two
// writers, ptmigrate's states that differ only in how a writer's store got to its buffer are
// one. Checked against the stateless search, which merges nothing.
describe('ptmigrate with two writers under TSO: the merged stores lose no final state', () => {
  const ptmigrate = builtinModels.find((m) => m.name === 'ptmigrate')!;
  for (const variant of ['delimbo', 'clear-flush-copy']) {
    it(variant, () => {
      const o = { variant, params: { cpus: 2, pages: 1, reclaim: 1 }, strategy: 'dpor', collectFinalStates: true } as const;
      const stateless = explore(ptmigrate, { ...o, cache: false });
      const stateful = explore(ptmigrate, { ...o, cache: true });
      expect([stateless.verdict, stateful.verdict]).toEqual(['holds', 'holds']);
      expect(stateful.finalStates).toEqual(stateless.finalStates);
    }, 120_000);
  }
});
