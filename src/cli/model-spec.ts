// A model file is user code, but what it exports is checked like data before mmcheck relies on
// it: `variants: [null, 42]` is a clear error naming the field, not a crash deep inside.
import { z } from 'zod';
import { type Model, UsageError } from '../model.js';
import { count, name, paramName } from '../schema/common.js';
import { firstIssue } from '../schema/issues.js';
import { quoteField } from '../schema/text.js';

const int = z.number().int('must be a whole number').min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const paramSpec = z
  .object({ default: int, min: int, max: int, description: z.string().max(10_000).optional() })
  .refine((p) => p.min <= p.default && p.default <= p.max, 'default must lie in [min, max]');
const expectation = z.union([z.literal('holds'), z.object({ violates: name })]);
const variant = z.object({ name, description: z.string().max(10_000).optional(), expect: expectation });

const spec = z.object({
  name,
  title: z.string().max(10_000).optional(),
  source: z.string().max(10_000).optional(),
  params: z.record(paramName, paramSpec),
  variants: z.array(variant).min(1, 'must list at least one variant').max(10_000),
  invariants: z.array(z.object({ name, description: z.string().max(10_000).optional() })).max(10_000).optional(),
  maxSteps: count.min(1).max(10_000_000).optional(),
  build: z.custom<Model['build']>((x) => typeof x === 'function', 'must be a function'),
});

/** The model itself when its shape is sound; otherwise a UsageError naming the first defect. */
export function checkModelSpec(x: unknown, file: string): Model {
  const r = spec.safeParse(x);
  if (!r.success) throw new UsageError(`model in ${quoteField(file)} is malformed: ${firstIssue(r.error)}`);
  const names = new Set<string>();
  for (const v of r.data.variants) {
    if (names.has(v.name)) throw new UsageError(`model in ${quoteField(file)}: variant "${quoteField(v.name, 80)}" is declared twice`);
    names.add(v.name);
  }
  // The checked object is the module's own (build keeps its `this`), not zod's copy.
  return x as Model;
}
