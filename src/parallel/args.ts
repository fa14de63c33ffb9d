// `--workers N|auto` and `--shard K/N` of `mmcheck explore` (kept here so args.ts changes by a
// line). Either one turns on the split search; the worker count never changes its results.
import { UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';
import { parseShard } from './shard.js';
import { defaultWorkers, type ParallelInput } from './variant.js';

export type { ParallelInput } from './variant.js';

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parallelArgs(values: Values, strategy: string, resume: string | undefined): { parallel?: ParallelInput } {
  const w = values.workers;
  const s = values.shard;
  const noShare = values['no-share-cache'] === true;
  if (w === undefined && s === undefined) {
    if (noShare) throw new UsageError('--no-share-cache goes with --workers: only a split search has jobs to share states between');
    return {};
  }
  if (resume !== undefined) throw new UsageError("--resume continues the checkpoint's search as it was: --workers and --shard cannot change it");
  const what = s !== undefined ? '--shard' : '--workers';
  if (strategy !== 'dpor' && strategy !== 'dfs') throw new UsageError(`${what} splits an exhaustive search: --strategy dpor or dfs, got ${strategy}`);
  for (const f of ['preemption-bound', 'max-executions']) if (values[f] !== undefined) throw new UsageError(`${what} cannot split a search with --${f} (it counts what ran before): leave one of them out`);
  let workers = defaultWorkers();
  if (typeof w === 'string' && w !== 'auto') {
    if (!/^\d{1,4}$/.test(w) || Number(w) < 1 || Number(w) > 1024) throw new UsageError(`--workers takes a whole number from 1 to 1024, or auto, got "${quoteField(w, 40)}"`);
    workers = Number(w);
  }
  const shard = typeof s === 'string' ? parseShard(s) : undefined;
  if (typeof s === 'string' && !shard) throw new UsageError(`--shard takes K/N with 1 ≤ K ≤ N (--shard 2/3), got "${quoteField(s, 40)}"`);
  if (shard && noShare) throw new UsageError('--shard never shares states between jobs (other machines explore them): leave out --no-share-cache');
  return { parallel: { workers, ...(shard ? { shard } : {}), ...(noShare ? { share: false } : {}) } };
}
