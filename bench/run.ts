// `npm run bench`: the engine against the engine before the speed work, in one run, as ratios.
// The machines here are shared and noisy, so absolute rates are indicative only; what counts is
// the ratio of two builds measured side by side (alternating, best of `REPS`). The baseline is
// built from git into a temporary worktree (bench/baseline.json names the commit; override with
// MMCHECK_BENCH_BASE=<rev>, or MMCHECK_BENCH_BASE=none to measure this build alone).
// An engine workload shorter than MMCHECK_BENCH_MIN_LOOP_MS (default 300 ms) runs several times
// back to back, the same number of times in both builds (`repetitions` in its row; top-level
// `repetitions` is the best-of count), so its ratio is per step, not start-up.
// Prints one JSON document on stdout; progress goes to stderr.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { floorRows } from './floor.js';
import { hasValgrind, instructionRows, valgrindVersion } from './instructions.js';
import { memoryRow } from './memory.js';
import { parallelRows, workerCounts } from './parallel.js';
import { sideBySide } from './side-by-side.js';

/** The parts of a build the bench uses (the same in every version so far). */
interface Lib {
  readonly label: string;
  /** The build's root (its dist/ beneath). */
  readonly root: string;
  explore(model: unknown, options: Record<string, unknown>): Result;
  exploreProgram(make: () => unknown, options: Record<string, unknown>): Result;
  toyProgram(threads: unknown[][], nVars: number, nLocks: number): () => unknown;
  readonly models: readonly { name: string; variants: readonly { name: string }[] }[];
}

interface Result {
  readonly verdict: string;
  /** The state cache's report (builds with the cache, searches over states). */
  readonly cache?: { readonly states: number; readonly revisits: number };
  readonly executions: number;
  /** Steps run (builds before state restore: every step, re-run prefixes included). */
  readonly steps: number;
  /** Prefix steps restored from a saved state instead of re-run (absent before state restore). */
  readonly restoredSteps?: number;
  readonly elapsedMs: number;
}

interface Workload {
  readonly name: string;
  readonly strategy: string;
  /** engine: the same stateless search in both builds (steps/s compare the engine per step);
   * states: this build's default search over states against the old stateless one (wall time),
   * beside what SPIN took on an independent Promela model of the same configuration. */
  readonly kind: 'engine' | 'states';
  /** SPIN 6.5.2's whole pipeline (spin -a, gcc, pan) on this machine when idle (issues 11, 12). */
  readonly spinPipelineS?: number;
  run(lib: Lib): Result;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const REPS = Number(process.env.MMCHECK_BENCH_REPS ?? 2);
/** An engine workload that finishes sooner than this is repeated in a loop (the same number of
 * times in both builds) until one build's loop takes this long, so that its ratio measures the
 * engine per step rather than start-up, JIT warm-up and timer noise. */
const MIN_LOOP_MS = Number(process.env.MMCHECK_BENCH_MIN_LOOP_MS ?? 300);
// `cache: false`: the engine workloads compare the stateless search, which both builds have
// (a build before the state cache ignores the option).
const CAP = { maxExecutions: 50_000, timeLimitMs: 20_000, cache: false };
/** Searches over states run to the end, or to this limit ("bounded": not verified). */
/** Runs of this build's search over states, each in a process of its own (the best is kept). */
const STATE_REPS = Number(process.env.MMCHECK_BENCH_STATE_REPS ?? 5);
const STATE_CAP = { timeLimitMs: Number(process.env.MMCHECK_BENCH_STATE_LIMIT_MS ?? 60_000), cache: true };

async function load(root: string, label: string): Promise<Lib> {
  const url = (p: string) => pathToFileURL(path.join(root, p)).href;
  const index = (await import(url('dist/src/index.js'))) as Record<string, unknown>;
  const toy = (await import(url('dist/src/testing/toy.js'))) as Record<string, unknown>;
  const models = (await import(url('dist/models/index.js'))) as Record<string, unknown>;
  return {
    label,
    root,
    explore: index.explore as Lib['explore'],
    exploreProgram: index.exploreProgram as Lib['exploreProgram'],
    toyProgram: toy.toyProgram as Lib['toyProgram'],
    models: models.builtinModels as Lib['models'],
  };
}

/** Builds `rev` into a worktree under the temp dir (once) and returns its root. */
function buildBaseline(rev: string): string {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: repo, encoding: 'utf8' }).trim();
  const root = path.join(tmpdir(), `mmcheck-bench-${sha.slice(0, 12)}`);
  if (!existsSync(path.join(root, 'dist/src/index.js'))) {
    process.stderr.write(`bench: building baseline ${sha.slice(0, 12)} in ${root}\n`);
    if (!existsSync(root)) execFileSync('git', ['worktree', 'add', '--detach', root, sha], { cwd: repo, stdio: 'ignore' });
    if (!existsSync(path.join(root, 'node_modules'))) symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
  return root;
}

/** n threads: each writes its own variable k times, then CAS-increments a shared counter once. */
function mostlyIndependent(n: number, k: number): unknown[][] {
  return Array.from({ length: n }, (_, t) => [
    ...Array.from({ length: k }, (_, i) => ({ kind: 'store', x: 1 + t, v: i + 1 })),
    { kind: 'load', x: 0 },
    { kind: 'cas', x: 0, expect: 0, v: t + 1 },
  ]);
}

/** n threads, each storing to and loading from two shared variables (heavily dependent). */
function contended(n: number): unknown[][] {
  return Array.from({ length: n }, (_, t) => [
    { kind: 'store', x: 0, v: t + 1 },
    { kind: 'load', x: 1 },
    { kind: 'store', x: 1, v: t + 1 },
    { kind: 'load', x: 0 },
  ]);
}

/** `explore(model, options)` of build `l` in a new node process. */
function inChild(l: Lib, model: string, options: Record<string, unknown>): Result {
  const script = `
    const { explore } = await import(${JSON.stringify(pathToFileURL(path.join(l.root, 'dist/src/index.js')).href)});
    const { builtinModels } = await import(${JSON.stringify(pathToFileURL(path.join(l.root, 'dist/models/index.js')).href)});
    const r = explore(builtinModels.find((m) => m.name === ${JSON.stringify(model)}), ${JSON.stringify(options)});
    process.stdout.write(JSON.stringify({ verdict: r.verdict, cache: r.cache, executions: r.executions, steps: r.steps, restoredSteps: r.restoredSteps, elapsedMs: r.elapsedMs }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out) as Result;
}

function workloads(lib: Lib): Workload[] {
  const out: Workload[] = [];
  const toys: [string, unknown[][], number, string[]][] = [
    ['independent-3x3', mostlyIndependent(3, 3), 4, ['dfs', 'dpor']],
    ['independent-4x2', mostlyIndependent(4, 2), 5, ['dpor']],
    ['contended-3', contended(3), 2, ['dfs', 'dpor']],
    ['contended-4', contended(4), 2, ['dpor']],
  ];
  for (const [name, threads, nVars, strategies] of toys) {
    for (const strategy of strategies) out.push({ name, strategy, kind: 'engine', run: (l) => l.exploreProgram(l.toyProgram(threads, nVars, 0), { strategy, ...CAP }) });
  }
  const model = (l: Lib, name: string) => l.models.find((m) => m.name === name)!;
  // The configuration SPIN's whole pipeline verifies in 2.4 s here (issue 11).
  out.push({
    name: 'ptmigrate/delimbo cpus=1 pages=2 reclaim=2 warm=0 psc=1',
    strategy: 'dpor',
    kind: 'engine',
    run: (l) => l.explore(model(l, 'ptmigrate'), { variant: 'delimbo', params: { cpus: 1, pages: 2, reclaim: 2, warm: 0, psc: 1 }, ...CAP }),
  });
  for (const m of lib.models) {
    for (const v of m.variants) out.push({ name: `${m.name}/${v.name}`, strategy: 'dpor', kind: 'engine', run: (l) => l.explore(model(l, m.name), { variant: v.name, ...CAP }) });
  }
  // The configurations SPIN verifies (issue 12), with this build's default search over states.
  const spin: [string, string, string, Record<string, number>, number][] = [
    ['ptmigrate', 'delimbo', 'cpus=1 pages=2 reclaim=2 warm=0 psc=1', { cpus: 1, pages: 2, reclaim: 2, warm: 0, psc: 1 }, 2.4],
    ['ptmigrate', 'delimbo', 'cpus=2 pages=2 reclaim=2 warm=0 psc=1', { cpus: 2, pages: 2, reclaim: 2, warm: 0, psc: 1 }, 2.8],
    ['thp-refcount', 'compound-lock', 'tails=2 pinners=2 gup=0 speculative=0 dropHeadPin=1', { tails: 2, pinners: 2, gup: 0, speculative: 0, dropHeadPin: 1 }, 2.6],
  ];
  // Each in a process of its own, as SPIN's pan and `npx mmcheck explore` run: after the
  // bench's other searches, one process's JIT and heap are another's (two writers took 7.8 s
  // run last in the bench's process, 5.0 s alone).
  for (const [name, variant, text, params, spinPipelineS] of spin) {
    out.push({ name: `${name}/${variant} ${text}`, strategy: 'dpor', kind: 'states', spinPipelineS, run: (l) => inChild(l, name, { variant, params, ...STATE_CAP }) });
  }
  return out;
}

interface Measure {
  /** Searches run back to back for one measurement (the same in both builds); the counts are
   * one search's, `ms` is one search's share of the loop. */
  readonly repetitions: number;
  readonly executions: number;
  readonly steps: number;
  readonly restoredSteps: number;
  readonly verdict: string;
  readonly ms: number;
  /** Steps of the executions explored per second, restored prefix steps included: the same
   * work the old engine's `steps` counted, so the two builds compare like for like. */
  readonly stepsPerSec: number;
  readonly executionsPerSec: number;
  readonly msPerExecution: number;
  readonly states?: number;
  readonly revisits?: number;
  readonly statesPerSec?: number;
  /** A search over states: each run's time (the best is `ms`). */
  readonly runsMs?: readonly number[];
}

/** A short search runs mostly before the JIT has compiled what runs once per search (a
 * model's build, its invariants, the driver's set-up): cpa no-cache-flush took 1.0 ms a search
 * after 0.5 s of back-to-back searches, 0.3 ms after 2 s and 0.21 ms after 4 s (12,000
 * searches), and the old build moved alike. So a workload shorter than MIN_LOOP_MS first runs
 * back to back for WARM_MS in each build, and its ratio compares the engines as a long search
 * meets them, not the JIT's progress. */
const WARM_MS = Number(process.env.MMCHECK_BENCH_WARM_MS ?? 4000);

/** Runs `w` in `lib` once (twice when it took less than 4 × MIN_LOOP_MS) or, when it is
 * shorter than MIN_LOOP_MS, back to back for WARM_MS; returns what one search took (averaged
 * over the last quarter of the loop). */
function warmUp(w: Workload, lib: Lib): number {
  const first = w.run(lib).elapsedMs;
  if (first >= 4 * MIN_LOOP_MS) return first;
  const t0 = performance.now();
  const times: number[] = [];
  do times.push(w.run(lib).elapsedMs);
  while (times[times.length - 1]! < MIN_LOOP_MS && performance.now() - t0 < WARM_MS);
  const late = times.slice(times.length - Math.ceil(times.length / 4));
  return late.reduce((a, x) => a + x, 0) / late.length;
}

/** How many repetitions make this build's loop last MIN_LOOP_MS, timed on a warm search. */
function repetitions(w: Workload, lib: Lib, base: Lib | undefined): number {
  if (w.kind === 'states') return 1;
  let ms: number;
  try {
    ms = warmUp(w, lib);
  } catch {
    return 1; // measure() reports the error
  }
  try {
    if (base !== undefined) warmUp(w, base);
  } catch {
    // A variant the baseline lacks: measure() reports it.
  }
  return ms >= MIN_LOOP_MS ? 1 : Math.min(10_000, Math.ceil(MIN_LOOP_MS / Math.max(ms, 0.01)));
}

function measure(w: Workload, lib: Lib, repetitions: number, runs = REPS): Measure | { readonly error: string } {
  let best: Measure | undefined;
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    let r: Result | undefined;
    let total = 0;
    try {
      // The same search `repetitions` times; each reports the time its own search took.
      for (let k = 0; k < repetitions; k++) {
        r = w.run(lib);
        total += r.elapsedMs;
      }
    } catch (e) {
      return { error: e instanceof Error ? e.message.slice(0, 200) : String(e) };
    }
    const ms = Math.max(total / repetitions, 0.001);
    all.push(Math.round(ms));
    if (r && (!best || ms < best.ms)) {
      const restored = r.restoredSteps ?? 0;
      best = {
        repetitions,
        executions: r.executions,
        steps: r.steps,
        restoredSteps: restored,
        verdict: r.verdict,
        ms: repetitions > 1 ? Number(ms.toFixed(2)) : Math.round(ms),
        stepsPerSec: Math.round(((r.steps + restored) * 1000) / ms),
        executionsPerSec: Math.round((r.executions * 1000) / ms),
        msPerExecution: Number((ms / Math.max(r.executions, 1)).toFixed(3)),
        ...(r.cache ? { states: r.cache.states, revisits: r.cache.revisits, statesPerSec: Math.round((r.cache.states * 1000) / ms) } : {}),
      };
    }
  }
  // A search over states says how long each of its runs took: its best is compared with SPIN's
  // time on an idle machine, and the spread shows the machine's load.
  return w.kind === 'states' && runs > 1 ? { ...best!, runsMs: all } : best!;
}

/** The geometric mean of ratios, to two decimals. */
const geomean = (xs: readonly number[]): number => Number(Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length).toFixed(2));

const only = process.env.MMCHECK_BENCH_KIND;
// The parallel kind runs the CLI of this build alone (worker counts side by side, no baseline).
if (only === 'parallel') {
  const rows = parallelRows(repo);
  const machine = process.env.MMCHECK_BENCH_SIDE_BY_SIDE === 'none' ? undefined : await sideBySide(repo, workerCounts());
  process.stdout.write(`${JSON.stringify({ benchmark: 'mmcheck-parallel', node: process.version, cpus: availableParallelism(), rows, ...(machine ? { sideBySide: machine } : {}) }, null, 2)}\n`);
  process.exit(0);
}
// The memory kind runs this build alone: one long stateless search, its RSS over time.
if (only === 'memory') {
  process.stdout.write(`${JSON.stringify({ benchmark: 'mmcheck-memory', node: process.version, rows: [memoryRow(repo)] }, null, 2)}\n`);
  process.exit(0);
}
const baseRev = process.env.MMCHECK_BENCH_BASE ?? (JSON.parse(readFileSync(path.join(repo, 'bench/baseline.json'), 'utf8')) as { rev: string }).rev;
const current = await load(repo, 'current');
const base = baseRev === 'none' ? undefined : await load(buildBaseline(baseRev), `baseline ${baseRev}`);
// The instructions kind counts, under valgrind, what each variant's search executes (both builds).
if (only === 'instructions') {
  if (!hasValgrind()) {
    process.stderr.write('bench: the instructions kind needs valgrind (Debian: apt-get install valgrind)\n');
    process.exit(2);
  }
  const rows = instructionRows(current, base);
  const ratios = rows.map((r) => r.stepRatio).filter((x): x is number => x !== undefined);
  const summary = ratios.length ? { compared: ratios.length, minStepRatio: Math.min(...ratios), maxStepRatio: Math.max(...ratios), geomeanStepRatio: geomean(ratios) } : {};
  process.stdout.write(`${JSON.stringify({ benchmark: 'mmcheck-instructions', node: process.version, valgrind: valgrindVersion(), baseline: base?.label ?? null, summary, rows }, null, 2)}\n`);
  process.exit(0);
}
const rows = [];
// MMCHECK_BENCH_ROWS (a regular expression over workload names) picks some, as for instructions.
const pick = process.env.MMCHECK_BENCH_ROWS === undefined ? undefined : new RegExp(process.env.MMCHECK_BENCH_ROWS);
for (const w of workloads(current).filter((w) => (only === undefined || w.kind === only) && (pick === undefined || pick.test(w.name)))) {
  process.stderr.write(`bench: ${w.name} (${w.strategy})\n`);
  // Alternate builds so drifting machine load hits both alike.
  const n = repetitions(w, current, base);
  // A search over states (each run in a process of its own): this build STATE_REPS times, the
  // best kept (SPIN's times are an idle machine's); the stateless baseline, up to a minute, once.
  const now = measure(w, current, n, w.kind === 'states' ? STATE_REPS : REPS);
  const before = base ? measure(w, base, n, w.kind === 'states' ? 1 : REPS) : undefined;
  const ok = (m: Measure | { error: string } | undefined): m is Measure => m !== undefined && !('error' in m);
  if (w.kind === 'states') {
    rows.push({
      workload: w.name,
      kind: w.kind,
      current: now,
      ...(before ? { baseline: before } : {}),
      spinPipelineS: w.spinPipelineS,
      ...(ok(now) && ok(before) ? { timeRatio: Number((before.ms / Math.max(now.ms, 1)).toFixed(2)) } : {}),
      ...(ok(now) && w.spinPipelineS ? { spinTimeRatio: Number((w.spinPipelineS * 1000 / Math.max(now.ms, 1)).toFixed(2)) } : {}),
    });
    continue;
  }
  rows.push({
    workload: w.name,
    kind: w.kind,
    strategy: w.strategy,
    repetitions: n,
    current: now,
    ...(before ? { baseline: before } : {}),
    ...(ok(now) && ok(before)
      ? {
          speedup: Number((now.stepsPerSec / before.stepsPerSec).toFixed(2)),
          timeRatio: Number((before.ms / Math.max(now.ms, 0.001)).toFixed(2)),
          sameCounts: now.executions === before.executions && now.steps + now.restoredSteps === before.steps + before.restoredSteps,
        }
      : {}),
  });
}
// The models with no engine (floor.ts): in the full run, and alone with MMCHECK_BENCH_KIND=floor.
const floor = only === undefined || only === 'floor' ? floorRows(current.models, base?.models) : [];
const speedups = rows.map((r) => ('speedup' in r ? r.speedup : undefined)).filter((x): x is number => x !== undefined);
// Issue 11's lines, read off the rows: model variants at 5x the old engine's steps/s, and the
// slowest synthetic program under each strategy (steps/s of this build).
interface RowView {
  readonly workload: string;
  readonly kind: string;
  readonly strategy?: string;
  readonly speedup?: number;
  readonly current: Measure | { readonly error: string };
}
const views = rows as readonly RowView[];
const modelSpeedups = views.filter((r) => r.kind === 'engine' && r.workload.includes('/') && r.speedup !== undefined).map((r) => r.speedup!);
const slowestSynthetic = (strategy: string): number | undefined => {
  const rates = views.flatMap((r) => (r.kind === 'engine' && !r.workload.includes('/') && r.strategy === strategy && 'stepsPerSec' in r.current ? [r.current.stepsPerSec] : []));
  return rates.length ? Math.min(...rates) : undefined;
};
const lines = { modelRows: modelSpeedups.length, modelRowsAt5x: modelSpeedups.filter((x) => x >= 5).length, slowestSyntheticDfs: slowestSynthetic('dfs'), slowestSyntheticDpor: slowestSynthetic('dpor') };
const summary = speedups.length
  ? { workloads: rows.length, compared: speedups.length, minSpeedup: Math.min(...speedups), maxSpeedup: Math.max(...speedups), geomeanSpeedup: geomean(speedups), ...lines }
  : { workloads: rows.length, ...lines };
process.stdout.write(`${JSON.stringify({ benchmark: 'mmcheck-engine', node: process.version, baseline: base?.label ?? null, repetitions: REPS, minLoopMs: MIN_LOOP_MS, summary, rows, ...(floor.length ? { floor } : {}) }, null, 2)}\n`);
