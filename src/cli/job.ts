// One `mmcheck explore` job: the models and variants to explore and how. It runs inside a
// worker thread (worker.ts) so the main thread stays free to handle signals and to stop a model
// that never yields; everything it reports is plain data. A resumed job checks the checkpoint
// against the model it now has (same file, same variants in the same order, same threads)
// before continuing anything.
import { builtinModels } from '../../models/index.js';
import { dfsState, dporState, isStateful, maxThreadId, parseState, statefulState } from '../engine/checkpoint-schema.js';
import { ReplayDivergence, replaySchedule } from '../engine/replay.js';
import type { Checkpoint, Progress as Stats } from '../engine/explore.js';
import { CheckpointError } from '../engine/strategy.js';
import { explore, type ModelResult, showsExpected } from '../index.js';
import { type BoundModel, type Model, type Params, UsageError, bindModel, expectationOf, resolveParams, variantOf } from '../model.js';
import { quoteField } from '../schema/text.js';
import { minimise } from '../trace/minimise.js';
import type { SearchArgs } from './args.js';
import type { CurrentVariant, SavedResult } from './checkpoint.js';
import { type LoadedModel, loadModel } from './load.js';
import { traceStem } from './paths.js';
import type { PoolStats } from './progress.js';
import { exploreVariantSplit, type ParallelInput } from '../parallel/variant.js';
import { closePool } from '../parallel/pool.js';
import type { ShardVariant } from '../parallel/shard.js';

export interface JobInput {
  /** A built-in name or a model file path the user gave; undefined: every built-in model. */
  readonly target?: string;
  readonly search: SearchArgs;
  readonly resume?: JobResume;
  /** `--workers`, `--shard`, `mmcheck merge`: the split search (src/parallel). */
  readonly parallel?: ParallelInput;
}



export interface JobResume {
  /** What the checkpoint says the model is: its name, and for a file the sha256 of its bytes. */
  readonly model?: { readonly name: string; readonly sha256?: string };
  readonly completed: readonly SavedResult[];
  readonly current?: CurrentVariant;
}

export interface JobResult extends ModelResult {
  /** The trace file name without extension (model, variant, non-default parameters). */
  readonly stem: string;
  /** The step bound the search ran under (a trace must replay under the same). */
  readonly maxSteps: number;
  /** Time spent minimising the counterexample (included in elapsedMs). */
  readonly minimiseMs?: number;
  /** The model file (absolute path, sha256) when the model came from one. */
  readonly modelFile?: { readonly path: string; readonly sha256: string };
}

export type JobMessage =
  | { readonly type: 'loaded'; readonly model: string; readonly file?: { readonly path: string; readonly sha256: string } }
  | { readonly type: 'start'; readonly key: string }
  | { readonly type: 'progress'; readonly key: string; readonly stats: Stats; readonly pool?: PoolStats }
  /** `--shard`: the results of this shard's units of one variant (no result follows). */
  | { readonly type: 'shard'; readonly part: ShardVariant }
  /** A split variant interrupted: its finished units, for the checkpoint. */
  | { readonly type: 'split-done'; readonly part: ShardVariant }
  | { readonly type: 'minimising'; readonly key: string; readonly timeLeftMs?: number }
  | { readonly type: 'heartbeat'; readonly key: string; readonly stats: Stats }
  | { readonly type: 'result'; readonly result: JobResult }
  /** Stopped by the main thread's request: mid-variant (with its partial result), or between. */
  | { readonly type: 'interrupted'; readonly current?: CurrentVariant; readonly partial?: JobResult }
  | { readonly type: 'usage-error'; readonly message: string }
  | { readonly type: 'done' };

export interface Planned {
  readonly loaded: LoadedModel;
  readonly variant: string;
}

/** Parameters the model itself declares (an inherited name such as `toString` is not one). */
export function checkedParams(model: Model, given: Params): Params {
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(model.params, k)) {
      const known = Object.keys(model.params);
      throw new UsageError(`unknown parameter "${quoteField(k, 64)}" for model ${quoteField(model.name, 80)} (${known.length ? `parameters: ${known.join(', ')}` : 'it has no parameters'})`);
    }
  }
  return resolveParams(model, given);
}

async function plan(input: JobInput): Promise<Planned[]> {
  const { search } = input;
  if (input.target === undefined) {
    if (Object.keys(search.params).length) throw new UsageError('--param needs a model');
    return builtinModels.flatMap((model) => model.variants.map((v) => ({ loaded: { model }, variant: v.name })));
  }
  const loaded = await loadModel(input.target);
  const variants = search.variant !== undefined ? [variantOf(loaded.model, search.variant).name] : loaded.model.variants.map((v) => v.name);
  checkedParams(loaded.model, search.params); // reject bad parameters before exploring anything
  if (variants.length === 0) throw new UsageError(`model ${quoteField(loaded.model.name, 80)} has no variants to explore`);
  return variants.map((variant) => ({ loaded, variant }));
}

export const keyOf = (model: string, variant: string) => `${model}/${variant}`;

/** Checks the checkpoint against the planned variants; returns how many it already finished. */
function checkResume(planned: readonly Planned[], resume: JobResume, post: (m: JobMessage) => void, search: SearchArgs): number {
  const first = planned[0]?.loaded;
  if (resume.model && first) {
    const { model, file } = first;
    if (model.name !== resume.model.name) throw new CheckpointError(`the checkpoint is of model "${quoteField(resume.model.name, 80)}", but the model given is "${quoteField(model.name, 80)}"`);
    if (resume.model.sha256 !== undefined && file && file.sha256 !== resume.model.sha256) {
      throw new CheckpointError(`model file ${quoteField(file.path)} changed since the checkpoint was written (sha256 ${resume.model.sha256.slice(0, 12)}… then, ${file.sha256.slice(0, 12)}… now): start the search again`);
    }
  }
  const done = resume.completed.length;
  resume.completed.forEach((r, i) => {
    const p = planned[i];
    if (!p || keyOf(p.loaded.model.name, p.variant) !== keyOf(r.model, r.variant)) {
      throw new CheckpointError(`the checkpoint's completed variant ${quoteField(keyOf(r.model, r.variant), 120)} is not variant ${i + 1} of this search (the model changed since?)`);
    }
  });
  if (resume.current) {
    const p = planned[done];
    const key = keyOf(resume.current.model, resume.current.variant);
    if (!p || keyOf(p.loaded.model.name, p.variant) !== key) throw new CheckpointError(`the checkpoint continues ${quoteField(key, 120)}, which is not the next variant of this search (the model changed since?)`);
    checkThreads(p, resume.current, search);
  }
  // Re-derive what the saved results claim from the model itself before reporting them.
  resume.completed.forEach((r, i) => post({ type: 'result', result: restored(planned[i]!, r, search) }));
  return done;
}

function checkThreads(p: Planned, current: CurrentVariant, search: SearchArgs): void {
  let threads: readonly string[];
  try {
    threads = p.loaded.model.build(p.variant, checkedParams(p.loaded.model, search.params)).threads.map((t) => t.name);
  } catch {
    return; // a build that throws is a model error the search reports; nothing to compare
  }
  if (threads.length !== current.threads.length || threads.some((t, i) => t !== current.threads[i])) {
    throw new CheckpointError(`the model changed since the checkpoint was written: its threads were ${quoteField(current.threads.join(', '), 120)}, now ${quoteField(threads.join(', '), 120)}`);
  }
  const top = maxThreadId(current.checkpoint.strategy, current.checkpoint.state);
  if (top >= threads.length) throw new CheckpointError(`the checkpoint's search state names thread ${top}, but the program has ${threads.length} threads`);
  checkPrefix(p, current, search);
}

/**
 * A saved DFS stack or DPOR node list is the prefix of the last execution: replaying it must be
 * possible, with the enabled sets it records. A forged position that passes every schema but
 * does not fit the program would otherwise make the search end early and say "holds".
 */
function checkPrefix(p: Planned, current: CurrentVariant, search: SearchArgs): void {
  const prefix = savedPrefix(current.checkpoint);
  if (prefix.length === 0) return;
  const bound = bindModel(p.loaded.model, p.variant, checkedParams(p.loaded.model, search.params), search.maxSteps);
  let enabled: readonly (readonly number[])[];
  try {
    enabled = replaySchedule(bound.make, prefix.map((n) => n.chosen), { maxSteps: Math.max(bound.maxSteps, prefix.length) }).enabled;
  } catch (e) {
    if (e instanceof ReplayDivergence) throw new CheckpointError(`the checkpoint's search position does not fit the model: ${e.message}`);
    throw e;
  }
  prefix.forEach((n, i) => {
    const real = enabled[i] ?? [];
    if (!n.fits(real)) throw new CheckpointError(`the checkpoint's search position does not fit the model: at step ${i + 1} it records threads ${n.recorded.join(', ')} as choices, but ${real.join(', ') || 'none'} can run`);
  });
}

interface PrefixStep {
  readonly chosen: number;
  readonly recorded: readonly number[];
  /** Whether the choices recorded here agree with the threads really enabled there. */
  fits(real: readonly number[]): boolean;
}

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((t, i) => t === b[i]);

function savedPrefix(cp: Checkpoint): PrefixStep[] {
  if (isStateful(cp.strategy)) {
    return parseState(statefulState, cp.state, cp.strategy).nodes.map((n) => ({ chosen: n.todo[n.index]!, recorded: n.enabled, fits: (real) => sameSet(n.enabled, real) }));
  }
  if (cp.strategy === 'dpor') {
    return parseState(dporState, cp.state, cp.strategy).nodes.map((n) => ({ chosen: n.chosen, recorded: n.enabled, fits: (real) => sameSet(n.enabled, real) }));
  }
  if (cp.strategy.startsWith('dfs')) {
    // A bound may have cut a node's options to the one thread that continues.
    return parseState(dfsState, cp.state, cp.strategy).stack.map((n) => ({
      chosen: n.options[n.index]!,
      recorded: n.options,
      fits: (real) => sameSet(n.options, real) || (n.options.length === 1 && n.options[0] === n.prev && real.includes(n.prev)),
    }));
  }
  return [];
}

function restored(p: Planned, r: SavedResult, search: SearchArgs): JobResult {
  const { model, file } = p.loaded;
  const params = checkedParams(model, search.params);
  if (JSON.stringify(Object.entries(params).sort()) !== JSON.stringify(Object.entries(r.params).sort())) {
    throw new CheckpointError(`the checkpoint's result for ${quoteField(keyOf(r.model, r.variant), 120)} has other parameters than its search`);
  }
  const expected = expectationOf(variantOf(model, r.variant), params);
  const result: ModelResult = { ...r, restoredSteps: r.restoredSteps ?? 0, params, expected, asExpected: false };
  return {
    ...result,
    asExpected: showsExpected(expected, result),
    stem: stemOf(model, r.variant, params),
    maxSteps: r.maxSteps,
    ...(r.minimiseMs === undefined ? {} : { minimiseMs: r.minimiseMs }),
    ...(file ? { modelFile: file } : {}),
  };
}

function stemOf(model: Model, variant: string, params: Params): string {
  const defaults = Object.fromEntries(Object.entries(model.params).map(([k, p]) => [k, p.default]));
  return traceStem(model.name, variant, params, defaults);
}

export async function runJob(input: JobInput, shouldStop: () => boolean, post: (m: JobMessage) => void): Promise<void> {
  try {
    await runPlanned(input, shouldStop, post);
  } finally {
    await closePool();
  }
}

async function runPlanned(input: JobInput, shouldStop: () => boolean, post: (m: JobMessage) => void): Promise<void> {
  const planned = await plan(input);
  const first = planned[0]?.loaded;
  if (first && input.target !== undefined) post({ type: 'loaded', model: first.model.name, ...(first.file ? { file: first.file } : {}) });
  const skip = input.resume ? checkResume(planned, input.resume, post, input.search) : 0;
  for (const p of planned.slice(skip)) {
    if (shouldStop()) {
      post({ type: 'interrupted' });
      return;
    }
    const resumeFrom = input.resume?.current && keyOf(input.resume.current.model, input.resume.current.variant) === keyOf(p.loaded.model.name, p.variant) ? input.resume.current.checkpoint : undefined;
    const split = input.parallel && !resumeFrom ? await exploreVariantSplit(p, input.search, input.parallel, shouldStop, post) : undefined;
    if (split && !('verdict' in split)) {
      post({ type: 'shard', part: split });
      continue;
    }
    const result = split ?? exploreVariant(p, input.search, resumeFrom, shouldStop, post);
    if (result.verdict === 'interrupted') {
      // A bounded search cannot resume mid-variant: its checkpoint restarts the variant.
      const current = result.checkpoint && input.search.strategy !== 'bounded' ? { model: result.model, variant: result.variant, threads: [...result.threads], checkpoint: result.checkpoint } : undefined;
      post({ type: 'interrupted', ...(current ? { current } : {}), partial: result });
      return;
    }
    post({ type: 'result', result });
  }
}

/** The engine options a variant's search runs under (the split search's jobs take the same). */
export function searchOptions(search: SearchArgs, bound: { readonly params: Params; readonly maxSteps: number }) {
  const timeLimitMs = search.timeLimitS === undefined ? undefined : search.timeLimitS * 1000;
  return {
    params: bound.params,
    strategy: search.strategy,
    preemptionBound: search.preemptionBound,
    maxExecutions: search.maxExecutions,
    maxSteps: bound.maxSteps,
    timeLimitMs,
    seed: search.seed,
    samples: search.samples,
    audit: search.audit !== false,
    cache: search.cache !== false,
    ...(search.cacheMb !== undefined ? { maxCacheBytes: search.cacheMb * 1024 * 1024 } : {}),
  };
}

/** One variant explored (and its counterexample minimised) on the calling thread. */
export function exploreVariant(p: Planned, search: SearchArgs, resume: Checkpoint | undefined, shouldStop: () => boolean, post: (m: JobMessage) => void): JobResult {
  const { model } = p.loaded;
  const { variant } = p;
  const key = keyOf(model.name, variant);
  post({ type: 'start', key });
  const bound = bindModel(model, variant, checkedParams(model, search.params), search.maxSteps);
  const r = explore(model, { variant, ...searchOptions(search, bound), resume, shouldStop, onProgress: (stats) => post({ type: 'progress', key, stats }) });
  return finishVariant(p, search, bound, r, shouldStop, post);
}

/** A variant's result, its counterexample minimised (after the search, whichever search it was). */
export function finishVariant(p: Planned, search: SearchArgs, bound: BoundModel, found: ModelResult, shouldStop: () => boolean, post: (m: JobMessage) => void): JobResult {
  const { model, file } = p.loaded;
  const { variant } = p;
  const key = keyOf(model.name, variant);
  const { params, maxSteps } = bound;
  const timeLimitMs = search.timeLimitS === undefined ? undefined : search.timeLimitS * 1000;
  let r = found;
  let minimiseMs: number | undefined;
  // A violation at step 0 (a build that throws) has nothing to shorten.
  if (r.violation && search.minimise && r.verdict === 'violated' && r.violation.schedule.length > 0) {
    // --time-limit bounds the whole variant: minimisation gets what exploring left over.
    const left = timeLimitMs === undefined ? undefined : Math.max(0, timeLimitMs - r.elapsedMs);
    post({ type: 'minimising', key, ...(left === undefined ? {} : { timeLeftMs: left }) });
    const t0 = performance.now();
    const onProgress = (s: Stats) => post({ type: 'heartbeat', key, stats: { ...s, elapsedMs: performance.now() - t0 } });
    const violation = minimise(bound.make, r.violation, { maxSteps, timeLimitMs: left, shouldStop, onProgress });
    minimiseMs = performance.now() - t0;
    r = { ...r, violation, elapsedMs: r.elapsedMs + minimiseMs };
  }
  return { ...r, stem: stemOf(model, variant, params), maxSteps, ...(minimiseMs === undefined ? {} : { minimiseMs }), ...(file ? { modelFile: file } : {}) };
}
