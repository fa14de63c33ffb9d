// vitest matchers: `await expect(model('ptmigrate', 'delimbo')).toHold()` and
// `await expect(model('ptmigrate', 'no-delimbo')).toViolate('no-lost-dirty-bit')`.
// Importing this module (`import 'mmcheck/vitest'`) registers them.
import { expect } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { explore, type ModelExploreOptions, type ModelResult } from '../index.js';
import { type Model, UsageError } from '../model.js';
import { swimLane } from '../trace/render.js';
import { replaySchedule } from '../engine/replay.js';
import { bindModel } from '../model.js';

export interface ModelUnderTest {
  readonly model: Model;
  readonly options: ModelExploreOptions;
}

/** Names a model (built-in by name, or a Model object) and variant for the matchers. */
export function model(m: string | Model, variant?: string, options: Omit<ModelExploreOptions, 'variant'> = {}): ModelUnderTest {
  const found = typeof m === 'string' ? builtinModels.find((b) => b.name === m) : m;
  if (!found) throw new UsageError(`unknown model "${String(m)}" (models: ${builtinModels.map((b) => b.name).join(', ')})`);
  return { model: found, options: { ...options, variant } };
}

function isModelUnderTest(x: unknown): x is ModelUnderTest {
  return typeof x === 'object' && x !== null && 'model' in x && 'options' in x;
}

function describeResult(r: ModelResult, m: Model): string {
  const head = `${r.model}/${r.variant}: ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''} after ${r.executions} executions`;
  if (!r.violation) return r.cut ? `${head}; not exhaustive: ${r.cut}` : head;
  const bound = bindModel(m, r.variant, r.params);
  const replay = replaySchedule(bound.make, r.violation.schedule, { maxSteps: Math.max(bound.maxSteps, r.violation.schedule.length) });
  return `${head}\n${swimLane(replay.threads, replay.trace, replay.snapshots, replay.failure)}`;
}

export const mmcheckMatchers = {
  toHold(received: unknown) {
    if (!isModelUnderTest(received)) throw new TypeError('toHold() expects model(name, variant)');
    const r = explore(received.model, received.options);
    const pass = r.verdict === 'holds';
    return { pass, message: () => (pass ? `expected a violation, but it holds: ${describeResult(r, received.model)}` : `expected it to hold exhaustively, got ${describeResult(r, received.model)}`) };
  },
  toViolate(received: unknown, invariant: string) {
    if (!isModelUnderTest(received)) throw new TypeError('toViolate() expects model(name, variant)');
    const r = explore(received.model, received.options);
    const pass = r.verdict === 'violated' && r.violation?.invariant === invariant;
    return { pass, message: () => (pass ? `expected no violation of ${invariant}, got ${describeResult(r, received.model)}` : `expected a violation of ${invariant}, got ${describeResult(r, received.model)}`) };
  },
};

expect.extend(mmcheckMatchers);

declare module 'vitest' {
  // Declaration merging requires vitest's own type-parameter default, which is `any`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> {
    toHold(): T;
    toViolate(invariant: string): T;
  }
}
