// The state cache shared between the jobs of a split search over states, the same for every
// worker count. Jobs run in waves, in unit order: the first job alone, then 2, 4 and from there
// WAVE_CAP at a time. A job looks a state up in its own cache, then in the union of what every
// job of the earlier waves stored (read only): a state found there was explored, with the sleep
// set stored beside it, so the job explores from it only the threads asleep then and awake now
// (stateful.ts), exactly as the one search over states treats a state it explored in an earlier
// branch. Jobs of one wave do not see each other's states: a state two of them reach is explored
// by each (more work, never less). Which states a job sees depends on the split and the waves
// alone — never on which job finished first — so the counts are the same for 1 worker or 16.
//
// Why waves and not one queue with each job seeing whatever had finished: that depends on
// timing. Why these sizes (measured on ptmigrate delimbo with 2 writers, 81 jobs; states
// stored over all jobs against 314,473 distinct): one job at a time 1.00×, waves 1, 2, 4, 8, 8, …
// 1.10×, waves of 16 1.36×, no sharing (each job its own cache) 3.65×. Two workers' wall time
// is bound by the largest jobs more than by the waves (README, "Parallel exploration").
//
// A shard (--shard K/N) cannot see what other machines explored: shards, and `--no-share-cache`,
// give every job its own cache (the split search as it was before waves).
import { StateCache, type SharedTable } from '../engine/state-cache.js';
import type { Split } from './split.js';

/** Jobs run side by side once the first waves have filled the shared table. */
export const WAVE_CAP = 8;

/** The unit indices of the split's jobs, wave by wave; one wave of all when the cache is not
 * shared (a stateless search, a shard, --no-share-cache). */
export function wavesOf(split: Split, share: boolean): number[][] {
  const jobs = split.units.flatMap((u, i) => ('job' in u ? [i] : []));
  if (!share || !sharesStates(split)) return jobs.length ? [jobs] : [];
  const out: number[][] = [];
  for (let i = 0, size = 1; i < jobs.length; i += size, size = Math.min(size * 2, WAVE_CAP)) out.push(jobs.slice(i, i + size));
  return out;
}

/** Only a search over states has a cache to share. */
export const sharesStates = (split: Split): boolean => split.kind === 'stateful' || split.kind === 'dfs+cache';

/** The union of the states the finished waves' jobs stored. Past `maxBytes` it takes no more
 * (a job then explores what it cannot look up: more work, never a state missed). */
export class ExploredStates {
  readonly table = new StateCache();
  private full = false;

  constructor(private readonly maxBytes = Infinity) {}

  /** A finished job's states (StateCache.entries). */
  add(entries: Uint32Array): void {
    if (this.full) return;
    this.table.absorbEntries(entries);
    if (this.table.stats().bytes > this.maxBytes) this.full = true;
  }

  /** The table in shared memory, for the next wave's pool workers. */
  shared(): SharedTable {
    return this.table.shared();
  }
}
