// Building blocks shared by the trace and checkpoint schemas: bounded strings and counts, so a
// hostile file cannot make a validated value absurd (a negative counter, a 100 MB name).
import { z } from 'zod';

export const count = z.number().int('must be a whole number').nonnegative('must not be negative').max(Number.MAX_SAFE_INTEGER);
export const threadId = z.number().int('must be a thread number').nonnegative('must be a thread number (>= 0)').max(100_000);
export const name = z.string().min(1, 'must not be empty').max(1000, 'is longer than 1000 characters');
export const text = z.string().max(100_000, 'is longer than 100000 characters');
export const paramName = z.string().regex(/^[A-Za-z][\w-]{0,63}$/, 'must be a parameter name');
export const params = z.record(paramName, z.number().int('must be a whole number').min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER));
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 hex digits)');
export const version = z.string().regex(/^\d+\.\d+\.\d+[\w.+-]{0,40}$/, 'must be an mmcheck version');
/** A model file named relative to the trace or checkpoint that refers to it. */
export const modelFile = z.object({ path: z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'must be a path'), sha256 }).strict();
export const failureKind = z.enum(['invariant', 'deadlock', 'step-bound', 'error']);
/** The memory model of the machines whose model names none (absent in older files: 'sc'). */
export const memoryModel = z.enum(['sc', 'tso']);

/** A violation as a result reports it (checkpoints, shard files): schedule and its trace. */
export const violationRecord = z
  .object({
    kind: failureKind,
    invariant: name,
    message: text,
    schedule: z.array(threadId).max(1_000_000),
    trace: z.array(z.object({ tid: threadId, thread: name, label: text, note: text.optional() }).strict()).max(1_000_000),
    preemptions: count,
  })
  .strict();
