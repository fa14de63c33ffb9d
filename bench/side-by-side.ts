// What bounds N workers on this machine before any splitting: the same single-threaded search
// run as N processes at once, each process's wall time against one run alone. A search that is
// memory-bound slows down when its copies share the cores' caches and memory (on the 2-core
// machine of session 8, two copies of one job ran 1.3–1.45× slower each, while integer
// arithmetic did not slow at all); with that slowdown s(N), N perfectly balanced workers can take
// no less than s(N)/N of one worker's time. Part of MMCHECK_BENCH_KIND=parallel.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export interface SideBySide {
  /** The search each process runs (the CLI, one worker thread, no split). */
  readonly search: string;
  /** Wall time of one run alone, best of 2. */
  readonly aloneS: number;
  /** Per N: the mean wall time of N copies started together, over that alone. */
  readonly slowdown: Readonly<Record<string, number>>;
  /** Per N: slowdown / N, the least share of one worker's time N balanced workers can take. */
  readonly floorRatio: Readonly<Record<string, number>>;
}

/** A stateless search of a few seconds (bounded by executions: the same work every run). */
const SEARCH = (process.env.MMCHECK_BENCH_SIDE_BY_SIDE ?? 'ptmigrate delimbo pages=3 reclaim=3 --no-cache --max-executions 20000').split(/\s+/);

function args(repo: string): string[] {
  const [model, variant, ...rest] = SEARCH;
  const params = rest.filter((p) => p.includes('=') && !p.startsWith('--'));
  const flags = rest.filter((p) => !params.includes(p));
  return [path.join(repo, 'bin/mmcheck.js'), 'explore', model!, '--variant', variant!, ...params.flatMap((p) => ['--param', p]), ...flags, '--json', '--no-trace'];
}

/** 0 holds, 1 violated, 4 bounded (the executions bound): the search ran; anything else did not. */
const ran = (code: number | null): boolean => code === 0 || code === 1 || code === 4;

function alone(repo: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args(repo), { stdio: 'ignore' });
  if (!ran(r.status)) throw new Error(`side-by-side search exited ${r.status}`);
  return (performance.now() - t0) / 1000;
}

function together(repo: string, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const t0 = performance.now();
      return new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, args(repo), { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (code) => (ran(code) ? resolve((performance.now() - t0) / 1000) : reject(new Error(`side-by-side search exited ${code}`))));
      });
    }),
  );
}

export async function sideBySide(repo: string, counts: readonly number[]): Promise<SideBySide> {
  process.stderr.write(`bench: side by side: ${SEARCH.join(' ')} alone\n`);
  const aloneS = Math.min(alone(repo), alone(repo));
  const slowdown: Record<string, number> = {};
  const floorRatio: Record<string, number> = {};
  for (const n of counts.filter((c) => c > 1)) {
    process.stderr.write(`bench: side by side: ${n} copies at once\n`);
    const walls = await together(repo, n);
    const s = walls.reduce((a, b) => a + b, 0) / walls.length / aloneS;
    slowdown[n] = Number(s.toFixed(2));
    floorRatio[n] = Number((s / n).toFixed(2));
  }
  return { search: SEARCH.join(' '), aloneS: Number(aloneS.toFixed(2)), slowdown, floorRatio };
}
