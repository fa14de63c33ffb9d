// The trace file: a versioned JSON counterexample that replays the bug, step by step.
import { createHash } from 'node:crypto';
import type { TraceStep, Violation } from '../engine/explore.js';
import type { Params } from '../model.js';

export const TRACE_FORMAT = 'mmcheck-trace';
export const TRACE_VERSION = 1;

export interface TraceFile {
  readonly format: typeof TRACE_FORMAT;
  readonly version: typeof TRACE_VERSION;
  readonly model: string;
  /** Set when the model came from a file rather than the built-in set. */
  readonly modelPath?: string;
  readonly variant: string;
  readonly params: Params;
  readonly modelHash: string;
  readonly strategy: string;
  readonly threads: readonly string[];
  readonly schedule: readonly number[];
  readonly preemptions: number;
  readonly violation: { readonly kind: string; readonly invariant: string; readonly step: number; readonly message: string };
  readonly steps: readonly { readonly thread: string; readonly label: string; readonly note?: string }[];
}

export class TraceError extends Error {}

/** Identifies the model's shape: name, variant, parameters and thread names. */
export function modelHash(model: string, variant: string, params: Params, threads: readonly string[]): string {
  const keys = Object.keys(params).sort();
  const text = JSON.stringify([model, variant, keys.map((k) => [k, params[k]]), threads]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function makeTrace(
  info: { model: string; modelPath?: string; variant: string; params: Params; strategy: string; threads: readonly string[] },
  v: Violation,
): TraceFile {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    model: info.model,
    ...(info.modelPath ? { modelPath: info.modelPath } : {}),
    variant: info.variant,
    params: info.params,
    modelHash: modelHash(info.model, info.variant, info.params, info.threads),
    strategy: info.strategy,
    threads: info.threads,
    schedule: v.schedule,
    preemptions: v.preemptions,
    violation: { kind: v.kind, invariant: v.invariant, step: v.schedule.length, message: v.message },
    steps: v.trace.map((s: TraceStep) => ({ thread: s.thread, label: s.label, ...(s.note ? { note: s.note } : {}) })),
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/** Parses and validates a trace; every defect is a TraceError naming the field. */
export function parseTrace(text: string): TraceFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new TraceError(`trace is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObj(data)) throw new TraceError('trace must be a JSON object');
  if (data.format !== TRACE_FORMAT) throw new TraceError(`not an mmcheck trace (format is ${JSON.stringify(data.format)}, expected "${TRACE_FORMAT}")`);
  if (data.version !== TRACE_VERSION) throw new TraceError(`unsupported trace version ${JSON.stringify(data.version)} (this mmcheck reads version ${TRACE_VERSION})`);
  const need = (k: string, ok: (x: unknown) => boolean, what: string) => {
    if (!ok(data[k])) throw new TraceError(`trace field "${k}" must be ${what}`);
  };
  need('model', isStr, 'a string');
  need('variant', isStr, 'a string');
  need('modelHash', isStr, 'a string');
  need('strategy', isStr, 'a string');
  if (data.modelPath !== undefined) need('modelPath', isStr, 'a string');
  need('params', (x) => isObj(x) && Object.values(x).every(isInt), 'an object of integers');
  need('threads', (x) => Array.isArray(x) && x.every(isStr), 'an array of strings');
  need('schedule', (x) => Array.isArray(x) && x.every((t) => isInt(t) && t >= 0), 'an array of thread numbers');
  need('preemptions', isInt, 'an integer');
  need('violation', (x) => isObj(x) && isStr(x.kind) && isStr(x.invariant) && isInt(x.step) && isStr(x.message), 'an object {kind, invariant, step, message}');
  need('steps', (x) => Array.isArray(x) && x.every((s) => isObj(s) && isStr(s.thread) && isStr(s.label) && (s.note === undefined || isStr(s.note))), 'an array of {thread, label, note?}');
  const t = data as unknown as TraceFile;
  if (t.steps.length !== t.schedule.length) throw new TraceError(`trace has ${t.schedule.length} scheduled steps but ${t.steps.length} step records`);
  t.schedule.forEach((tid, i) => {
    if (tid >= t.threads.length) throw new TraceError(`trace step ${i + 1} names thread ${tid}, but the trace has ${t.threads.length} threads`);
  });
  return t;
}
