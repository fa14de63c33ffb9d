// mmcheck's command line: list, explore, replay. Exit codes (README "Exit codes", exit.ts):
// 0 as expected / no violation, 1 violation, 2 bad usage or input, 3 a bug in mmcheck,
// 4 bounded (unproven), 130/143 interrupted by SIGINT/SIGTERM.
import { builtinModels } from '../../models/index.js';
import { ReplayDivergence } from '../engine/replay.js';
import { CheckpointError } from '../engine/strategy.js';
import { expectationText, type Model, UsageError } from '../model.js';
import { JsonInputError } from '../schema/json.js';
import { safeLine, safeText } from '../schema/text.js';
import { TraceError } from '../trace/format.js';
import { parseCommandLine } from './args.js';
import { colourer, colourWanted } from './colour.js';
import { helpText } from './help.js';
import { loadModel } from './load.js';
import { Aborted, EXIT, signalStatus } from './exit.js';
import { type Io, jsonText, VERSION } from './report.js';
import { logger } from './log.js';

export type { Io } from './report.js';

const processIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  isTTY: process.stderr.isTTY === true,
  // A pipe or file has no width: tables then fit 100 columns (report.ts).
  ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
  color: colourWanted(process.env, process.stdout.isTTY === true),
};

/** Everything printed passes here: no control character from a model or a file reaches the
 * terminal raw (newlines and tabs of multi-line output are kept). */
function sanitised(io: Io, width: number | undefined): Io {
  const columns = width ?? io.columns;
  const paint = colourer(io.color === true); // after escaping: its own escapes must survive
  return { out: (t) => io.out(paint(safeText(t))), err: (t) => io.err(safeText(t)), isTTY: io.isTTY, ...(columns === undefined ? {} : { columns }) };
}

const isInputError = (e: unknown) => e instanceof UsageError || e instanceof TraceError || e instanceof ReplayDivergence || e instanceof CheckpointError || e instanceof JsonInputError;

export async function main(argv: string[], rawIo: Io = processIo): Promise<number> {
  let io = sanitised(rawIo, undefined);
  try {
    const args = parseCommandLine(argv);
    // JSON is for programs: never coloured.
    if ('json' in args && args.json) io = sanitised({ ...rawIo, color: false }, 'width' in args ? args.width : undefined);
    else if ('width' in args) io = sanitised(rawIo, args.width);
    switch (args.command) {
      case 'help':
        io.out(helpText(args.topic));
        return EXIT.ok;
      case 'version':
        io.out(VERSION);
        return EXIT.ok;
      case 'list':
        return list(args.file === undefined ? builtinModels : [(await loadModel(args.file)).model], args.json, io);
      case 'explore':
        return await (await import('./explore-command.js')).exploreCommand(args, io, await logger(args.logLevel, io));
      case 'replay':
        return await (await import('./replay-command.js')).replayCommand(args, io);
      case 'litmus':
        return (await import('./litmus-command.js')).litmusCommand(args, io);
      case 'merge':
        return await (await import('./merge-command.js')).mergeCommand(args, io, await logger(args.logLevel, io));
    }
  } catch (e) {
    if (e instanceof Aborted) {
      io.err(`mmcheck: ${e.message}`);
      return signalStatus(e.signal);
    }
    if (isInputError(e)) {
      io.err(`mmcheck: ${safeLine((e as Error).message)}`);
      return EXIT.usage;
    }
    io.err(`mmcheck: internal error (a bug in mmcheck, please report it): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return EXIT.internal;
  }
}

function list(from: readonly Model[], json: boolean, io: Io): number {
  const models = from.map((m) => ({
    name: m.name,
    title: m.title,
    source: m.source,
    variants: m.variants.map((v) => ({ name: v.name, expect: expectationText(v.expect), description: v.description })),
    invariants: m.invariants,
    params: Object.entries(m.params).map(([name, p]) => ({ name, ...p })),
  }));
  if (json) {
    io.out(jsonText({ mmcheck: VERSION, models }));
    return EXIT.ok;
  }
  for (const m of models) {
    io.out(`${m.name} — ${m.title}\n  source: ${m.source}`);
    io.out(`  variants:`);
    for (const v of m.variants) io.out(`    ${v.name.padEnd(28)} ${v.expect.padEnd(40)} ${v.description}`);
    io.out(`  invariants:`);
    for (const i of m.invariants) io.out(`    ${i.name.padEnd(36)} ${i.description}`);
    if (m.params.length) {
      io.out(`  parameters:`);
      for (const p of m.params) io.out(`    ${`${p.name}=${p.default}`.padEnd(16)} [${p.min}..${p.max}] ${p.description}`);
    }
    io.out('');
  }
  return EXIT.ok;
}
