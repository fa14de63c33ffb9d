// The `parallel` workload kind of `npm run bench` (MMCHECK_BENCH_KIND=parallel): one long
// exploration through the CLI (`mmcheck explore … --workers N --json`), wall time per worker
// count, and the ratio to one worker. The results of every N must be the same (times and the
// worker count aside): `sameResults` says whether they were. Beside them: the unsplit search
// (what runs without --workers) and one worker with a cache per job (--no-share-cache, what
// shards do), so the cost of splitting shows too. This machine's cores are shared with other
// work, so the wall times are what one run saw, with the load average beside them.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';

export interface ParallelRow {
  readonly workload: string;
  readonly kind: 'parallel';
  readonly runs: readonly { readonly workers: number | 'unsplit' | 'unshared-1'; readonly wallS: number; readonly verdict: string; readonly executions: number; readonly states?: number; readonly load1: number }[];
  /** Wall time of N workers over that of one, per N. */
  readonly ratioToOne: Readonly<Record<string, number>>;
  /** Wall time of N workers over that of the unsplit search, per N. */
  readonly ratioToUnsplit: Readonly<Record<string, number>>;
  readonly sameResults: boolean;
}

/** `model variant k=v …` (default: ptmigrate delimbo with 4 pages, all reclaimed: ~30 s unsplit). */
const config = (process.env.MMCHECK_BENCH_PARALLEL ?? 'ptmigrate delimbo pages=4 reclaim=4 stores=2').split(/\s+/);
const workerCounts = (process.env.MMCHECK_BENCH_WORKERS ?? '1,2').split(',').map(Number);

interface Report {
  readonly results: readonly { readonly verdict: string; readonly executions: number; readonly states?: number; readonly elapsedMs: number }[];
}

function once(repo: string, extra: readonly string[]): { wallS: number; report: Report; load1: number } {
  const [model, variant, ...params] = config;
  const args = [path.join(repo, 'bin/mmcheck.js'), 'explore', model!, '--variant', variant!, ...params.flatMap((p) => ['--param', p]), '--json', '--no-trace', ...extra];
  const load1 = Number(loadavg()[0]!.toFixed(2));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallS = Number(((performance.now() - t0) / 1000).toFixed(2));
  if (r.status !== 0 && r.status !== 1) throw new Error(`mmcheck ${extra.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
  return { wallS, report: JSON.parse(r.stdout) as Report, load1 };
}

export function parallelRows(repo: string): ParallelRow[] {
  const runs: ParallelRow['runs'][number][] = [];
  const seen = new Set<string>();
  for (const n of workerCounts) {
    process.stderr.write(`bench: parallel ${config.join(' ')} --workers ${n}\n`);
    const { wallS, report, load1 } = once(repo, ['--workers', String(n)]);
    const r = report.results[0]!;
    runs.push({ workers: n, wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 });
    seen.add(JSON.stringify(report.results.map((x) => ({ ...x, elapsedMs: 0 }))));
  }
  if (process.env.MMCHECK_BENCH_UNSPLIT !== '0') {
    process.stderr.write(`bench: parallel ${config.join(' ')} unsplit\n`);
    const { wallS, report, load1 } = once(repo, []);
    const r = report.results[0]!;
    runs.push({ workers: 'unsplit', wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 });
  }
  if (process.env.MMCHECK_BENCH_UNSHARED !== '0') {
    process.stderr.write(`bench: parallel ${config.join(' ')} --workers 1 --no-share-cache\n`);
    const { wallS, report, load1 } = once(repo, ['--workers', '1', '--no-share-cache']);
    const r = report.results[0]!;
    runs.push({ workers: 'unshared-1', wallS, verdict: r.verdict, executions: r.executions, ...(r.states === undefined ? {} : { states: r.states }), load1 });
  }
  const ratios = (base: number | undefined) =>
    Object.fromEntries(runs.filter((r) => typeof r.workers === 'number' && base).map((r) => [String(r.workers), Number((r.wallS / base!).toFixed(2))]));
  const ratioToOne = ratios(runs.find((r) => r.workers === 1)?.wallS);
  const ratioToUnsplit = ratios(runs.find((r) => r.workers === 'unsplit')?.wallS);
  return [{ workload: config.join(' '), kind: 'parallel', runs, ratioToOne, ratioToUnsplit, sameResults: seen.size === 1 }];
}
