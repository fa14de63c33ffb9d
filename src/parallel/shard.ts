// What a shard (`mmcheck explore --shard K/N`) writes and `mmcheck merge` reads: per variant,
// the results of the units the shard owns (unit i belongs to shard (i mod N) + 1), with what
// identifies the split (its unit count and a digest of the units' schedules) so that parts of
// different searches, or of a changed model, are never merged.
import { createHash } from 'node:crypto';
import type { ExploreResult } from '../engine/explore.js';
import type { Split } from './split.js';

export interface ShardSpec {
  readonly k: number;
  readonly n: number;
}

export interface ShardVariant {
  readonly model: string;
  readonly variant: string;
  readonly params: Readonly<Record<string, number>>;
  readonly units: number;
  readonly digest: string;
  /** `states` (a checkpoint of a run that shares them, waves.ts): base64 of the unit's explored
   * states as (lo, hi, sleep) 32-bit triples. */
  readonly results: readonly { readonly unit: number; readonly result: ExploreResult; readonly states?: string }[];
}

/** Whether unit `i` is shard `s`'s. */
export const owns = (s: ShardSpec, i: number): boolean => i % s.n === s.k - 1;

export function splitDigest(split: Split): string {
  const h = createHash('sha256');
  for (const u of split.units) h.update(`${'job' in u ? 'j' : 'l'}${u.schedule.join(',')};`);
  return h.digest('hex').slice(0, 32);
}

/** `--shard K/N`: 1 ≤ K ≤ N. */
export function parseShard(text: string): ShardSpec | undefined {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text);
  if (!m) return undefined;
  const k = Number(m[1]);
  const n = Number(m[2]);
  return k >= 1 && k <= n ? { k, n } : undefined;
}
