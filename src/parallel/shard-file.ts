// The shard file: what `mmcheck explore --shard K/N` prints and `mmcheck merge` reads. Data
// from a file, validated (zod) before anything is merged; every defect is one line, exit 2.
import { z } from 'zod';
import type { SearchArgs } from '../cli/args.js';
import { searchArgsSchema } from '../cli/checkpoint.js';
import type { JobInput, JobMessage } from '../cli/job.js';
import { UsageError } from '../model.js';
import { count, memoryModel, name, sha256 } from '../schema/common.js';
import type { MemoryModel } from '../machine/index.js';
import { shardPart } from './part-schema.js';
import { validate } from '../schema/issues.js';
import { parseJsonText, readTextFile } from '../schema/json.js';
import { quoteField } from '../schema/text.js';
import { VERSION } from '../schema/version.js';
import type { ShardSpec, ShardVariant } from './shard.js';

export const SHARD_FORMAT = 'mmcheck-shard';
export const SHARD_VERSION = 1;
const LIMITS = { maxChars: 256 * 1024 * 1024, maxDepth: 24 };

/** The model a shard explored, as merge must load it again. */
const target = z.union([z.object({ all: z.literal(true) }).strict(), z.object({ builtin: name }).strict(), z.object({ file: z.string().min(1).max(4096), sha256 }).strict()]);
type Target = z.infer<typeof target>;

const shardFile = z
  .object({
    format: z.literal(SHARD_FORMAT),
    version: z.literal(SHARD_VERSION),
    mmcheck: z.string(),
    target,
    search: searchArgsSchema,
    memoryModel,
    shard: z.object({ k: count.min(1), n: count.min(1) }).strict().refine((s) => s.k <= s.n, 'k must be at most n'),
    variants: z.array(shardPart).max(100_000),
  })
  .strict();

type ShardFile = z.infer<typeof shardFile>;

export function shardDocument(job: JobInput, shard: ShardSpec, loaded: Extract<JobMessage, { type: 'loaded' }> | undefined, parts: readonly ShardVariant[], memoryModel: MemoryModel) {
  const t: Target = job.target === undefined ? { all: true } : loaded?.file ? { file: job.target, sha256: loaded.file.sha256 } : { builtin: loaded?.model ?? job.target };
  return { format: SHARD_FORMAT, version: SHARD_VERSION, mmcheck: VERSION, target: t, search: job.search, memoryModel, shard, variants: parts };
}

export interface MergedShards {
  /** What to load: undefined for every built-in model, else a name or the model file. */
  readonly target?: string;
  readonly sha256?: string;
  readonly search: SearchArgs;
  /** The memory model the shards ran under (merge minimises under it too). */
  readonly memoryModel: MemoryModel;
  readonly shards: number;
  readonly parts: Readonly<Record<string, ShardVariant>>;
}

/** Reads the shard files and checks they are the shards 1..N of one search, each once. */
export function readShards(files: readonly string[]): MergedShards {
  const read = files.map((f) => {
    const what = `shard file ${quoteField(f)}`;
    const doc = validate(shardFile, parseJsonText(readTextFile(f, what, LIMITS.maxChars), what, LIMITS), what, (m) => new UsageError(m));
    if (doc.mmcheck !== VERSION) throw new UsageError(`${what} was written by mmcheck ${quoteField(doc.mmcheck, 40)}, this is ${VERSION}: run every shard with one version`);
    return { f, doc };
  });
  const first = read[0]!;
  const same = (a: ShardFile, b: ShardFile) => JSON.stringify([a.target, a.search, a.memoryModel, a.shard.n]) === JSON.stringify([b.target, b.search, b.memoryModel, b.shard.n]);
  for (const r of read) {
    if (!same(first.doc, r.doc)) throw new UsageError(`${quoteField(r.f)} is a shard of another search than ${quoteField(first.f)} (model, variant, parameters, strategy, memory model and shard count must all be the same)`);
  }
  const n = first.doc.shard.n;
  const byK = new Map<number, string>();
  for (const r of read) {
    const other = byK.get(r.doc.shard.k);
    if (other !== undefined) throw new UsageError(`${quoteField(other)} and ${quoteField(r.f)} are both shard ${r.doc.shard.k}/${n}: each shard once`);
    byK.set(r.doc.shard.k, r.f);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !byK.has(k));
  if (missing.length) throw new UsageError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')} missing: merge needs all ${n}`);
  const parts: Record<string, ShardVariant> = Object.create(null) as Record<string, ShardVariant>;
  for (const r of read) {
    for (const p of r.doc.variants) {
      const key = `${p.model}/${p.variant}`;
      const have = parts[key];
      if (have && (have.units !== p.units || have.digest !== p.digest || JSON.stringify(have.params) !== JSON.stringify(p.params))) {
        throw new UsageError(`the shards disagree on how ${quoteField(key, 120)} splits (the model changed between shards?)`);
      }
      const wrong = p.results.find((x) => x.unit % n !== r.doc.shard.k - 1);
      if (wrong) throw new UsageError(`${quoteField(r.f)} holds unit ${wrong.unit + 1} of ${quoteField(key, 120)}, which is not shard ${r.doc.shard.k}/${n}'s`);
      parts[key] = { ...p, results: [...(have?.results ?? []), ...p.results] };
    }
  }
  const t = first.doc.target;
  return { ...('all' in t ? {} : 'builtin' in t ? { target: t.builtin } : { target: t.file, sha256: t.sha256 }), search: first.doc.search as SearchArgs, memoryModel: first.doc.memoryModel, shards: n, parts };
}
