// The `memory` workload kind of `npm run bench` (MMCHECK_BENCH_KIND=memory): issue 11 asks that
// the stateless search keep O(depth) memory, its peak RSS flat over a five-minute run. One
// stateless DPOR search (two writers of ptmigrate delimbo, which does not finish in the time)
// runs in a process of its own for MMCHECK_BENCH_MEMORY_S seconds (default 300); at each of the
// search's progress reports (about twice a second) the child notes its RSS and heap. The row
// gives the samples per 10 % of the run and the peak of the first and of the last tenth.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface MemoryRow {
  readonly workload: string;
  readonly kind: 'memory';
  readonly seconds: number;
  readonly verdict: string;
  readonly executions: number;
  /** Steps run, and prefix steps restored from a saved state instead. */
  readonly steps: number;
  readonly restoredSteps: number;
  /** Per tenth of the run: the executions done by its end, and the largest RSS and heap seen in it (MB). */
  readonly tenths: readonly { readonly executions: number; readonly rssMB: number; readonly heapMB: number }[];
  /** Peak RSS of the last tenth over that of the first: 1 when memory stays flat. */
  readonly lastOverFirst: number;
}

const seconds = Number(process.env.MMCHECK_BENCH_MEMORY_S ?? 300);

export function memoryRow(repo: string): MemoryRow {
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(repo, p)).href);
  const script = `
    const { explore } = await import(${url('dist/src/index.js')});
    const { builtinModels } = await import(${url('dist/models/index.js')});
    const samples = [];
    const note = (executions, elapsedMs) => { const m = process.memoryUsage(); samples.push([elapsedMs, executions, m.rss, m.heapUsed]); };
    const r = explore(builtinModels.find((m) => m.name === 'ptmigrate'), {
      variant: 'delimbo', params: { cpus: 2, pages: 2, reclaim: 2, warm: 0, psc: 1 }, cache: false,
      timeLimitMs: ${seconds * 1000}, onProgress: (p) => note(p.executions, p.elapsedMs),
    });
    note(r.executions, r.elapsedMs);
    process.stdout.write(JSON.stringify({ verdict: r.verdict, executions: r.executions, steps: r.steps, restoredSteps: r.restoredSteps ?? 0, samples }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 })) as {
    verdict: string;
    executions: number;
    steps: number;
    restoredSteps: number;
    samples: [number, number, number, number][];
  };
  const mb = (b: number) => Math.round(b / 1e5) / 10;
  const span = Math.max(...out.samples.map((s) => s[0]), 1);
  const tenths = Array.from({ length: 10 }, (_, i) => {
    const inIt = out.samples.filter(([t]) => Math.min(9, Math.floor((10 * t) / span)) === i);
    return {
      executions: Math.max(0, ...inIt.map((s) => s[1])),
      rssMB: mb(Math.max(0, ...inIt.map((s) => s[2]))),
      heapMB: mb(Math.max(0, ...inIt.map((s) => s[3]))),
    };
  });
  const first = tenths.find((t) => t.rssMB > 0)?.rssMB ?? 0;
  const last = tenths[9]!.rssMB;
  return {
    workload: 'ptmigrate/delimbo cpus=2 pages=2 reclaim=2 warm=0 psc=1 (stateless dpor)',
    kind: 'memory',
    seconds,
    verdict: out.verdict,
    executions: out.executions,
    steps: out.steps,
    restoredSteps: out.restoredSteps,
    tenths,
    lastOverFirst: first > 0 ? Number((last / first).toFixed(2)) : 0,
  };
}
