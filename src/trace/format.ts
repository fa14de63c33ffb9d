// The trace file: a versioned JSON counterexample that replays the bug, step by step.
// Version 2 carries everything replay needs (the step bound, the mmcheck version, and for a
// model file its path relative to the trace and the sha256 of its bytes, and the memory model the
// machines ran under — absent in older traces, which ran under SC); version 1 is still read.
// Parsing is one schema (zod) over JSON read within size and depth limits.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TraceStep, Violation } from '../engine/explore.js';
import type { MemoryModel } from '../machine/tso/store-buffer.js';
import type { Params } from '../model.js';
import { count, failureKind, memoryModel, modelFile, name, params, text, threadId, version } from '../schema/common.js';
import { validate } from '../schema/issues.js';
import { JsonInputError, parseJsonText } from '../schema/json.js';
import { VERSION } from '../schema/version.js';

export const TRACE_FORMAT = 'mmcheck-trace';
export const TRACE_VERSION = 2;
/** Traces are small (a counterexample is tens of steps): generous limits, still bounded. */
export const TRACE_LIMITS = { maxChars: 16 * 1024 * 1024, maxDepth: 16 };

const step = z.object({ thread: name, label: text, note: text.optional() }).strict();
const violation = z.object({ kind: failureKind, invariant: name, step: count, message: text }).strict();

const common = {
  format: z.literal(TRACE_FORMAT),
  model: name,
  variant: name,
  params,
  modelHash: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits'),
  strategy: name,
  threads: z.array(name).max(10_000),
  schedule: z.array(threadId).max(1_000_000),
  preemptions: count,
  violation,
  steps: z.array(step).max(1_000_000),
};

const v1 = z.object({ ...common, version: z.literal(1), modelPath: z.string().min(1).max(4096).optional() }).strict();
// memoryModel was added to version 2 as an optional field: absent (every older trace) is 'sc'.
const v2 = z.object({ ...common, version: z.literal(2), mmcheck: version, maxSteps: count.min(1), memoryModel: memoryModel.optional(), modelFile: modelFile.optional() }).strict();

export type TraceFileV1 = z.infer<typeof v1>;
export type TraceFileV2 = z.infer<typeof v2>;
export type TraceFile = TraceFileV1 | TraceFileV2;

export class TraceError extends Error {}

/** The memory model a trace's machines ran under (where the model names none): 'sc' unless it says. */
export function traceMemoryModel(t: TraceFile): MemoryModel {
  return t.version === 2 && t.memoryModel !== undefined ? t.memoryModel : 'sc';
}

/** Identifies the model's shape: name, variant, parameters and thread names. */
export function modelHash(model: string, variant: string, params: Params, threads: readonly string[]): string {
  const keys = Object.keys(params).sort();
  const json = JSON.stringify([model, variant, keys.map((k) => [k, params[k]]), threads]);
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

export interface TraceInfo {
  readonly model: string;
  /** The model file, relative to the directory the trace is written to, and its sha256. */
  readonly modelFile?: { readonly path: string; readonly sha256: string };
  readonly variant: string;
  readonly params: Params;
  readonly strategy: string;
  readonly threads: readonly string[];
  readonly maxSteps: number;
  /** The memory model of the run's machines whose model names none (--memory-model). */
  readonly memoryModel: MemoryModel;
}

export function makeTrace(info: TraceInfo, v: Violation): TraceFileV2 {
  return {
    format: TRACE_FORMAT,
    version: 2,
    mmcheck: VERSION,
    model: info.model,
    ...(info.modelFile ? { modelFile: { path: info.modelFile.path, sha256: info.modelFile.sha256 } } : {}),
    variant: info.variant,
    params: { ...info.params },
    maxSteps: info.maxSteps,
    memoryModel: info.memoryModel,
    modelHash: modelHash(info.model, info.variant, info.params, info.threads),
    strategy: info.strategy,
    threads: [...info.threads],
    schedule: [...v.schedule],
    preemptions: v.preemptions,
    violation: { kind: v.kind, invariant: v.invariant, step: v.schedule.length, message: v.message },
    steps: v.trace.map((s: TraceStep) => ({ thread: s.thread, label: s.label, ...(s.note ? { note: s.note } : {}) })),
  };
}

/** What a version-agnostic reader needs first: format and version, so the error names them. */
function checkHeader(data: unknown): 1 | 2 {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new TraceError('trace must be a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== TRACE_FORMAT) throw new TraceError(`not an mmcheck trace (format is ${headerValue(d.format)}, expected "${TRACE_FORMAT}")`);
  if (d.version !== 1 && d.version !== 2) throw new TraceError(`unsupported trace version ${headerValue(d.version)} (this mmcheck reads versions 1 and 2)`);
  return d.version;
}

/** A header field shown in an error: scalars as JSON (cut short), anything else by its type. */
function headerValue(x: unknown): string {
  if (x === undefined) return 'missing';
  if (x === null || typeof x !== 'object') return JSON.stringify(x).slice(0, 60);
  return Array.isArray(x) ? 'an array' : 'an object';
}

/** Consistency the schema cannot say field by field. */
function checkConsistency(t: TraceFile): void {
  if (t.steps.length !== t.schedule.length) throw new TraceError(`trace has ${t.schedule.length} scheduled steps but ${t.steps.length} step records`);
  t.schedule.forEach((tid, i) => {
    if (tid >= t.threads.length) throw new TraceError(`trace step ${i + 1} names thread ${tid}, but the trace has ${t.threads.length} threads`);
  });
  if (t.violation.step !== t.schedule.length) throw new TraceError(`trace violation is at step ${t.violation.step}, but the schedule has ${t.schedule.length} steps`);
  if (t.preemptions > t.schedule.length) throw new TraceError(`trace claims ${t.preemptions} preemptions in ${t.schedule.length} steps`);
  if (t.version === 2 && t.schedule.length > t.maxSteps) throw new TraceError(`trace has ${t.schedule.length} steps, more than its step bound ${t.maxSteps}`);
}

/** Parses and validates a trace; every defect is a TraceError naming the field. */
export function parseTrace(json: string): TraceFile {
  let data: unknown;
  try {
    data = parseJsonText(json, 'trace', TRACE_LIMITS);
  } catch (e) {
    if (e instanceof JsonInputError) throw new TraceError(e.message);
    throw e;
  }
  const version = checkHeader(data);
  const t: TraceFile = version === 1 ? validate(v1, data, 'trace', (m) => new TraceError(m)) : validate(v2, data, 'trace', (m) => new TraceError(m));
  checkConsistency(t);
  return t;
}
