// vitest matchers: `await expect(model('ptmigrate', 'delimbo')).toHold()` and
// `await expect(model('./my-model.ts', 'plain')).toViolate('no-lost-update')`.
// Importing this module (`import 'mmcheck/vitest'`) registers them.
//
// A built-in model or a model file is explored in a worker thread: a step that never returns
// cannot hang the test run (the worker is stopped, the matcher fails saying so), and the search
// has a time budget (default 4 s, under vitest's default 5 s test timeout) so a slow model fails
// with a message naming the budget instead of vitest's bare timeout. A model object (no file to
// load in a worker) is explored on the test thread under the same budget, between executions
// (the CLI's job either way: the same search, the counterexample minimised the same way).
// A failing matcher writes the counterexample as a trace and ends with the replay command.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { builtinModels, findBuiltin } from '../../models/index.js';
import { exploreInWorker } from '../cli/job-worker.js';
import { envMemoryModel } from '../cli/memory-model.js';
import { type MemoryModel, defaultMemoryModel } from '../machine/tso/store-buffer.js';
import { exploreVariant, type JobResult } from '../cli/job.js';
import type { SearchArgs } from '../cli/args.js';
import { loadModel, looksLikePath } from '../cli/load.js';
import { writeAtomic } from '../cli/output.js';
import { relativeModelPath, replayCommandLine, traceFile, traceStem } from '../cli/paths.js';
import { replaySchedule } from '../engine/replay.js';
import type { StrategyName } from '../engine/explore.js';
import { type Model, type Params, UsageError, bindModel, declaredViolations } from '../model.js';
import { makeTrace } from '../trace/format.js';
import { swimLane } from '../trace/render.js';

export interface MatcherOptions {
  readonly params?: Params;
  readonly strategy?: StrategyName;
  readonly preemptionBound?: number;
  readonly maxExecutions?: number;
  readonly maxSteps?: number;
  readonly seed?: string;
  readonly samples?: number;
  /** Store visited states (dpor and dfs on a model that declares its state); default true, as
   * on the command line. */
  readonly cache?: boolean;
  /** Seconds the search (and minimising its counterexample) may take; default 4. Raise it with
   * vitest's testTimeout (`it(name, fn, 60_000)` or `test.testTimeout` in vitest.config). */
  readonly timeLimitS?: number;
  /** Seconds without a sign of progress after which the model counts as hung; default 3. */
  readonly stallTimeoutS?: number;
  /** Minimise a counterexample before reporting it (files and built-ins); default true. */
  readonly minimise?: boolean;
  /** Where a failing matcher writes its trace; default mmcheck-traces/ in the working directory. */
  readonly traceDir?: string;
}

/** The model a matcher explores: a built-in name, a model file, or a model object. */
type Source = { readonly builtin: string } | { readonly file: string } | { readonly object: Model };

export interface ModelUnderTest {
  readonly source: Source;
  readonly variant?: string;
  readonly options: MatcherOptions;
}

const DEFAULT_TIME_LIMIT_S = 4;
const DEFAULT_STALL_S = 3;

/** Names a model for the matchers: a built-in by name, a model file (path or file: URL,
 * relative paths from the working directory), or a `defineModel(...)` object. */
export function model(m: string | URL | Model, variant?: string, options: MatcherOptions = {}): ModelUnderTest {
  if (m instanceof URL) return { source: { file: fileURLToPath(m) }, variant, options };
  if (typeof m !== 'string') return { source: findBuiltin(m.name) === m ? { builtin: m.name } : { object: m }, variant, options };
  if (looksLikePath(m)) return { source: { file: path.resolve(m) }, variant, options };
  if (!findBuiltin(m)) throw new UsageError(`unknown model "${m}" (models: ${builtinModels.map((b) => b.name).join(', ')}; or a model file path)`);
  return { source: { builtin: m }, variant, options };
}

function isModelUnderTest(x: unknown): x is ModelUnderTest {
  return typeof x === 'object' && x !== null && 'source' in x && 'options' in x;
}

interface Resolved {
  readonly model: Model;
  readonly file?: { readonly path: string; readonly sha256: string };
}

async function resolve(source: Source): Promise<Resolved> {
  if ('object' in source) return { model: source.object };
  if ('builtin' in source) return { model: findBuiltin(source.builtin)! };
  // Loaded here too, for its invariants and to draw the trace — the way the CLI loads it (tsx):
  // this module may be an installed dependency that vitest does not transform.
  return loadModel(source.file);
}

async function run(t: ModelUnderTest, r: Resolved, variant: string): Promise<JobResult> {
  const o = t.options;
  const timeLimitS = o.timeLimitS ?? DEFAULT_TIME_LIMIT_S;
  const search: SearchArgs = {
    variant,
    strategy: o.strategy ?? 'dpor',
    preemptionBound: o.preemptionBound,
    maxExecutions: o.maxExecutions,
    maxSteps: o.maxSteps,
    timeLimitS,
    seed: o.seed ?? '0',
    samples: o.samples,
    params: { ...o.params },
    minimise: o.minimise ?? true,
    ...(o.cache === false ? { cache: false } : {}),
  };
  // The same job as the CLI's: on this thread for an object, in a worker for the rest.
  if ('object' in t.source) return exploreVariant({ loaded: { model: r.model }, variant }, search, undefined, () => false, () => undefined);
  const target = 'builtin' in t.source ? t.source.builtin : t.source.file;
  const stallMs = (o.stallTimeoutS ?? DEFAULT_STALL_S) * 1000;
  const results = await exploreInWorker({ target, search }, { stallMs, deadlineMs: timeLimitS * 1000 + stallMs });
  if (results.length !== 1) throw new Error(`mmcheck: expected one result for ${r.model.name}/${variant}, got ${results.length}`);
  return results[0]!;
}

/** Writes the counterexample where the user can replay it; returns the trace and the command. */
function writeTrace(r: JobResult, m: Resolved, dir: string, memoryModel: MemoryModel): { file: string; replay: string } | undefined {
  const v = r.violation;
  if (!v) return undefined;
  const defaults = Object.fromEntries(Object.entries(m.model.params).map(([k, p]) => [k, p.default]));
  const file = traceFile(dir, traceStem(r.model, r.variant, r.params, defaults));
  const modelFile = m.file ? { path: relativeModelPath(file, m.file.path), sha256: m.file.sha256 } : undefined;
  writeAtomic(file, `${JSON.stringify(makeTrace({ model: r.model, modelFile, variant: r.variant, params: r.params, strategy: r.strategy, threads: r.threads, maxSteps: r.maxSteps, memoryModel }, v), null, 2)}\n`);
  const command = replayCommandLine(file, m.file?.path);
  // A model object names no file: replay needs the one that exports it.
  const own = m.file === undefined && findBuiltin(r.model) !== m.model;
  return { file, replay: own ? `${command} --model <the file that exports model ${r.model}>` : command };
}

function describe(r: JobResult, m: Resolved, trace: { file: string; replay: string } | undefined): string {
  const head = `${r.model}/${r.variant}: ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''} after ${r.executions} executions`;
  if (!r.violation) return r.cut ? `${head}; not exhaustive: ${r.cut}` : head;
  const bound = bindModel(m.model, r.variant, r.params);
  const replay = replaySchedule(bound.make, r.violation.schedule, { maxSteps: Math.max(bound.maxSteps, r.violation.schedule.length) });
  const lane = swimLane(replay.threads, replay.trace, replay.snapshots, replay.failure);
  const tail = trace ? `\ntrace written: ${trace.file}\nreplay it: ${trace.replay}` : '';
  return `${head}\n${lane}${tail}`;
}

/** Names a failure may carry: the model's invariants, what its variants declare, the engine's own. */
function knownViolations(m: Model): string[] {
  const names = new Set<string>([...m.invariants.map((i) => i.name), 'deadlock', 'step-bound', 'model-error', 'assertion']);
  for (const v of m.variants) for (const n of declaredViolations(v.expect)) names.add(n);
  return [...names];
}

interface MatcherContext {
  readonly isNot?: boolean;
}

type MatcherResult = { pass: boolean; message: () => string };

async function check(ctx: MatcherContext, received: unknown, matcher: string, invariant: string | undefined): Promise<MatcherResult> {
  if (!isModelUnderTest(received)) throw new TypeError(`${matcher}() expects model(name or file or object, variant)`);
  const m = await resolve(received.source);
  if (invariant !== undefined && !knownViolations(m.model).includes(invariant)) {
    throw new UsageError(`toViolate('${invariant}'): model ${m.model.name} has no invariant "${invariant}" (invariants: ${knownViolations(m.model).join(', ')})`);
  }
  const variant = received.variant ?? m.model.variants[0]!.name;
  const r = await run(received, m, variant);
  const pass = invariant === undefined ? r.verdict === 'holds' : r.verdict === 'violated' && r.violation?.invariant === invariant;
  // Only a failing assertion writes a trace: `.not` turns a pass into the failure.
  const negated = ctx.isNot === true;
  // A model object explores on this thread (its default memory model), the rest in a worker
  // (MMCHECK_MEMORY_MODEL, which the worker's machines read).
  const memoryModel = 'object' in received.source ? defaultMemoryModel() : envMemoryModel();
  const trace = pass === negated ? writeTrace(r, m, received.options.traceDir ?? 'mmcheck-traces', memoryModel) : undefined;
  const want = invariant === undefined ? 'it to hold exhaustively' : `a violation of ${invariant}`;
  const budget = r.verdict === 'bounded' ? `\n(the search stopped at its limit: raise timeLimitS in model(…, { timeLimitS }) together with vitest's testTimeout)` : '';
  return { pass, message: () => `expected ${negated ? 'not ' : ''}${want}, got ${describe(r, m, trace)}${budget}` };
}

export const mmcheckMatchers = {
  toHold(this: MatcherContext, received: unknown) {
    return check(this, received, 'toHold', undefined);
  },
  toViolate(this: MatcherContext, received: unknown, invariant: string) {
    return check(this, received, 'toViolate', invariant);
  },
};

expect.extend(mmcheckMatchers);

declare module 'vitest' {
  // Declaration merging requires vitest's own type-parameter default, which is `any`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> {
    toHold(): Promise<T>;
    toViolate(invariant: string): Promise<T>;
  }
}
