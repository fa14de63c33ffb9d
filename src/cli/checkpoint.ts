// The checkpoint file `mmcheck explore` writes on Ctrl-C or SIGTERM. It is data from disk, so
// reading it trusts nothing: one schema (zod) for every field, the engine's own schemas for the
// strategy state, a fingerprint (mmcheck version, model, model file hash, the search) that
// refuses a checkpoint of anything else with the reason, and a checksum that refuses a damaged
// one. It holds no output paths and no code to load: where results go, and which model file to
// run, are said again on the command line that resumes it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { engineCheckpoint } from '../engine/checkpoint-schema.js';
import type { Checkpoint } from '../engine/explore.js';
import { STRATEGIES } from '../engine/explore.js';
import { CheckpointError } from '../engine/strategy.js';
import type { MemoryModel } from '../machine/tso/store-buffer.js';
import { count, memoryModel, modelFile, name, params, text, version, violationRecord } from '../schema/common.js';
import { validate } from '../schema/issues.js';
import { JsonInputError, parseJsonText, readTextFile } from '../schema/json.js';
import { quoteField } from '../schema/text.js';
import { VERSION } from '../schema/version.js';
import type { SearchArgs } from './args.js';
import { shardPart } from '../parallel/part-schema.js';
import type { ShardVariant } from '../parallel/shard.js';

export const CHECKPOINT_FORMAT = 'mmcheck-checkpoint';
/** 3: the machine hashes its own saved state (state-hash.ts), so the fingerprints a search over
 * states stored in a version-2 checkpoint are not those this build computes. */
export const CHECKPOINT_VERSION = 3;
/** A DPOR stack over a long model with every pending footprint is large, but not unbounded. */
export const CHECKPOINT_LIMITS = { maxChars: 256 * 1024 * 1024, maxDepth: 24 };

const search = z
  .object({
    variant: name.optional(),
    strategy: z.enum(STRATEGIES as [string, ...string[]]),
    preemptionBound: count.max(1000).optional(),
    maxExecutions: count.min(1).optional(),
    maxSteps: count.min(1).max(10_000_000).optional(),
    timeLimitS: count.min(1).max(10_000_000).optional(),
    seed: z.string().regex(/^[\w.:-]{1,64}$/, 'must be a seed'),
    samples: count.min(1).optional(),
    params,
    minimise: z.boolean(),
    audit: z.literal(false).optional(),
    cache: z.literal(false).optional(),
    cacheMb: count.min(8).max(1_048_576).optional(),
  })
  .strict();

const expectation = z.union([z.literal('holds'), z.object({ violates: name, or: z.array(name).max(100).readonly().optional() }).strict()]);

const savedViolation = violationRecord
  .refine((v) => v.trace.length === v.schedule.length && v.trace.every((s, i) => s.tid === v.schedule[i]), 'trace must follow the schedule');

/** A variant finished before the interruption, as reported then. */
export const savedResult = z
  .object({
    model: name,
    variant: name,
    params,
    expected: expectation,
    asExpected: z.boolean(),
    verdict: z.enum(['holds', 'violated', 'bounded']),
    strategy: name,
    executions: count,
    blocked: count,
    sleepBlocked: count,
    steps: count,
    restoredSteps: count.optional(),
    maxDepth: count,
    elapsedMs: z.number().nonnegative().finite(),
    minimiseMs: z.number().nonnegative().finite().optional(),
    cut: text.optional(),
    warnings: z.array(text).max(1000).optional(),
    threads: z.array(name).max(100_000),
    maxSteps: count.min(1),
    violation: savedViolation.optional(),
  })
  .strict()
  .refine((r) => (r.verdict === 'violated') === (r.violation !== undefined), 'a violation goes with verdict "violated", and only with it');

export type SavedResult = z.infer<typeof savedResult>;

/** Which model the search explores: a built-in, a model file (relative to the checkpoint), or
 * every built-in model. */
const modelRef = z.union([
  z.object({ builtin: name }).strict(),
  z.object({ name, file: modelFile }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);
export type ModelRef = z.infer<typeof modelRef>;

const current = z.object({ model: name, variant: name, threads: z.array(name).max(100_000), checkpoint: engineCheckpoint }).strict();
export type CurrentVariant = Omit<z.infer<typeof current>, 'checkpoint'> & { readonly checkpoint: Checkpoint };

const body = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(CHECKPOINT_VERSION),
    mmcheck: version,
    model: modelRef,
    search,
    /** The memory model of the machines whose model names none; absent (older checkpoints): 'sc'. */
    memoryModel: memoryModel.optional(),
    completed: z.array(savedResult).max(100_000),
    current: current.optional(),
    /** A split search (--workers): its worker count, and the interrupted variant's finished units. */
    parallel: z.object({ workers: count.min(1).max(1024), share: z.boolean().optional() }).strict().optional(),
    splitCurrent: shardPart.optional(),
  })
  .strict();

export interface CheckpointFile {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly mmcheck: string;
  readonly model: ModelRef;
  readonly search: SearchArgs;
  readonly memoryModel?: MemoryModel;
  readonly completed: readonly SavedResult[];
  readonly current?: CurrentVariant;
  readonly parallel?: { readonly workers: number; readonly share?: boolean };
  readonly splitCurrent?: ShardVariant;
}

const digestOf = (b: unknown) => createHash('sha256').update(JSON.stringify(b)).digest('hex');

/** The file's text: the body and, last, the sha256 of the body as written. */
export function checkpointText(file: Omit<CheckpointFile, 'format' | 'version' | 'mmcheck'>): string {
  const b = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, mmcheck: VERSION, ...file };
  return `${JSON.stringify({ ...b, digest: digestOf(b) })}\n`;
}

/** Reads and checks a checkpoint; every defect is a CheckpointError saying what is wrong. */
export function parseCheckpoint(json: string, where: string): CheckpointFile {
  const fail = (m: string) => new CheckpointError(`checkpoint ${quoteField(where)} ${m}`);
  let data: unknown;
  try {
    data = parseJsonText(json, 'its text', CHECKPOINT_LIMITS);
  } catch (e) {
    if (e instanceof JsonInputError) throw fail(`is unreadable: ${e.message}`);
    throw e;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fail('is not an mmcheck checkpoint (not a JSON object)');
  const { digest, ...rest } = data as Record<string, unknown>;
  if (rest.format !== CHECKPOINT_FORMAT) throw fail(`is not an mmcheck checkpoint (version ${CHECKPOINT_VERSION})`);
  if (rest.version !== CHECKPOINT_VERSION) throw fail(`has version ${quoteField(JSON.stringify(rest.version) ?? 'none', 20)}; this mmcheck reads version ${CHECKPOINT_VERSION}: start the search again`);
  if (rest.mmcheck !== VERSION) throw fail(`was written by mmcheck ${quoteField(String(rest.mmcheck), 40)}, this is ${VERSION}: a checkpoint continues only the same version's search; start it again`);
  const c = validate(body, rest, 'is malformed:', fail);
  checkConsistency(c, fail);
  // Last: a file that passes every check above but was edited or cut is still refused.
  if (typeof digest !== 'string' || digest !== digestOf(rest)) throw fail('is damaged: its contents do not match its checksum (edited, truncated or corrupted)');
  return c as CheckpointFile;
}

function checkConsistency(c: z.infer<typeof body>, fail: (m: string) => Error): void {
  const keys = new Set<string>();
  for (const r of c.completed) {
    const key = `${r.model}/${r.variant}`;
    if (keys.has(key)) throw fail(`lists ${quoteField(key, 80)} as completed twice`);
    keys.add(key);
    if (r.strategy.split('(')[0] !== c.search.strategy) {
      throw fail(`lists ${quoteField(key, 80)} explored with ${quoteField(r.strategy, 40)}, but the search uses ${c.search.strategy}`);
    }
  }
  if (c.current && keys.has(`${c.current.model}/${c.current.variant}`)) throw fail('continues a variant it also lists as completed');
  if (c.splitCurrent && (c.current || !c.parallel)) throw fail('holds a split variant\'s units without a split search, or beside a variant position');
  if (c.splitCurrent && keys.has(`${c.splitCurrent.model}/${c.splitCurrent.variant}`)) throw fail('continues a variant it also lists as completed');
  const own = 'builtin' in c.model ? c.model.builtin : 'name' in c.model ? c.model.name : undefined;
  for (const r of [...c.completed, ...(c.current ? [c.current] : [])]) {
    if (own !== undefined && r.model !== own) throw fail(`is of model ${quoteField(own, 80)} but holds a result of ${quoteField(r.model, 80)}`);
  }
  if (c.search.variant !== undefined) {
    for (const r of [...c.completed, ...(c.current ? [c.current] : [])]) {
      if (r.variant !== c.search.variant) throw fail(`explores variant ${quoteField(c.search.variant, 80)} but holds ${quoteField(r.variant, 80)}`);
    }
  }
}

export function readCheckpoint(file: string): CheckpointFile {
  let json: string;
  try {
    json = readTextFile(file, 'checkpoint', CHECKPOINT_LIMITS.maxChars);
  } catch (e) {
    if (e instanceof JsonInputError) throw new CheckpointError(e.message);
    throw e;
  }
  return parseCheckpoint(json, file);
}

/** The search a checkpoint saves, for the other files that carry one (a shard's part). */
export const searchArgsSchema = search;
