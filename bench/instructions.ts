// The `instructions` workload kind of `npm run bench` (MMCHECK_BENCH_KIND=instructions; not
// part of the default run): each model variant's search, counted in machine instructions
// instead of timed. On this shared 2-core machine one build's wall time moves by a third from
// one minute to the next (the same search measured 544 k and 837 k steps/s a minute apart), so
// a change of a few per cent cannot be told from noise by timing. Valgrind counts the
// instructions a process executes, JIT-compiled code and garbage collection included; with
// node's --single-threaded (the JIT compiles on the main thread, no helper threads) two runs of
// the same process differ by about 1 % or less.
//
// Per row and build: the search is run n1 and n2 times in two processes under
// `valgrind --tool=cachegrind --cache-sim=no`, and (I(n2) − I(n1)) / (n2 − n1) is one warm
// search's count — start-up, module loading and the first, cold n1 searches cancel out, and n2 =
// 2·n1: each part explores at least MMCHECK_BENCH_INSN_STEPS (default 170,000) steps, n1 at
// most 5,000 searches. Fewer counted the JIT's work as the search's: code run once per search
// (the driver's set-up, the model's build, its invariants) is compiled by TurboFan only after
// thousands of searches, some of it more than once (cpa's invariants, 106 ms a compile). On cpa
// no-cache-flush (34 steps a search): 300 against 1,300 searches counted 4.79 M instructions a
// search, 2,000 against 5,000 2.66 M, 5,000 against 10,000 2.03 M and 10,000 against 20,000
// 2.04 M.
// A ratio of counts is not a ratio of times (memory stalls differ), but it moves only with the
// code. Needs valgrind (Debian: apt-get install valgrind); without it the kind says so.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InstructionsMeasure {
  /** Searches in the two processes (their difference is what is counted). */
  readonly searches: readonly [number, number];
  readonly executions: number;
  /** Steps explored by one search, restored prefix steps included (as the engine rows count). */
  readonly steps: number;
  /** Instructions of one warm search, and per explored step. */
  readonly perSearch: number;
  readonly perStep: number;
}

export interface InstructionsRow {
  readonly workload: string;
  readonly kind: 'instructions';
  readonly current: InstructionsMeasure;
  readonly baseline?: InstructionsMeasure;
  /** The baseline's instructions per explored step over this build's (above 1: fewer now). */
  readonly stepRatio?: number;
}

/** What the counting child needs of a build (the same in every version so far). */
interface Lib {
  readonly root: string;
  explore(model: unknown, options: Record<string, unknown>): { executions: number; steps: number; restoredSteps?: number; elapsedMs: number };
  readonly models: readonly { readonly name: string; readonly variants: readonly { readonly name: string }[] }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'count-searches.js');
const STEPS = Number(process.env.MMCHECK_BENCH_INSN_STEPS ?? 170_000);
/** The engine rows' search: stateless, every choice (both builds have it). */
const OPTIONS = { maxExecutions: 50_000, timeLimitMs: 1e9, cache: false };

export function hasValgrind(): boolean {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Instructions `n` searches of `model`/`variant` take in a process of their own, everything included. */
function count(root: string, model: string, variant: string, n: number): number {
  const r = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--single-threaded', CHILD, root, model, variant, String(n), JSON.stringify(OPTIONS)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`valgrind on ${model}/${variant} exited ${r.status}: ${(r.stderr ?? '').slice(-300)}`);
  return Number(m[1]!.replace(/,/g, ''));
}

function measure(lib: Lib, model: string, variant: string, [n1, n2]: [number, number]): InstructionsMeasure {
  const m = lib.models.find((x) => x.name === model)!;
  const r = lib.explore(m, { variant, ...OPTIONS });
  const perSearch = (count(lib.root, model, variant, n2) - count(lib.root, model, variant, n1)) / (n2 - n1);
  const steps = r.steps + (r.restoredSteps ?? 0);
  return { searches: [n1, n2], executions: r.executions, steps, perSearch: Math.round(perSearch), perStep: Math.round(perSearch / Math.max(steps, 1)) };
}

/** [n1, n2]: n1 searches warm the JIT up, n2 − n1 more are counted; each part at least
 * STEPS explored steps (the JIT tiers code up by how often it ran, under valgrind as natively:
 * a search that ends in its first execution is warm only after about 5,000). */
function searchesFor(lib: Lib, model: string, variant: string): [number, number] {
  const m = lib.models.find((x) => x.name === model)!;
  const r = lib.explore(m, { variant, ...OPTIONS });
  const n1 = Math.min(5000, Math.ceil(STEPS / Math.max(1, r.steps + (r.restoredSteps ?? 0))));
  return [n1, 2 * n1];
}

/** A row per model variant (MMCHECK_BENCH_ROWS, a regular expression, picks some). */
export function instructionRows(current: Lib, baseline: Lib | undefined): InstructionsRow[] {
  const pick = process.env.MMCHECK_BENCH_ROWS === undefined ? undefined : new RegExp(process.env.MMCHECK_BENCH_ROWS);
  const rows: InstructionsRow[] = [];
  for (const m of current.models) {
    for (const v of m.variants) {
      const name = `${m.name}/${v.name}`;
      if (pick && !pick.test(name)) continue;
      process.stderr.write(`bench: instructions ${name}\n`);
      const n = searchesFor(current, m.name, v.name);
      const now = measure(current, m.name, v.name, n);
      const hasOld = baseline?.models.some((x) => x.name === m.name && x.variants.some((y) => y.name === v.name)) === true;
      const before = hasOld ? measure(baseline!, m.name, v.name, n) : undefined;
      rows.push({ workload: name, kind: 'instructions', current: now, ...(before ? { baseline: before, stepRatio: Number((before.perStep / now.perStep).toFixed(2)) } : {}) });
    }
  }
  return rows;
}

/** The valgrind in use, for the report. */
export function valgrindVersion(): string {
  return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
}
