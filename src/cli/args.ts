// Command-line parsing: node:util parseArgs, strict, with every failure a UsageError.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { STRATEGIES, type StrategyName } from '../engine/explore.js';
import { UsageError } from '../model.js';

export interface ExploreArgs {
  readonly command: 'explore';
  readonly target?: string;
  readonly variant?: string;
  readonly strategy: StrategyName;
  readonly preemptionBound?: number;
  readonly maxExecutions?: number;
  readonly maxSteps?: number;
  readonly timeLimitS?: number;
  readonly seed: string;
  readonly samples?: number;
  readonly params: Record<string, number>;
  readonly out: string;
  readonly json: boolean;
  readonly junit?: string;
  readonly logLevel: string;
  readonly writeTraces: boolean;
  readonly minimise: boolean;
  readonly checkpoint: string;
  /** Seconds without any sign of progress after which a model counts as hung. */
  readonly stallTimeoutS: number;
  readonly resume?: string;
}

export interface ReplayArgs {
  readonly command: 'replay';
  readonly trace: string;
  readonly html?: string;
  readonly json: boolean;
  readonly logLevel: string;
}

export interface ListArgs {
  readonly command: 'list';
  readonly json: boolean;
}

export interface HelpArgs {
  readonly command: 'help';
}

export type Args = ExploreArgs | ReplayArgs | ListArgs | HelpArgs;

export const USAGE = `usage:
  mmcheck list [--json]
  mmcheck explore [MODEL|FILE] [--variant V] [--strategy dpor|dfs|bounded|random|pct]
                  [--preemption-bound N] [--max-executions N] [--max-steps N] [--time-limit S]
                  [--seed S] [--samples N] [--param k=v ...] [--out DIR] [--no-trace]
                  [--no-minimise] [--checkpoint FILE] [--stall-timeout S]
  mmcheck explore --resume CHECKPOINT
                  [--json] [--junit FILE] [--log-level L]
  mmcheck replay TRACE [--html FILE] [--json] [--log-level L]`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} takes a whole number >= ${min}, got "${v}"`);
  return Number(v);
}

function parse(argv: string[], options: OptionsConfig) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    throw new UsageError(msg.replace(/\. To specify a positional argument.*$/, ''));
  }
}

export function parseCommandLine(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'list') {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
    if (positionals.length) throw new UsageError(`list takes no arguments, got "${positionals[0]}"`);
    return { command: 'list', json: values.json === true };
  }
  if (command === 'replay') {
    const { values, positionals } = parse(rest, { html: { type: 'string' }, json: { type: 'boolean' }, 'log-level': { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('replay takes exactly one trace file');
    return { command: 'replay', trace: positionals[0]!, html: values.html as string | undefined, json: values.json === true, logLevel: logLevel(values['log-level']) };
  }
  if (command === 'explore') {
    const { values, positionals } = parse(rest, {
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
      checkpoint: { type: 'string' },
      resume: { type: 'string' },
      'stall-timeout': { type: 'string' },
      json: { type: 'boolean' },
      junit: { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (positionals.length > 1) throw new UsageError(`explore takes at most one model, got ${positionals.join(' ')}`);
    const strategy = (values.strategy as string | undefined) ?? 'dpor';
    if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new UsageError(`unknown strategy "${strategy}" (strategies: ${STRATEGIES.join(', ')})`);
    const params: Record<string, number> = {};
    for (const p of (values.param as string[] | undefined) ?? []) {
      const m = /^([A-Za-z][\w-]*)=(\d+)$/.exec(p);
      if (!m) throw new UsageError(`--param takes name=integer, got "${p}"`);
      params[m[1]!] = Number(m[2]);
    }
    if (values.variant !== undefined && positionals.length === 0) throw new UsageError('--variant needs a model');
    if (values.resume !== undefined && rest.length !== 2) throw new UsageError('--resume takes a checkpoint file and no other options (the checkpoint holds them)');
    return {
      command: 'explore',
      target: positionals[0],
      variant: values.variant as string | undefined,
      strategy: strategy as StrategyName,
      preemptionBound: int('preemption-bound', values['preemption-bound'] as string | undefined, 0),
      maxExecutions: int('max-executions', values['max-executions'] as string | undefined, 1),
      maxSteps: int('max-steps', values['max-steps'] as string | undefined, 1),
      timeLimitS: int('time-limit', values['time-limit'] as string | undefined, 1),
      seed: (values.seed as string | undefined) ?? '0',
      samples: int('samples', values.samples as string | undefined, 1),
      params,
      out: (values.out as string | undefined) ?? 'traces',
      json: values.json === true,
      junit: values.junit as string | undefined,
      logLevel: logLevel(values['log-level']),
      writeTraces: values['no-trace'] !== true,
      minimise: values['no-minimise'] !== true,
      checkpoint: (values.checkpoint as string | undefined) ?? 'mmcheck-checkpoint.json',
      stallTimeoutS: int('stall-timeout', values['stall-timeout'] as string | undefined, 1) ?? 30,
      resume: values.resume as string | undefined,
    };
  }
  throw new UsageError(`unknown command "${command}" (commands: explore, replay, list)`);
}

function logLevel(v: unknown): string {
  const level = (v as string | undefined) ?? 'warn';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`unknown log level "${level}" (levels: ${LOG_LEVELS.join(', ')})`);
  return level;
}
