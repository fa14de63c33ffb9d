// One variant under the split search, for the CLI (job.ts): split, run the jobs (on this thread
// for one worker, else on the pool), then merge and minimise — or, for a shard, hand back the
// results of its units; for `mmcheck merge`, take every unit's result from the shard files.
import { availableParallelism } from 'node:os';
import type { ExploreResult } from '../engine/explore.js';
import { showsExpected, type ModelResult } from '../index.js';
import { UsageError, bindModel } from '../model.js';
import { CheckpointError } from '../engine/strategy.js';
import { type JobMessage, type Planned, checkedParams, finishVariant, keyOf, searchOptions, type JobResult } from '../cli/job.js';
import type { SearchArgs } from '../cli/args.js';
import { jobOptions, splitFor } from './explore-split.js';
import { mergeUnits, neededUnits } from './merge.js';
import { runPool } from './pool.js';
import { owns, type ShardSpec, type ShardVariant, splitDigest } from './shard.js';
import { exploreSubtree } from './subtree.js';
import { ExploredStates, wavesOf } from './waves.js';

/** How `--workers`, `--shard` and `mmcheck merge` ask a job to run. */
export interface ParallelInput {
  readonly workers: number;
  /** Jobs look up the states earlier waves explored (waves.ts); false (--no-share-cache, and
   * always for a shard): each job its own cache. Default true. */
  readonly share?: boolean;
  readonly maxMemoryMb?: number;
  readonly shard?: ShardSpec;
  /** `mmcheck merge`: every variant's units, read from the shard files, keyed model/variant. */
  readonly merged?: Readonly<Record<string, ShardVariant>>;
  /** With `merged`, of a model file: the sha256 the shards' model file had. */
  readonly sha256?: string;
  /** `--resume` of a split search: the interrupted variant's finished units, keyed model/variant. */
  readonly resumed?: Readonly<Record<string, ShardVariant>>;
}

export const defaultWorkers = (): number => availableParallelism();

/** The variant's result (merged), or its shard's part; undefined: the search is not split. */
export async function exploreVariantSplit(p: Planned, search: SearchArgs, par: ParallelInput, shouldStop: () => boolean, post: (m: JobMessage) => void): Promise<JobResult | ShardVariant | undefined> {
  const { model } = p.loaded;
  const { variant } = p;
  const key = keyOf(model.name, variant);
  const bound = bindModel(model, variant, checkedParams(model, search.params), search.maxSteps);
  const options = { ...searchOptions(search, bound), shouldStop };
  const split = splitFor(bound.make, options);
  if (!split) return undefined;
  post({ type: 'start', key });
  const t0 = performance.now();
  // --time-limit bounds the whole variant: each job gets what is left, none starts after it.
  const limit = options.timeLimitMs;
  const left = (): number | undefined => (limit === undefined ? undefined : limit - (performance.now() - t0));
  const timedOut = () => (left() ?? 1) <= 0;
  const stats = (results: readonly (ExploreResult | undefined)[]) => {
    let executions = 0;
    let steps = 0;
    for (const r of results) if (r) ((executions += r.executions + r.blocked), (steps += r.steps));
    return { executions, steps, elapsedMs: performance.now() - t0 };
  };
  const jobs = split.units.filter((u, i) => 'job' in u && (!par.shard || owns(par.shard, i))).length;
  let results: (ExploreResult | undefined)[] = [];
  let states: (Uint32Array | undefined)[] = [];
  const share = sharing(par);
  // The shared table lives beside the jobs' own caches: it takes a share of their budget.
  const sharedBytes = options.maxCacheBytes;
  if (par.merged && par.sha256 !== undefined && p.loaded.file && p.loaded.file.sha256 !== par.sha256) {
    throw new UsageError(`model file ${p.loaded.file.path} changed since the shards ran (sha256 ${par.sha256.slice(0, 12)}… then, ${p.loaded.file.sha256.slice(0, 12)}… now)`);
  }
  const done = par.resumed?.[key];
  if (done) ({ results, states } = finished(done, key, split));
  if (par.merged) results = fromShards(par.merged[key], key, split);
  else if (par.workers <= 1 || jobs <= 1) {
    let ran = 0;
    const explored = new ExploredStates(sharedBytes);
    run: for (const wave of wavesOf(split, share)) {
      for (const i of wave) {
        if (results[i] || (par.shard && !owns(par.shard, i))) continue;
        if (i >= neededUnits(split, results) || shouldStop() || timedOut()) break run;
        const u = split.units[i]!;
        if (!('job' in u)) continue;
        const before = stats(results);
        const pool = { workers: 1, busy: 1, jobsLeft: jobs - ran };
        const rest = left();
        const r = exploreSubtree(bound.make, u.job, {
          ...jobOptions(options),
          ...(rest === undefined ? {} : { timeLimitMs: rest }),
          explored: explored.table,
          onProgress: (s) => post({ type: 'progress', key, stats: { ...s, executions: before.executions + s.executions, steps: before.steps + s.steps, elapsedMs: performance.now() - t0 }, pool }),
        });
        results[i] = r.result;
        if (r.states) states[i] = r.states;
        ran++;
      }
      for (const i of wave) if (states[i]) explored.add(states[i]!);
    }
  } else {
    const stop = new SharedArrayBuffer(4);
    const flag = new Int32Array(stop);
    let jobsLeft = jobs;
    let running = 0;
    const beat = setInterval(() => {
      if (shouldStop()) Atomics.store(flag, 0, 1);
      post({ type: 'progress', key, stats: stats(results), pool: { workers: par.workers, busy: running, jobsLeft } });
    }, 250);
    try {
      ({ results, states } = await runPool(split, {
        workers: par.workers,
        source: p.loaded.file?.path ?? model.name,
        variant,
        params: bound.params,
        maxSteps: bound.maxSteps,
        options: jobOptions({ ...options, shouldStop: undefined }),
        left,
        owned: (i: number) => !results[i] && (!par.shard || owns(par.shard, i)),
        done: results,
        doneStates: states,
        share,
        ...(sharedBytes === undefined ? {} : { maxSharedBytes: sharedBytes }),
        stop,
        ...(par.maxMemoryMb ? { maxMemoryMb: par.maxMemoryMb } : {}),
        onUpdate: (l, rs, busy) => ((jobsLeft = l), (running = busy), (results = [...rs])),
      }));
    } finally {
      clearInterval(beat);
    }
  }
  // Finished units only: an interrupted job is explored again from its start.
  // A checkpoint keeps the states each finished unit explored, for the waves still to run; a
  // shard shares none.
  const part = (): ShardVariant => ({
    model: model.name,
    variant,
    params: { ...bound.params },
    units: split.units.length,
    digest: splitDigest(split),
    results: results.flatMap((r, unit) => (r && r.verdict !== 'interrupted' ? [{ unit, result: r, ...(share && states[unit] ? { states: encodeStates(states[unit]!) } : {}) }] : [])),
  });
  if (par.shard) return part();
  const cut = limit !== undefined && timedOut() ? `time limit ${Math.round(limit / 1000)} s` : undefined;
  const r = mergeUnits(split, results, { ...(cut ? { cut } : {}), threads: bound.make().threads.map((t) => t.name), elapsedMs: performance.now() - t0 });
  if (r.verdict === 'interrupted') post({ type: 'split-done', part: part() });
  const found: ModelResult = { ...r, model: model.name, variant: bound.variant.name, params: bound.params, expected: bound.variant.expect, asExpected: showsExpected(bound.variant.expect, r) };
  return finishVariant(p, search, bound, found, shouldStop, post);
}

/** Whether this run's jobs share what they explored (waves.ts): never across shards. */
const sharing = (par: ParallelInput): boolean => par.shard === undefined && par.share !== false;

/** The units a checkpoint says were finished, and the states they explored, checked against this split. */
function finished(part: ShardVariant, key: string, split: ReturnType<typeof splitFor> & object): { results: (ExploreResult | undefined)[]; states: (Uint32Array | undefined)[] } {
  if (part.units !== split.units.length || part.digest !== splitDigest(split)) throw new CheckpointError(`the checkpoint's units of ${key} are of another split (the model changed since?)`);
  const results: (ExploreResult | undefined)[] = [];
  const states: (Uint32Array | undefined)[] = [];
  for (const { unit, result, states: s } of part.results) {
    results[unit] = result;
    if (s !== undefined) states[unit] = decodeStates(s, `the checkpoint's unit ${unit + 1} of ${key}`);
  }
  return { results, states };
}

/** A unit's explored states in a checkpoint: base64 of the (lo, hi, sleep) triples. */
function encodeStates(words: Uint32Array): string {
  return Buffer.from(words.buffer, words.byteOffset, words.byteLength).toString('base64');
}

function decodeStates(text: string, what: string): Uint32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 12 !== 0) throw new CheckpointError(`${what}: its states are not whole (fingerprint, sleep set) triples`);
  const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  for (let j = 0; j < words.length; j += 3) if (words[j] === 0 && words[j + 1] === 0) throw new CheckpointError(`${what}: its states hold the empty fingerprint 0:0`);
  return words;
}

/** The results of every unit, from the shards' parts; a unit the result needs but no shard ran is an error. */
function fromShards(part: ShardVariant | undefined, key: string, split: ReturnType<typeof splitFor> & object): (ExploreResult | undefined)[] {
  if (!part) throw new UsageError(`the shards hold no results for ${key}`);
  if (part.units !== split.units.length || part.digest !== splitDigest(split)) {
    throw new UsageError(`the shards of ${key} were split into ${part.units} units (digest ${part.digest.slice(0, 12)}), this model splits into ${split.units.length} (${splitDigest(split).slice(0, 12)}): the model or mmcheck changed since`);
  }
  const results: (ExploreResult | undefined)[] = [];
  for (const { unit, result } of part.results) results[unit] = result;
  const need = neededUnits(split, results);
  for (let i = 0; i < need; i++) {
    if ('job' in split.units[i]! && !results[i]) throw new UsageError(`no shard finished unit ${i + 1} of ${key} (a shard interrupted or killed? run it again)`);
  }
  return results;
}
