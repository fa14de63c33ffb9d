// The schema of a variant's finished units (shard.ts ShardVariant), read back from a shard
// file (merge) or a checkpoint (--resume of a split search): data from a file, checked whole.
import { z } from 'zod';
import { count, name, params, text, violationRecord } from '../schema/common.js';

const violation = violationRecord;

const cache = z.object({ states: count, bytes: count, mode: z.enum(['hash-compact', 'bitstate']), collisionProbability: z.number().min(0).max(1), revisits: count }).strict();

const result = z
  .object({
    verdict: z.enum(['holds', 'violated', 'bounded', 'interrupted']),
    strategy: name,
    executions: count,
    blocked: count,
    sleepBlocked: count,
    steps: count,
    restoredSteps: count,
    maxDepth: count,
    elapsedMs: z.number().nonnegative().finite(),
    cache: cache.optional(),
    stateless: text.optional(),
    violation: violation.optional(),
    cut: text.optional(),
    finalStates: z.array(text).max(10_000_000).optional(),
    warnings: z.array(text).max(1000).optional(),
    threads: z.array(name).max(100_000),
  })
  .strict()
  .refine((r) => (r.verdict === 'violated') === (r.violation !== undefined), 'a violation goes with verdict "violated", and only with it');

export const shardPart = z
  .object({
    model: name,
    variant: name,
    params,
    units: count,
    digest: z.string().regex(/^[0-9a-f]{32}$/),
    results: z
      .array(
        z
          .object({
            unit: count,
            result,
            // A unit's explored states (waves.ts), base64 of 12-byte triples; at most 2^27 states.
            states: z.string().max(1 << 30).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
          })
          .strict(),
      )
      .max(1_000_000),
  })
  .strict()
  .refine((p) => p.results.every((r) => r.unit < p.units), 'names a unit past the split');

