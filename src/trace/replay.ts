// Replays a trace file against the model it names, checking every step's label, the number of
// preemptions it claims, and the violation at the end; any mismatch is a divergence with its
// step number. The step bound is the trace's own (version 2), so a step-bound trace replays, and
// so is the memory model: machines whose model names none are built under the one the trace
// recorded ('sc' for a trace that records none), whatever this process's default is.
import { countPreemptions } from '../engine/dfs.js';
import { errText } from '../engine/execution.js';
import { replaySchedule, type ReplayResult, ReplayDivergence } from '../engine/replay.js';
import { DEFAULT_MAX_STEPS } from '../engine/results.js';
import { type MemoryModel, defaultMemoryModel, setDefaultMemoryModel } from '../machine/tso/store-buffer.js';
import { type Model, type Params, UsageError, bindModel, resolveParams } from '../model.js';
import { quoteField } from '../schema/text.js';
import { type TraceFile, TraceError, modelHash, traceMemoryModel } from './format.js';

export interface TraceReplay extends ReplayResult {
  /** False when the model's shape changed since the trace was written (labels still matched). */
  readonly hashMatches: boolean;
}

/** The trace's parameters, refusing any name the model does not itself declare. */
function traceParams(model: Model, given: Params): Params {
  for (const k of Object.keys(given)) {
    // `toString` is "in" every object: only the model's own parameters count.
    if (!Object.hasOwn(model.params, k)) throw new UsageError(`trace names parameter "${quoteField(k, 64)}", which model ${model.name} does not have`);
  }
  return resolveParams(model, given);
}

/** The step bound replay runs under: the one exploring used (version 2) or the old guess. */
export function traceMaxSteps(model: Model, trace: TraceFile): number {
  return trace.version === 2 ? trace.maxSteps : Math.max(trace.schedule.length, model.maxSteps ?? DEFAULT_MAX_STEPS);
}

export function replayTrace(model: Model, trace: TraceFile): TraceReplay {
  return underMemoryModel(traceMemoryModel(trace), () => replayUnder(model, trace));
}

/** Runs `f` with `m` as the default memory model of new machines, and puts the default back. */
function underMemoryModel<T>(m: MemoryModel, f: () => T): T {
  const before = defaultMemoryModel();
  setDefaultMemoryModel(m);
  try {
    return f();
  } finally {
    setDefaultMemoryModel(before);
  }
}

function replayUnder(model: Model, trace: TraceFile): TraceReplay {
  if (model.name !== trace.model) throw new ReplayDivergence(0, `model "${quoteField(trace.model)}"`, `model "${quoteField(model.name)}"`);
  const { variant, params, make, maxSteps } = bindModel(model, trace.variant, traceParams(model, trace.params), traceMaxSteps(model, trace));
  const built = tryBuild(make);
  if (built !== null) return buildFailed(model, trace, variant.name, params, built);
  const result = replaySchedule(make, trace.schedule, { expectedLabels: trace.steps.map((s) => s.label), maxSteps });
  const renamed = trace.threads.findIndex((t, i) => result.threads[i] !== t);
  if (renamed >= 0 || trace.threads.length !== result.threads.length) {
    throw new ReplayDivergence(0, `threads ${quoteField(trace.threads.join(', '))}`, `threads ${quoteField(result.threads.join(', '))}`);
  }
  const n = trace.schedule.length;
  const got = result.failure;
  if (!got) throw new ReplayDivergence(n, `violation of ${quoteField(trace.violation.invariant)}`, result.blocked !== null ? `a blocked execution (${quoteField(result.blocked)})` : 'no violation');
  if (got.invariant !== trace.violation.invariant) throw new ReplayDivergence(n, `violation of ${quoteField(trace.violation.invariant)}`, `violation of ${got.invariant}`);
  const preemptions = countPreemptions(trace.schedule, result.enabled);
  if (preemptions !== trace.preemptions) throw new TraceError(`trace claims ${trace.preemptions} preemptions, but its schedule has ${preemptions}`);
  const hashMatches = modelHash(model.name, variant.name, params, result.threads) === trace.modelHash;
  return { ...result, hashMatches };
}

/** Why building the program threw, or null when it builds. */
function tryBuild(make: () => unknown): string | null {
  try {
    make();
    return null;
  } catch (e) {
    return errText(e);
  }
}

/** A model whose build throws replays only a trace of exactly that: a model error at step 0. */
function buildFailed(model: Model, trace: TraceFile, variant: string, params: Params, why: string): TraceReplay {
  const message = `building the model threw: ${why}`;
  if (trace.violation.invariant !== 'model-error' || trace.schedule.length > 0) throw new ReplayDivergence(0, 'the model to build', quoteField(message));
  const hashMatches = modelHash(model.name, variant, params, []) === trace.modelHash;
  return { failure: { kind: 'error', invariant: 'model-error', message }, blocked: null, trace: [], snapshots: [], threads: [], enabled: [], hashMatches };
}
