// One line from a failed zod validation: the first problem, with the path to the field, so a
// damaged file is explained without a wall of text (and without echoing hostile values).
import type { ZodError, ZodType, ZodTypeDef } from 'zod';
import { quoteField } from './text.js';

export function firstIssue(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'is malformed';
  const where = issue.path.length ? `field "${quoteField(issue.path.join('.'), 80)}"` : 'top level';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key ${issue.keys.map((k) => `"${quoteField(k, 40)}"`).slice(0, 3).join(', ')}`;
  return `${where}: ${quoteField(issue.message, 200)}`;
}

/** Validates `data` against `schema`; on failure throws `fail(<what> <first issue>)`. */
export function validate<T>(schema: ZodType<T, ZodTypeDef, unknown>, data: unknown, what: string, fail: (message: string) => Error): T {
  const r = schema.safeParse(data);
  if (!r.success) throw fail(`${what} ${firstIssue(r.error)}`);
  return r.data;
}
