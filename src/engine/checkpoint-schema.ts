// Schemas for checkpoints: the driver's counters and each strategy's saved position. A
// checkpoint is data from a file: restore() parses it here first, so a damaged position (a
// negative counter, a DPOR node whose chosen thread was never enabled, a DFS stack whose
// preemption counts do not add up) is refused instead of silently exploring less.
import { z } from 'zod';
import { validate } from '../schema/issues.js';
import { count, threadId } from '../schema/common.js';
import { CheckpointError } from './strategy.js';

const footprint = z.array(z.object({ loc: z.string().max(10_000), write: z.boolean() }).strict()).max(100_000);
const threadSet = z.array(threadId).max(100_000);

/** Strictly increasing thread ids: how every strategy records an enabled set. */
const increasing = (ids: readonly number[]) => ids.every((t, i) => i === 0 || t > ids[i - 1]!);
const decreasing = (ids: readonly number[]) => ids.every((t, i) => i === 0 || t < ids[i - 1]!);
const unique = (ids: readonly number[]) => new Set(ids).size === ids.length;

export const dfsNode = z.object({ options: threadSet.min(1), index: count, preemptions: count, prev: threadId.nullable() }).strict();

export const dfsState = z
  .object({ started: z.boolean(), pruned: z.boolean(), stack: z.array(dfsNode).max(1_000_000) })
  .strict()
  .superRefine((s, ctx) => {
    if (s.stack.length > 0 && !s.started) ctx.addIssue({ code: 'custom', path: ['started'], message: 'must be true when the stack is not empty' });
    s.stack.forEach((n, d) => {
      const at = (m: string) => ctx.addIssue({ code: 'custom', path: ['stack', d], message: m });
      if (!increasing(n.options)) return at('options must be distinct thread ids in increasing order');
      if (n.index >= n.options.length) return at(`index ${n.index} is past its ${n.options.length} options`);
      const parent = s.stack[d - 1];
      // Each node's previous thread and preemption count follow from its parent's choice.
      const prev = parent ? parent.options[parent.index]! : null;
      const used = parent ? parent.preemptions + (parent.prev !== null && prev !== parent.prev && parent.options.includes(parent.prev) ? 1 : 0) : 0;
      if (n.prev !== prev) return at(`prev is ${n.prev}, but the choice before it was ${prev}`);
      if (n.preemptions !== used) return at(`preemptions is ${n.preemptions}, but the choices before it make ${used}`);
    });
  });

export const dporNode = z
  .object({
    enabled: threadSet.min(1),
    backtrack: threadSet,
    done: threadSet,
    sleep: z.array(z.tuple([threadId, footprint])).max(100_000),
    chosen: threadId,
    pending: z.array(z.tuple([threadId, footprint])).max(100_000),
  })
  .strict()
  .superRefine((n, ctx) => {
    const bad = (m: string) => ctx.addIssue({ code: 'custom', message: m });
    const enabled = new Set(n.enabled);
    if (!increasing(n.enabled)) return bad('enabled must be distinct thread ids in increasing order');
    if (!enabled.has(n.chosen)) return bad(`chosen thread ${n.chosen} is not in its enabled set`);
    for (const [field, ids] of [['backtrack', n.backtrack], ['done', n.done]] as const) {
      if (!unique(ids)) return bad(`${field} lists a thread twice`);
      const stray = ids.find((t) => !enabled.has(t));
      if (stray !== undefined) return bad(`${field} names thread ${stray}, which is not enabled there`);
    }
    // The chosen thread came from the backtrack set and is neither done nor asleep yet.
    if (!n.backtrack.includes(n.chosen)) return bad(`chosen thread ${n.chosen} is not in its backtrack set`);
    if (n.done.includes(n.chosen)) return bad(`chosen thread ${n.chosen} is already done`);
    const sleeping = n.sleep.map(([t]) => t);
    if (!unique(sleeping)) return bad('sleep lists a thread twice');
    if (sleeping.includes(n.chosen)) return bad(`chosen thread ${n.chosen} is asleep`);
    const pending = n.pending.map(([t]) => t);
    if (pending.length !== n.enabled.length || pending.some((t, i) => t !== n.enabled[i])) return bad('pending must give one footprint per enabled thread, in order');
  });

export const dporState = z
  .object({ started: z.boolean(), sleepBlocked: count, nodes: z.array(dporNode).max(1_000_000) })
  .strict()
  .refine((s) => s.started || s.nodes.length === 0, { message: 'started must be true when there are nodes', path: ['started'] });

export const statefulNode = z
  .object({
    enabled: threadSet.min(1),
    pending: z.array(z.tuple([threadId, footprint])).max(100_000),
    sleep: z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1),
    todo: threadSet.min(1),
    index: count,
    fp: z.tuple([count.max(2 ** 32 - 1), count.max(2 ** 32 - 1)]).nullable(),
  })
  .strict()
  .superRefine((n, ctx) => {
    const bad = (m: string) => ctx.addIssue({ code: 'custom', message: m });
    if (!increasing(n.enabled)) return bad('enabled must be distinct thread ids in increasing order');
    // Decreasing: the order the search explores them in (stateful.ts, explorationOrder); a
    // checkpoint from a build before it lists them increasing, and resumes as sound.
    if (!increasing(n.todo) && !decreasing(n.todo)) return bad('todo must be distinct thread ids in decreasing order (or increasing, as builds before session 9 saved them)');
    const stray = n.todo.find((t) => !n.enabled.includes(t));
    if (stray !== undefined) return bad(`todo names thread ${stray}, which is not enabled there`);
    if (n.index >= n.todo.length) return bad(`index ${n.index} is past its ${n.todo.length} threads to explore`);
    const pending = n.pending.map(([t]) => t);
    if (pending.length !== n.enabled.length || pending.some((t, i) => t !== n.enabled[i])) return bad('pending must give one footprint per enabled thread, in order');
  });

export const stateCache = z
  .object({
    mode: z.enum(['hash-compact', 'bitstate']),
    count: count,
    omission: z.number().min(0).max(1),
    // base64 of 32-bit words: up to 2^28 states (12 bytes each) or a 1 GiB bit array.
    words: z.string().max(2 ** 31).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
  })
  .strict();

export const statefulState = z
  .object({ started: z.boolean(), sleepBlocked: count, revisits: count, nodes: z.array(statefulNode).max(1_000_000), cache: stateCache })
  .strict()
  .refine((s) => s.started || s.nodes.length === 0, { message: 'started must be true when there are nodes', path: ['started'] });

const byte = z.number().int().min(0).max(255);
/** seedrandom's ARC4 state: two indices and a permutation of 0..255. */
export const arc4State = z
  .object({ i: byte, j: byte, S: z.array(byte).length(256) })
  .strict()
  .refine((s) => new Set(s.S).size === 256, { message: 'S must be a permutation of 0..255', path: ['S'] });

export const randomState = z.object({ runs: count, rng: arc4State }).strict();
export const pctState = z.object({ runs: count, maxLength: count.min(1), rng: arc4State }).strict();

export type DfsState = z.infer<typeof dfsState>;
export type DporState = z.infer<typeof dporState>;
export type RandomState = z.infer<typeof randomState>;
export type PctState = z.infer<typeof pctState>;

/** The driver's part of a checkpoint (explore.ts's Checkpoint), with the state still opaque. */
export const engineCheckpoint = z
  .object({
    strategy: z.string().regex(/^(dpor|dfs|random|pct|stateful|dfs\+cache|dfs\(preemptions<=\d{1,9}\))$/, 'must be a strategy name'),
    executions: count,
    blocked: count.optional(),
    steps: count,
    restoredSteps: count.optional(),
    maxDepth: count,
    elapsedMs: z.number().nonnegative('must not be negative').finite(),
    state: z.unknown(),
  })
  .strict()
  .refine((c) => c.state !== undefined, { message: 'is missing', path: ['state'] });

/** Parses a strategy's saved state; a mismatch is a CheckpointError naming the field. */
export function parseState<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, state: unknown, strategy: string): T {
  return validate(schema, state, `checkpoint state of ${strategy}`, (m) => new CheckpointError(m));
}

/** The largest thread id a saved state names, to check against the program's thread count. */
/** The names the search over states runs under (stateful.ts): with and without sleep sets. */
export const isStateful = (strategy: string): boolean => strategy === 'stateful' || strategy === 'dfs+cache';

export function maxThreadId(strategy: string, state: unknown): number {
  let max = -1;
  const see = (t: number | null) => {
    if (t !== null && t > max) max = t;
  };
  if (isStateful(strategy)) {
    const s = parseState(statefulState, state, strategy);
    for (const n of s.nodes) n.enabled.forEach(see);
  } else if (strategy === 'dpor') {
    const s = parseState(dporState, state, strategy);
    for (const n of s.nodes) n.enabled.forEach(see);
  } else if (strategy.startsWith('dfs')) {
    const s = parseState(dfsState, state, strategy);
    for (const n of s.stack) {
      n.options.forEach(see);
      see(n.prev);
    }
  }
  return max;
}
