// `mmcheck merge SHARD.json…`: the shards of one split search reported as the unsharded run
// reports it. The shards' unit results go, as data, to the same job the explore command runs
// (job.ts → parallel/variant.ts), which merges them in unit order and minimises the
// counterexample; output, traces, JUnit and exit codes are then explore's own.
import type { Log } from './log.js';
import { UsageError } from '../model.js';
import { readShards } from '../parallel/shard-file.js';
import type { ExploreArgs, MergeArgs } from './args.js';
import { exploreCommand } from './explore-command.js';
import type { Io } from './report.js';

export async function mergeCommand(args: MergeArgs, io: Io, log: Log): Promise<number> {
  const m = readShards(args.files);
  const explore: ExploreArgs = {
    command: 'explore',
    ...(m.target === undefined ? {} : { target: m.target }),
    search: m.search,
    out: args.out,
    json: args.json,
    ...(args.junit === undefined ? {} : { junit: args.junit }),
    logLevel: args.logLevel,
    writeTraces: args.writeTraces,
    checkpoint: 'mmcheck-checkpoint.json',
    stallTimeoutS: 30,
    maxMemoryMb: 4096,
    ...(args.width === undefined ? {} : { width: args.width }),
    memoryModel: m.memoryModel,
  };
  const job = { ...(m.target === undefined ? {} : { target: m.target }), search: m.search, parallel: { workers: 1, merged: m.parts, ...(m.sha256 ? { sha256: m.sha256 } : {}) } };
  if (m.target === undefined && Object.keys(m.parts).length === 0) throw new UsageError('the shards hold no variant');
  return exploreCommand(explore, io, log, { merge: m.shards, job });
}
