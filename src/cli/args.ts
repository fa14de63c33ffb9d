// Command-line parsing: node:util parseArgs, strict, with every failure a UsageError. A flag
// given twice, an empty value, an out-of-range number or a parameter named like a prototype
// key is refused rather than silently resolved.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { STRATEGIES, type StrategyName } from '../engine/explore.js';
import { UsageError } from '../model.js';
import { PROTOTYPE_KEYS } from '../schema/json.js';
import { quoteField } from '../schema/text.js';
import { closest, COMMANDS, type CommandName } from './help.js';
import type { LitmusArgs } from './litmus-command.js';
import { MEMORY_MODELS, type MemoryModel } from '../machine/tso/store-buffer.js';
import { parallelArgs, type ParallelInput } from '../parallel/args.js';
import { DEFAULT_HEAP_MB } from './warm-worker.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What decides the search itself: saved in a checkpoint, never changed by --resume. */
export interface SearchArgs {
  readonly variant?: string;
  readonly strategy: StrategyName;
  readonly preemptionBound?: number;
  readonly maxExecutions?: number;
  readonly maxSteps?: number;
  readonly timeLimitS?: number;
  readonly seed: string;
  readonly samples?: number;
  readonly params: Readonly<Record<string, number>>;
  readonly minimise: boolean;
  /** false with --no-audit: accesses are not checked against footprints (faster, trusts the model). */
  readonly audit?: boolean;
  /** false with --no-cache: the stateless search (no states stored). */
  readonly cache?: boolean;
  /** MB the state cache may take before it turns into a bit array (half of --max-memory). */
  readonly cacheMb?: number;
}

export interface ExploreArgs {
  readonly command: 'explore';
  /** --memory-model: the machines of this run, where a model names none (MMCHECK_MEMORY_MODEL). */
  readonly memoryModel?: MemoryModel;
  /** A built-in model name or a model file, as given on the command line. */
  readonly target?: string;
  readonly search: SearchArgs;
  readonly out: string;
  readonly json: boolean;
  readonly junit?: string;
  readonly logLevel: string;
  readonly writeTraces: boolean;
  readonly checkpoint: string;
  /** Seconds without any sign of progress after which a model counts as hung. */
  readonly stallTimeoutS: number;
  /** Heap limit of the exploring worker, in MB: a model that exhausts it is stopped cleanly. */
  readonly maxMemoryMb: number;
  readonly resume?: string;
  /** With --resume: the model file the checkpoint was made from, named by the user. */
  readonly model?: string;
  /** Columns tables are fitted to (--width); undefined: the terminal's. */
  readonly width?: number;
  /** --workers / --shard: the split search (src/parallel); absent: the search unsplit. */
  readonly parallel?: ParallelInput;
}

export interface ReplayArgs {
  readonly command: 'replay';
  /** --memory-model: must agree with the trace's (replay uses the recorded one). */
  readonly memoryModel?: MemoryModel;
  readonly trace: string;
  /** The model file to replay against, named by the user (a trace never names code to run). */
  readonly model?: string;
  readonly html?: string;
  readonly json: boolean;
  readonly logLevel: string;
  /** Columns the swim lane is fitted to (--width); undefined: the terminal's. */
  readonly width?: number;
}

export interface ListArgs {
  readonly command: 'list';
  /** A model file to list instead of the built-in models. */
  readonly file?: string;
  readonly json: boolean;
}

export interface HelpArgs {
  readonly command: 'help';
  /** The command whose options to explain; undefined: the overview. */
  readonly topic?: CommandName;
}

export interface VersionArgs {
  readonly command: 'version';
}

/** `mmcheck merge FILE…`: the shards' parts reported as one run (src/parallel/shard-file.ts). */
export interface MergeArgs {
  readonly command: 'merge';
  readonly files: readonly string[];
  readonly out: string;
  readonly writeTraces: boolean;
  readonly json: boolean;
  readonly junit?: string;
  readonly logLevel: string;
  readonly width?: number;
}

export type Args = ExploreArgs | ReplayArgs | ListArgs | HelpArgs | VersionArgs | LitmusArgs | MergeArgs;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Flags that change the search: a checkpoint holds them, so --resume takes none of them. */
const SEARCH_FLAGS = ['variant', 'strategy', 'preemption-bound', 'max-executions', 'max-steps', 'time-limit', 'seed', 'samples', 'param', 'no-minimise', 'no-audit', 'no-cache'];

const EXPLORE_OPTIONS: OptionsConfig = {
  variant: { type: 'string' },
  strategy: { type: 'string' },
  'preemption-bound': { type: 'string' },
  'max-executions': { type: 'string' },
  'max-steps': { type: 'string' },
  'time-limit': { type: 'string' },
  seed: { type: 'string' },
  samples: { type: 'string' },
  param: { type: 'string', multiple: true },
  out: { type: 'string' },
  'no-trace': { type: 'boolean' },
  'no-minimise': { type: 'boolean' },
  'no-audit': { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
  model: { type: 'string' },
  'stall-timeout': { type: 'string' },
  'max-memory': { type: 'string' },
  json: { type: 'boolean' },
  junit: { type: 'string' },
  'log-level': { type: 'string' },
  width: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  'no-share-cache': { type: 'boolean' },
  'memory-model': { type: 'string' },
};

const REPLAY_OPTIONS: OptionsConfig = { html: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' }, 'log-level': { type: 'string' }, width: { type: 'string' }, 'memory-model': { type: 'string' } };
const LIST_OPTIONS: OptionsConfig = { json: { type: 'boolean' } };
const MERGE_OPTIONS: OptionsConfig = { out: { type: 'string' }, 'no-trace': { type: 'boolean' }, json: { type: 'boolean' }, junit: { type: 'string' }, 'log-level': { type: 'string' }, width: { type: 'string' } };
const LITMUS_OPTIONS: OptionsConfig = { 'memory-model': { type: 'string' }, strategy: { type: 'string' }, kinds: { type: 'string' }, json: { type: 'boolean' } };

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function int(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d{1,16}$/.test(s) || Number(s) < min || Number(s) > max) {
    const positive = min === 1 && /^-/.test(s) ? ': it must be a positive integer' : '';
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}${positive}, got "${quoteField(s, 40)}"`);
  }
  return Number(s);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `--max-executions -5`: parseArgs takes "-5" for an option and calls the flag ambiguous; a
 * negative number after a flag that takes a value is that value (and then refused by range). */
function joinNegativeValues(argv: readonly string[], options: OptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function parse(argv: string[], options: OptionsConfig): { values: Values; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(msg)?.[1];
    const guess = unknown === undefined ? undefined : closest(unknown.replace(/^-+/, ''), Object.keys(options));
    const hint = guess === undefined ? '' : ` (did you mean --${guess}?)`;
    throw new UsageError(`${quoteField(msg.replace(/\. To specify a positional argument.*$/, ''), 300)}${hint}`);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    // parseArgs lets the last of a repeated flag win; a CI script with two --seed is a mistake.
    if (seen.has(t.name) && options[t.name]?.multiple !== true) throw new UsageError(`--${t.name} given more than once`);
    seen.add(t.name);
    if (options[t.name]?.type === 'string' && t.value === '') throw new UsageError(`--${t.name} needs a value, got an empty string`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

function params(given: unknown): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const p of Array.isArray(given) ? given : []) {
    const m = /^([A-Za-z][\w-]{0,63})=(\d{1,15})$/.exec(String(p));
    if (!m) throw new UsageError(`--param takes name=integer, got "${quoteField(String(p), 80)}"`);
    const [, name, value] = m as unknown as [string, string, string];
    if (PROTOTYPE_KEYS.has(name)) throw new UsageError(`--param ${name} is not a parameter name`);
    if (Object.hasOwn(out, name)) throw new UsageError(`--param ${name} given more than once`);
    out[name] = Number(value);
  }
  return { ...out };
}

function explore(rest: string[]): ExploreArgs {
  const { values, positionals } = parse(rest, EXPLORE_OPTIONS);
  if (positionals.length > 1) throw new UsageError(`explore takes at most one model, got ${quoteField(positionals.join(' '), 200)}`);
  const resume = str(values.resume);
  if (resume !== undefined) {
    const bad = SEARCH_FLAGS.find((f) => values[f] !== undefined);
    if (bad) throw new UsageError(`--resume continues the checkpoint's search: --${bad} cannot change it`);
    if (positionals.length) throw new UsageError('--resume takes no model argument (name a model file with --model FILE)');
  } else if (values.model !== undefined) {
    throw new UsageError('--model goes with --resume; to explore a model file, name it: mmcheck explore FILE');
  }
  const strategy = str(values.strategy) ?? 'dpor';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new UsageError(`unknown strategy "${quoteField(strategy, 40)}" (strategies: ${STRATEGIES.join(', ')})`);
  const seed = str(values.seed) ?? '0';
  if (!/^[\w.:-]{1,64}$/.test(seed)) throw new UsageError(`--seed takes up to 64 letters, digits and . _ : -, got "${quoteField(seed, 40)}"`);
  if (values.variant !== undefined && positionals.length === 0) throw new UsageError('--variant needs a model');
  return {
    command: 'explore',
    ...memoryModelOf(values),
    target: positionals[0],
    search: {
      variant: str(values.variant),
      strategy: strategy as StrategyName,
      preemptionBound: int('preemption-bound', values['preemption-bound'], 0, 1000),
      maxExecutions: int('max-executions', values['max-executions'], 1, Number.MAX_SAFE_INTEGER),
      maxSteps: int('max-steps', values['max-steps'], 1, 10_000_000),
      timeLimitS: int('time-limit', values['time-limit'], 1, 10_000_000),
      seed,
      samples: int('samples', values.samples, 1, Number.MAX_SAFE_INTEGER),
      params: params(values.param),
      minimise: values['no-minimise'] !== true,
      ...(values['no-audit'] === true ? { audit: false } : {}),
      ...(values['no-cache'] === true ? { cache: false } : {}),
      // The cache's tables live outside the worker's heap: half of --max-memory is theirs.
      cacheMb: Math.max(8, Math.floor((int('max-memory', values['max-memory'], 16, 1_048_576) ?? DEFAULT_HEAP_MB) / 2)),
    },
    out: str(values.out) ?? 'traces',
    json: values.json === true,
    junit: str(values.junit),
    logLevel: logLevel(values['log-level']),
    writeTraces: values['no-trace'] !== true,
    checkpoint: str(values.checkpoint) ?? 'mmcheck-checkpoint.json',
    stallTimeoutS: int('stall-timeout', values['stall-timeout'], 1, 86_400) ?? 30,
    maxMemoryMb: int('max-memory', values['max-memory'], 16, 1_048_576) ?? DEFAULT_HEAP_MB,
    resume,
    model: str(values.model),
    width: width(values.width),
    ...parallelArgs(values, strategy, resume),
  };
}

const width = (v: unknown): number | undefined => int('width', v, 40, 1000);

/** `mmcheck COMMAND --help` (or -h) anywhere among its arguments, but not as an option's value. */
function asksHelp(rest: readonly string[], options: OptionsConfig): boolean {
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--help' || a === '-h') return true;
    if (a === '--') return false;
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string') i++;
  }
  return false;
}

export function parseCommandLine(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') return { command: 'help' };
  if (command === '--version' || command === '-V' || command === 'version') return { command: 'version' };
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { command: 'help' };
    if ((COMMANDS as readonly string[]).includes(topic)) return { command: 'help', topic: topic as CommandName };
    throw unknownCommand(topic);
  }
  if (command === 'list') {
    if (asksHelp(rest, LIST_OPTIONS)) return { command: 'help', topic: 'list' };
    const { values, positionals } = parse(rest, LIST_OPTIONS);
    if (positionals.length > 1) throw new UsageError(`list takes at most one model file, got ${quoteField(positionals.join(' '), 200)}`);
    return { command: 'list', json: values.json === true, ...(positionals[0] === undefined ? {} : { file: positionals[0] }) };
  }
  if (command === 'replay') {
    if (asksHelp(rest, REPLAY_OPTIONS)) return { command: 'help', topic: 'replay' };
    const { values, positionals } = parse(rest, REPLAY_OPTIONS);
    if (positionals.length !== 1) throw new UsageError('replay takes exactly one trace file');
    return { command: 'replay', trace: positionals[0]!, model: str(values.model), html: str(values.html), json: values.json === true, logLevel: logLevel(values['log-level']), width: width(values.width), ...memoryModelOf(values) };
  }
  if (command === 'explore') return asksHelp(rest, EXPLORE_OPTIONS) ? { command: 'help', topic: 'explore' } : explore(rest);
  if (command === 'litmus') return asksHelp(rest, LITMUS_OPTIONS) ? { command: 'help', topic: 'litmus' } : litmus(rest);
  if (command === 'merge') return asksHelp(rest, MERGE_OPTIONS) ? { command: 'help', topic: 'merge' } : merge(rest);
  throw unknownCommand(command);
}

/** --memory-model, when given (explore, replay: the machines of the run; litmus: its model). */
function memoryModelOf(values: Values): { memoryModel?: MemoryModel } {
  const model = str(values['memory-model']);
  if (model === undefined) return {};
  if (!(MEMORY_MODELS as readonly string[]).includes(model)) throw new UsageError(`unknown memory model "${quoteField(model, 40)}" (memory models: ${MEMORY_MODELS.join(', ')})`);
  return { memoryModel: model as MemoryModel };
}

function litmus(rest: string[]): LitmusArgs {
  const { values, positionals } = parse(rest, LITMUS_OPTIONS);
  if (positionals.length === 0) throw new UsageError('litmus takes one or more .litmus files');
  const model = memoryModelOf(values).memoryModel ?? 'tso';
  const strategy = str(values.strategy) ?? 'dpor';
  if (strategy !== 'dpor' && strategy !== 'dfs') throw new UsageError(`litmus explores exhaustively: --strategy dpor or dfs, got "${quoteField(strategy, 40)}"`);
  return { command: 'litmus', files: positionals, memoryModel: model as MemoryModel, strategy, ...(values.kinds === undefined ? {} : { kinds: str(values.kinds)! }), json: values.json === true };
}

function merge(rest: string[]): MergeArgs {
  const { values, positionals } = parse(rest, MERGE_OPTIONS);
  if (positionals.length === 0) throw new UsageError('merge takes the shard files (mmcheck explore --shard K/N > FILE)');
  return { command: 'merge', files: positionals, out: str(values.out) ?? 'traces', writeTraces: values['no-trace'] !== true, json: values.json === true, junit: str(values.junit), logLevel: logLevel(values['log-level']), width: width(values.width) };
}

function unknownCommand(command: string): UsageError {
  const guess = closest(command, COMMANDS);
  return new UsageError(`unknown command "${quoteField(command, 80)}"${guess ? ` (did you mean ${guess}?)` : ''} (commands: explore, replay, list, litmus, merge, help; mmcheck --help)`);
}

function logLevel(v: unknown): string {
  const level = str(v) ?? 'warn';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`unknown log level "${quoteField(level, 40)}" (levels: ${LOG_LEVELS.join(', ')})`);
  return level;
}
