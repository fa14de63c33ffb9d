// The state cache (issue 12) on the built-in models: the stateful search with sleep sets (the
// default dpor on a program that declares its state) must give every variant the verdict the
// stateless DPOR gives, reach the same final states when it holds, and the plain search over
// states (dfs with the cache) must reach exactly the final states of the stateless DFS' states.
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/index.js';
import { builtinModels } from '../../models/index.js';
import { sameFinding } from './same-finding.js';

const CASES = builtinModels.flatMap((model) => model.variants.map((v) => ({ model, variant: v.name })));

describe('the stateful search agrees with the stateless one on every built-in model', () => {
  for (const c of CASES) {
    it(`${c.model.name} ${c.variant}`, () => {
      const o = { variant: c.variant, collectFinalStates: true } as const;
      const stateless = explore(c.model, { ...o, strategy: 'dpor', cache: false });
      const stateful = explore(c.model, { ...o, strategy: 'dpor', cache: true });
      expect(stateful.strategy).toBe('stateful');
      expect(stateful.asExpected).toBe(true);
      sameFinding(stateful, stateless);
      expect(stateful.cache!.states).toBeGreaterThan(0);
      expect(stateful.cache!.mode).toBe('hash-compact');
      if (stateful.verdict === 'holds') expect(stateful.finalStates).toEqual(stateless.finalStates);
    }, 120_000);
  }
});

// ptmigrate names positions (`at`) where its threads carry nothing but declared state: a wrong
// one merges states that differ. Checked beyond the defaults too: kswapd scanning both pages
// (the SPIN configuration) and warm TLBs with two stores per page.
const PTMIGRATE = builtinModels.find((m) => m.name === 'ptmigrate')!;
// Two writers too: a writer's store says where it is at its write (Step.opPosition), which
// merges states only when another writer's steps come between.
const WIDER: Record<string, number>[] = [
  { reclaim: 2 },
  { warm: 1, stores: 2 },
  { cpus: 2, pages: 1, reclaim: 1 },
];

/** The search over states finds the stateless search's verdict, invariant and final states. */
function agreesWithStateless(model: typeof PTMIGRATE, variant: string, params: Record<string, number>): void {
  const o = { variant, params, collectFinalStates: true } as const;
  const stateless = explore(model, { ...o, strategy: 'dpor', cache: false });
  const stateful = explore(model, { ...o, strategy: 'dpor', cache: true });
  sameFinding(stateful, stateless);
  if (stateful.verdict === 'holds') expect(stateful.finalStates).toEqual(stateless.finalStates);
}

describe('ptmigrate positions hold beyond the default parameters', () => {
  for (const params of WIDER) {
    for (const v of PTMIGRATE.variants) {
      it(`${v.name} ${JSON.stringify(params)}`, () => agreesWithStateless(PTMIGRATE, v.name, params), 120_000);
    }
  }
});

// cpa's third CPU names positions after its load (pgd_alloc, rodata_test): checked with the
// fork, where both are on its path.
const CPA = builtinModels.find((m) => m.name === 'cpa')!;

describe('cpa positions hold with the fork', () => {
  for (const v of CPA.variants) {
    it(`${v.name} forks=1`, () => agreesWithStateless(CPA, v.name, { forks: 1 }), 120_000);
  }
});
