// Replays a trace file against the model it names, checking every step's label and the
// violation at the end; any mismatch is a divergence with its step number.
import { replaySchedule, type ReplayResult, ReplayDivergence } from '../engine/replay.js';
import { type Model, resolveParams, variantOf } from '../model.js';
import { type TraceFile, modelHash } from './format.js';

export interface TraceReplay extends ReplayResult {
  /** False when the model's shape changed since the trace was written (labels still matched). */
  readonly hashMatches: boolean;
}

export function replayTrace(model: Model, trace: TraceFile): TraceReplay {
  if (model.name !== trace.model) throw new ReplayDivergence(0, `model ${trace.model}`, `model ${model.name}`);
  const variant = variantOf(model, trace.variant);
  const params = resolveParams(model, trace.params);
  const result = replaySchedule(() => model.build(variant.name, params), trace.schedule, {
    expectedLabels: trace.steps.map((s) => s.label),
    maxSteps: Math.max(trace.schedule.length, model.maxSteps ?? 2000),
  });
  const renamed = trace.threads.findIndex((t, i) => result.threads[i] !== t);
  if (renamed >= 0 || trace.threads.length !== result.threads.length) {
    throw new ReplayDivergence(0, `threads ${trace.threads.join(', ')}`, `threads ${result.threads.join(', ')}`);
  }
  const n = trace.schedule.length;
  const got = result.failure;
  if (!got) throw new ReplayDivergence(n, `violation of ${trace.violation.invariant}`, 'no violation');
  if (got.invariant !== trace.violation.invariant) throw new ReplayDivergence(n, `violation of ${trace.violation.invariant}`, `violation of ${got.invariant}`);
  const hashMatches = modelHash(model.name, variant.name, params, result.threads) === trace.modelHash;
  return { ...result, hashMatches };
}
