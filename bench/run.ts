// `npm run bench`: steps/s and executions/s of DFS and DPOR on programs of growing size, and
// DPOR's executions against DFS's. Prints one JSON document. Compare ratios within one run:
// the machines are shared and noisy, so absolute rates are indicative only.
import { builtinModels } from '../models/index.js';
import { exploreProgram, type ExploreResult, type StrategyName } from '../src/engine/explore.js';
import { explore } from '../src/index.js';
import { type Op, toyProgram } from '../src/testing/toy.js';

interface Row {
  readonly program: string;
  readonly strategy: string;
  readonly executions: number;
  readonly steps: number;
  readonly elapsedMs: number;
  readonly stepsPerSec: number;
  readonly executionsPerSec: number;
  readonly verdict: string;
}

const row = (program: string, r: ExploreResult): Row => ({
  program,
  strategy: r.strategy,
  executions: r.executions,
  steps: r.steps,
  elapsedMs: Math.round(r.elapsedMs),
  stepsPerSec: Math.round((r.steps * 1000) / Math.max(r.elapsedMs, 1)),
  executionsPerSec: Math.round((r.executions * 1000) / Math.max(r.elapsedMs, 1)),
  verdict: r.verdict,
});

/** n threads: each writes its own variable k times, then CAS-increments a shared counter once. */
function mostlyIndependent(n: number, k: number): Op[][] {
  return Array.from({ length: n }, (_, t) => [
    ...Array.from({ length: k }, (_, i): Op => ({ kind: 'store', x: 1 + t, v: i + 1 })),
    { kind: 'load', x: 0 },
    { kind: 'cas', x: 0, expect: 0, v: t + 1 },
  ]);
}

/** n threads, each storing to and loading from two shared variables (heavily dependent). */
function contended(n: number): Op[][] {
  return Array.from({ length: n }, (_, t) => [
    { kind: 'store', x: 0, v: t + 1 },
    { kind: 'load', x: 1 },
    { kind: 'store', x: 1, v: t + 1 },
    { kind: 'load', x: 0 },
  ]);
}

const CAP = { maxExecutions: 200_000, timeLimitMs: 20_000 };
const rows: Row[] = [];
const comparisons: { program: string; dfsExecutions: number; dporExecutions: number; dfsComplete: boolean; ratio: number }[] = [];

const programs: [string, Op[][], number][] = [
  ['independent-2x2', mostlyIndependent(2, 2), 1 + 2],
  ['independent-3x2', mostlyIndependent(3, 2), 1 + 3],
  ['independent-3x3', mostlyIndependent(3, 3), 1 + 3],
  ['independent-4x2', mostlyIndependent(4, 2), 1 + 4],
  ['contended-2', contended(2), 2],
  ['contended-3', contended(3), 2],
  ['contended-4', contended(4), 2],
];
for (const [name, threads, nVars] of programs) {
  const make = toyProgram(threads, nVars, 0);
  const results: Partial<Record<StrategyName, ExploreResult>> = {};
  for (const strategy of ['dfs', 'dpor'] as const) {
    const r = exploreProgram(make, { strategy, ...CAP });
    results[strategy] = r;
    rows.push(row(name, r));
  }
  const dfs = results.dfs!;
  const dpor = results.dpor!;
  comparisons.push({
    program: name,
    dfsExecutions: dfs.executions,
    dporExecutions: dpor.executions,
    dfsComplete: dfs.verdict === 'holds',
    ratio: Number((dpor.executions / dfs.executions).toFixed(4)),
  });
}

const models = builtinModels.flatMap((m) =>
  m.variants.map((v) => {
    const r = explore(m, { variant: v.name, ...CAP });
    return { model: m.name, variant: v.name, asExpected: r.asExpected, ...row(`${m.name}/${v.name}`, r) };
  }),
);

process.stdout.write(`${JSON.stringify({ benchmark: 'mmcheck-engine', node: process.version, rows, comparisons, models }, null, 2)}\n`);
