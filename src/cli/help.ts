// Help texts (`mmcheck --help`, `mmcheck COMMAND --help`) and did-you-mean for a misspelt
// command or option. Suggestions use edit distance (fastest-levenshtein), offered only when
// the typo is close: a wild guess is worse than the list of what exists.
import { distance } from 'fastest-levenshtein';

export const COMMANDS = ['list', 'explore', 'replay', 'litmus', 'merge', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

export const USAGE = `usage:
  mmcheck list [FILE] [--json]
  mmcheck explore [MODEL|FILE] [--variant V] [--strategy dpor|dfs|bounded|random|pct]
                  [--preemption-bound N] [--max-executions N] [--max-steps N] [--time-limit S]
                  [--seed S] [--samples N] [--param k=v ...] [--no-minimise] [--no-audit]
                  [--no-cache] [--out DIR] [--no-trace] [--json] [--junit FILE] [--checkpoint FILE]
                  [--stall-timeout S] [--max-memory MB] [--width N] [--log-level L]
                  [--workers N|auto] [--shard K/N] [--no-share-cache] [--memory-model sc|tso]
  mmcheck explore --resume CHECKPOINT [--model FILE] [--out DIR] [--no-trace] [--json]
                  [--junit FILE] [--checkpoint FILE] [--stall-timeout S] [--max-memory MB] [--log-level L]
  mmcheck replay TRACE [--model FILE] [--html FILE] [--json] [--width N] [--log-level L]
                 [--memory-model sc|tso]
  mmcheck litmus FILE.litmus... [--memory-model sc|tso] [--strategy dpor|dfs] [--kinds FILE]
                 [--json]
  mmcheck merge SHARD.json... [--out DIR] [--no-trace] [--json] [--junit FILE] [--width N]
  mmcheck --version

'mmcheck COMMAND --help' explains a command and every option it takes.`;

const EXPLORE_HELP = `usage: mmcheck explore [MODEL|FILE] [options]

Explores the thread interleavings of a model and checks its invariants after every step.
Without MODEL: every built-in model and variant. MODEL is a built-in name (mmcheck list) or a
model file (./model.ts, which may import 'mmcheck' and 'mmcheck/machine'). Exit status: 0 every
variant showed what it declares, 1 one did not, 2 bad usage, 3 a bug in mmcheck, 4 bounded.

search:
  --variant V            explore only variant V (default: every variant of the model)
  --strategy S           dpor (default; exhaustive, reduced), dfs (every interleaving),
                         bounded (preemption bounding), random, pct (seeded sampling).
                         dpor and dfs store the states they visit (a model that declares its
                         state): each state is explored once; dpor adds sleep sets
  --preemption-bound N   bounded: the largest preemption count tried (default 3)
  --max-executions N     stop after N executions (the result is "bounded", exit 4)
  --max-steps N          steps one execution may take before it counts as a step-bound failure
                         (default: the model's own bound)
  --time-limit S         stop exploring (and minimising) a variant after S seconds
  --seed S               random/pct: the seed (default 0; printed with the result)
  --samples N            random/pct: executions to sample (default 1000)
  --param k=v            a model parameter (repeatable; mmcheck list shows them); a trace of a
                         non-default configuration is named for it (MODEL-VARIANT@k=v.json)
  --no-minimise          write the counterexample as found, not minimised
  --no-audit             do not check accesses against footprints (faster; trusts the model)
  --memory-model M       sc (default) or tso: x86-TSO store buffers on every machine whose model
                         names no memory model (MMCHECK_MEMORY_MODEL); traces and checkpoints
                         record it: replay and --resume use theirs (a different flag is an error)
  --no-cache             store no states: the stateless search (dpor: source-DPOR)

output:
  --out DIR              where traces go (default traces/)
  --no-trace             write no trace files
  --json                 one JSON document on stdout instead of the table
  --junit FILE           also write a JUnit XML report (one testcase per variant)
  --width N              fit tables to N columns (default: the terminal's, 100 when not a TTY)
  --log-level L          fatal, error, warn (default), info, debug, trace, silent (on stderr)

running:
  --checkpoint FILE      where Ctrl-C or SIGTERM saves the search (default mmcheck-checkpoint.json)
  --resume FILE          continue a checkpoint (its search options cannot change)
  --model FILE           with --resume: the model file the checkpoint was made from
  --stall-timeout S      a step that runs S seconds without yielding is a hung model (default 30)
  --max-memory MB        heap limit of the exploring worker (default 4096); the state cache
                         may take half as much again, then turns into a bit array (bitstate,
                         verdict "holds (probabilistic)")
  --workers N|auto       split the search (dpor, dfs) into subtrees and explore them on N worker
                         threads (auto: every core). The split never depends on N: results are
                         the same for every N (they may differ from the unsplit search's counts).
                         A search over states runs the jobs in waves (1, 2, 4, then 8 at a time),
                         each looking up the states the earlier waves explored
  --no-share-cache       with --workers: every job its own state cache, as a shard's jobs have
                         (the counts then equal those of --shard K/N and mmcheck merge)
  --shard K/N            explore the K-th of N deterministic parts of the split search and print
                         it as JSON on stdout (for CI matrices); mmcheck merge reports the whole.
                         Shards share no states: their counts are those of --no-share-cache
  -h, --help             this help`;

const MERGE_HELP = `usage: mmcheck merge SHARD.json... [options]

Reports the shards of one search (mmcheck explore --shard K/N > SHARD.json, for K = 1..N) as
the one unsharded run would: the same summary, --json and --junit, the counterexample minimised
and its trace written. Every shard 1..N once, of the same model, variant, parameters and search;
run it where the shards ran (a model file is loaded again from the path they were given).

  --out DIR              where traces go (default traces/)
  --no-trace             write no trace files
  --json                 one JSON document on stdout instead of the table
  --junit FILE           also write a JUnit XML report
  --width N              fit tables to N columns
  --log-level L          fatal, error, warn (default), info, debug, trace, silent
  -h, --help             this help`;

const REPLAY_HELP = `usage: mmcheck replay TRACE [options]

Re-runs a trace file step by step and prints its swim lane: one column per CPU or actor, one
row per step, the page-table and TLB changes of each step, and the violated invariant. A trace
never names code for mmcheck to run: a trace of a model file needs --model FILE (the command to
type is printed).

  --model FILE           the model file the trace was recorded from
  --html FILE            also write a self-contained HTML page with a step slider
  --json                 the replayed steps and machine states as JSON
  --memory-model M       not needed: the trace's memory model is used (sc if it records none);
                         a different one is an error
  --width N              fit the swim lane to N columns (default: the terminal's, 100 when not a TTY)
  --log-level L          fatal, error, warn (default), info, debug, trace, silent
  -h, --help             this help`;

const LIST_HELP = `usage: mmcheck list [FILE] [--json]

Lists the built-in models (or the model in FILE): each variant with what it should show, every
invariant and every parameter with its range.

  --json                 as JSON
  -h, --help             this help`;

const LITMUS_HELP = `usage: mmcheck litmus FILE.litmus... [options]

Runs herd7 x86 litmus tests (X86 Intel syntax or X86_64 AT&T syntax: mov, mfence, lfence, sfence,
xchg, lock add/sub/or/and/xor/inc/dec/xadd/cmpxchg; exists, ~exists or forall conditions) on the
simulated machine, every interleaving and every store-buffer drain explored, and prints per test
Allow (a final state satisfying the condition is reachable) or Forbid, as herd7's kinds, with
herd7's observation counts and Ok/No. Exit status: 0, 1 a verdict differs from --kinds, 2 bad
input (the file and line are named).

  --memory-model M       tso (default: x86-TSO, FIFO store buffers per CPU) or sc
  --strategy S           dpor (default) or dfs
  --kinds FILE           a herd7 kinds.txt: compare each verdict with it
  --json                 one JSON document on stdout
  -h, --help             this help`;

export function helpText(command?: CommandName): string {
  switch (command) {
    case 'explore':
      return EXPLORE_HELP;
    case 'replay':
      return REPLAY_HELP;
    case 'list':
      return LIST_HELP;
    case 'litmus':
      return LITMUS_HELP;
    case 'merge':
      return MERGE_HELP;
    default:
      return USAGE;
  }
}

/** The closest of `known` to `typed`, if it is close enough to be what was meant. */
export function closest(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(typed, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  // One edit per three letters: catches "explor", "--varaint", not "frobnicate".
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(typed.length / 3)) ? best : undefined;
}
