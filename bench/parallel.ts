// The `parallel` workload kind of `npm run bench` (MMCHECK_BENCH_KIND=parallel): long
// explorations through the CLI (`mmcheck explore … --workers N --json`), wall time per worker
// count, and the ratio to one worker. The results of every N must be the same (times and the
// worker count aside): `sameResults` says whether they were. Beside them: the unsplit search
// (what runs without --workers) and, for a search over states, one worker with a cache per job
// (--no-share-cache, what shards do), so the cost of splitting shows too. This machine's cores
// are shared with other work: each worker count runs `rounds` times in turn and keeps its best
// wall time, with the load average beside it.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';

export interface ParallelRow {
  readonly workload: string;
  readonly kind: 'parallel';
  /** Runs of each worker count; `runs` holds each count's best. */
  readonly rounds: number;
  readonly runs: readonly { readonly workers: number | 'unsplit' | 'unshared-1'; readonly wallS: number; readonly verdict: string; readonly executions: number; readonly states?: number; readonly load1: number }[];
  /** Wall time of N workers over that of one, per N. */
  readonly ratioToOne: Readonly<Record<string, number>>;
  /** Wall time of N workers over that of the unsplit search, per N. */
  readonly ratioToUnsplit: Readonly<Record<string, number>>;
  readonly sameResults: boolean;
}

/** `model variant k=v … [--no-cache]`, several separated by `;` (default: the search over states
 * of ptmigrate delimbo with 4 pages, all reclaimed, two stores each, ~10 s; and the stateless
 * search of 3 pages, all reclaimed, ~20 s). */
const configs = (process.env.MMCHECK_BENCH_PARALLEL ?? 'ptmigrate delimbo pages=4 reclaim=4 stores=2; ptmigrate delimbo pages=3 reclaim=3 --no-cache')
  .split(';')
  .map((c) => c.trim().split(/\s+/));
export const workerCounts = (): number[] => (process.env.MMCHECK_BENCH_WORKERS ?? '1,2').split(',').map(Number);
/** Rounds of every worker count in turn; a count's wall time is its best round (load on this
 * shared machine comes and goes: one worker took 20 s and 25 s in two runs of the same search). */
const rounds = Number(process.env.MMCHECK_BENCH_PARALLEL_ROUNDS ?? 2);

interface Report {
  readonly results: readonly { readonly verdict: string; readonly executions: number; readonly states?: number; readonly elapsedMs: number }[];
}

function once(repo: string, config: readonly string[], extra: readonly string[]): { wallS: number; report: Report; load1: number } {
  const [model, variant, ...rest] = config;
  const params = rest.filter((p) => !p.startsWith('--'));
  const flags = rest.filter((p) => p.startsWith('--'));
  const args = [path.join(repo, 'bin/mmcheck.js'), 'explore', model!, '--variant', variant!, ...params.flatMap((p) => ['--param', p]), ...flags, '--json', '--no-trace', ...extra];
  const load1 = Number(loadavg()[0]!.toFixed(2));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallS = Number(((performance.now() - t0) / 1000).toFixed(2));
  if (r.status !== 0 && r.status !== 1) throw new Error(`mmcheck ${extra.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
  return { wallS, report: JSON.parse(r.stdout) as Report, load1 };
}

export function parallelRows(repo: string): ParallelRow[] {
  return configs.map((c) => rowOf(repo, c));
}

function rowOf(repo: string, config: readonly string[]): ParallelRow {
  const runs: ParallelRow['runs'][number][] = [];
  const seen = new Set<string>();
  const best = new Map<number, ParallelRow['runs'][number]>();
  for (let round = 0; round < rounds; round++) {
    for (const n of workerCounts()) {
      process.stderr.write(`bench: parallel ${config.join(' ')} --workers ${n} (round ${round + 1})\n`);
      const { wallS, report, load1 } = once(repo, config, ['--workers', String(n)]);
      const r = report.results[0]!;
      const run = { workers: n, wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 };
      if ((best.get(n)?.wallS ?? Infinity) > wallS) best.set(n, run);
      seen.add(JSON.stringify(report.results.map((x) => ({ ...x, elapsedMs: 0 }))));
    }
  }
  runs.push(...workerCounts().map((n) => best.get(n)!));
  if (process.env.MMCHECK_BENCH_UNSPLIT !== '0') {
    process.stderr.write(`bench: parallel ${config.join(' ')} unsplit\n`);
    const { wallS, report, load1 } = once(repo, config, []);
    const r = report.results[0]!;
    runs.push({ workers: 'unsplit', wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 });
  }
  // Without a cache there is nothing to share.
  if (process.env.MMCHECK_BENCH_UNSHARED !== '0' && !config.includes('--no-cache')) {
    process.stderr.write(`bench: parallel ${config.join(' ')} --workers 1 --no-share-cache\n`);
    const { wallS, report, load1 } = once(repo, config, ['--workers', '1', '--no-share-cache']);
    const r = report.results[0]!;
    runs.push({ workers: 'unshared-1', wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 });
  }
  const ratios = (base: number | undefined) =>
    Object.fromEntries(runs.filter((r) => typeof r.workers === 'number' && base).map((r) => [String(r.workers), Number((r.wallS / base!).toFixed(2))]));
  const ratioToOne = ratios(runs.find((r) => r.workers === 1)?.wallS);
  const ratioToUnsplit = ratios(runs.find((r) => r.workers === 'unsplit')?.wallS);
  return { workload: config.join(' '), kind: 'parallel', rounds, runs, ratioToOne, ratioToUnsplit, sameResults: seen.size === 1 };
}
