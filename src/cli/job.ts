// One `mmcheck explore` job: the models and variants to explore and how. It runs inside a
// worker thread (worker.ts) so the main thread stays free to handle Ctrl-C and to stop a model
// that never yields; everything it reports is plain data.
import { builtinModels } from '../../models/index.js';
import type { Checkpoint, Progress as Stats } from '../engine/explore.js';
import { explore, type ModelResult } from '../index.js';
import { type Model, UsageError, resolveParams, variantOf } from '../model.js';
import { minimise } from '../trace/minimise.js';
import type { ExploreArgs } from './args.js';
import { loadModel } from './load.js';

export interface JobResume {
  /** "model/variant" of the variants finished before the interruption. */
  readonly completed: readonly string[];
  readonly current?: { readonly key: string; readonly checkpoint: Checkpoint };
}

export interface JobResult extends ModelResult {
  readonly modelPath?: string;
}

export type JobMessage =
  | { readonly type: 'start'; readonly key: string }
  | { readonly type: 'progress'; readonly key: string; readonly stats: Stats }
  | { readonly type: 'minimising'; readonly key: string }
  | { readonly type: 'heartbeat'; readonly key: string }
  | { readonly type: 'result'; readonly result: JobResult }
  | { readonly type: 'interrupted'; readonly key: string; readonly checkpoint: Checkpoint; readonly partial: JobResult }
  | { readonly type: 'usage-error'; readonly message: string }
  | { readonly type: 'done' };

export async function runJob(args: ExploreArgs, resume: JobResume | undefined, shouldStop: () => boolean, post: (m: JobMessage) => void): Promise<void> {
  const targets: { model: Model; modelPath?: string; variants: string[] }[] = [];
  if (args.target === undefined) {
    if (Object.keys(args.params).length) throw new UsageError('--param needs a model');
    for (const model of builtinModels) targets.push({ model, variants: model.variants.map((v) => v.name) });
  } else {
    const { model, modelPath } = await loadModel(args.target);
    const variants = args.variant ? [variantOf(model, args.variant).name] : model.variants.map((v) => v.name);
    resolveParams(model, args.params); // reject bad parameters before exploring anything
    targets.push({ model, modelPath, variants });
  }
  for (const t of targets) {
    for (const variant of t.variants) {
      const key = `${t.model.name}/${variant}`;
      if (resume?.completed.includes(key)) continue;
      if (shouldStop()) return;
      post({ type: 'start', key });
      const maxSteps = args.maxSteps ?? t.model.maxSteps;
      let r = explore(t.model, {
        variant,
        params: args.params,
        strategy: args.strategy,
        preemptionBound: args.preemptionBound,
        maxExecutions: args.maxExecutions,
        maxSteps,
        timeLimitMs: args.timeLimitS === undefined ? undefined : args.timeLimitS * 1000,
        seed: args.seed,
        samples: args.samples,
        resume: resume?.current?.key === key ? resume.current.checkpoint : undefined,
        shouldStop,
        onProgress: (stats) => post({ type: 'progress', key, stats }),
      });
      if (r.violation && args.minimise) {
        const params = r.params;
        post({ type: 'minimising', key });
        const onProgress = () => post({ type: 'heartbeat', key });
        r = { ...r, violation: minimise(() => t.model.build(variant, params), r.violation, { maxSteps: maxSteps ?? 2000, onProgress }) };
      }
      const result: JobResult = { ...r, ...(t.modelPath ? { modelPath: t.modelPath } : {}) };
      if (r.verdict === 'interrupted' && r.checkpoint) {
        post({ type: 'interrupted', key, checkpoint: r.checkpoint, partial: result });
        return;
      }
      post({ type: 'result', result });
    }
  }
}
