// mmcheck's command line: list, explore, replay. Exit codes: 0 as expected / no violation,
// 1 violation (or a variant not showing what it declares), 2 bad usage or input.
import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { builtinModels } from '../../models/index.js';
import { ReplayDivergence } from '../engine/replay.js';
import { CheckpointError } from '../engine/strategy.js';
import { swimLane } from '../trace/render.js';
import { replayTrace } from '../trace/replay.js';
import { TraceError, parseTrace } from '../trace/format.js';
import { expectationText, UsageError } from '../model.js';
import { loadModel } from './load.js';
import { writeAtomic } from './output.js';
import { parseCommandLine, type ReplayArgs, USAGE } from './args.js';
import { exploreCommand } from './explore-command.js';
import { type Io, VERSION } from './report.js';

export type { Io } from './report.js';

const processIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  isTTY: process.stderr.isTTY === true,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    const args = parseCommandLine(argv);
    switch (args.command) {
      case 'help':
        io.out(USAGE);
        return 0;
      case 'list':
        return list(args.json, io);
      case 'explore':
        return await exploreCommand(args, io, logger(args.logLevel, io));
      case 'replay':
        return await replayCommand(args, io);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TraceError || e instanceof ReplayDivergence || e instanceof CheckpointError) {
      io.err(`mmcheck: ${e.message}`);
      return 2;
    }
    io.err(`mmcheck: internal error (a bug in mmcheck, please report it): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 3;
  }
}

/** Structured logs on stderr: JSON lines, or readable lines (pino-pretty) on a terminal. */
function logger(level: string, io: Io): Logger {
  const options = { level, base: { name: 'mmcheck' } };
  if (io.isTTY) return pino(options, pretty({ destination: 2, sync: true, colorize: !process.env.NO_COLOR }));
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

function list(json: boolean, io: Io): number {
  const models = builtinModels.map((m) => ({
    name: m.name,
    title: m.title,
    source: m.source,
    variants: m.variants.map((v) => ({ name: v.name, expect: expectationText(v.expect), description: v.description })),
    invariants: m.invariants,
    params: Object.entries(m.params).map(([name, p]) => ({ name, ...p })),
  }));
  if (json) {
    io.out(JSON.stringify({ mmcheck: VERSION, models }, null, 2));
    return 0;
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
  return 0;
}

async function replayCommand(args: ReplayArgs, io: Io): Promise<number> {
  let text: string;
  try {
    text = readFileSync(args.trace, 'utf8');
  } catch {
    throw new UsageError(`cannot read trace file ${args.trace}`);
  }
  const trace = parseTrace(text);
  const { model } = await loadModel(trace.modelPath ?? trace.model);
  const result = replayTrace(model, trace);
  if (args.html) {
    const { renderHtml } = await import('../trace/html.js');
    writeAtomic(args.html, renderHtml(trace, result));
  }
  if (args.json) {
    io.out(JSON.stringify({ mmcheck: VERSION, trace: args.trace, reproduced: true, failure: result.failure, steps: result.trace, snapshots: result.snapshots }, null, 2));
    return 0;
  }
  io.out(`${trace.model}/${trace.variant} ${JSON.stringify(trace.params)} — ${trace.schedule.length} steps, ${trace.preemptions} preemptions`);
  if (!result.hashMatches) io.out('(note: the model changed shape since this trace was written, but every step still matches)');
  io.out('');
  io.out(swimLane(result.threads, result.trace, result.snapshots, result.failure));
  return 0;
}
