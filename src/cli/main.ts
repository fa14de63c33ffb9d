// mmcheck's command line: list, explore, replay. Exit codes: 0 as expected / no violation,
// 1 violation (or a variant not showing what it declares), 2 bad usage or input.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { builtinModels } from '../../models/index.js';
import { ReplayDivergence } from '../engine/replay.js';
import { explore, type ModelResult } from '../index.js';
import { expectationText, type Model, UsageError } from '../model.js';
import { TraceError, makeTrace, parseTrace } from '../trace/format.js';
import { swimLane } from '../trace/render.js';
import { replayTrace } from '../trace/replay.js';
import { minimise } from '../trace/minimise.js';
import { type ExploreArgs, parseCommandLine, type ReplayArgs, USAGE } from './args.js';
import { loadModel } from './load.js';
import { junitXml, writeAtomic } from './output.js';
import { Progress } from './progress.js';
import { seconds, table } from './table.js';

export const VERSION = '0.1.0';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

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
        return await exploreCommand(args, io);
      case 'replay':
        return await replayCommand(args, io);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TraceError || e instanceof ReplayDivergence) {
      io.err(`mmcheck: ${e.message}`);
      return 2;
    }
    io.err(`mmcheck: internal error (a bug in mmcheck, please report it): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 3;
  }
}

function logger(level: string): Logger {
  return pino({ level, base: { name: 'mmcheck' } }, pino.destination({ fd: 2, sync: true }));
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

async function exploreCommand(args: ExploreArgs, io: Io): Promise<number> {
  const log = logger(args.logLevel);
  const targets: { model: Model; modelPath?: string; variants: string[] }[] = [];
  if (args.target === undefined) {
    if (Object.keys(args.params).length) throw new UsageError('--param needs a model');
    for (const model of builtinModels) targets.push({ model, variants: model.variants.map((v) => v.name) });
  } else {
    const { model, modelPath } = await loadModel(args.target);
    const variants = args.variant ? [args.variant] : model.variants.map((v) => v.name);
    targets.push({ model, modelPath, variants });
  }
  const results: ModelResult[] = [];
  const tracePaths = new Map<ModelResult, string>();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    for (const t of targets) {
      for (const variant of t.variants) {
        if (interrupted) break;
        const progress = new Progress(io, `${t.model.name}/${variant}`);
        log.info({ model: t.model.name, variant, strategy: args.strategy }, 'explore start');
        let r = explore(t.model, {
          variant,
          params: args.params,
          strategy: args.strategy,
          preemptionBound: args.preemptionBound,
          maxExecutions: args.maxExecutions,
          maxSteps: args.maxSteps ?? t.model.maxSteps,
          timeLimitMs: args.timeLimitS === undefined ? undefined : args.timeLimitS * 1000,
          seed: args.seed,
          samples: args.samples,
          shouldStop: () => interrupted,
          onProgress: (p) => progress.update(p),
        });
        progress.done();
        if (r.violation && args.minimise) {
          const params = r.params;
          const small = minimise(() => t.model.build(variant, params), r.violation, { maxSteps: args.maxSteps ?? t.model.maxSteps ?? 2000 });
          r = { ...r, violation: small };
        }
        log.info({ model: r.model, variant: r.variant, verdict: r.verdict, executions: r.executions, steps: r.steps, elapsedMs: Math.round(r.elapsedMs) }, 'explore end');
        results.push(r);
        if (r.violation && args.writeTraces) {
          const file = path.join(args.out, `${r.model}-${r.variant}.json`);
          const trace = makeTrace({ model: r.model, modelPath: t.modelPath, variant: r.variant, params: r.params, strategy: r.strategy, threads: r.threads }, r.violation);
          writeAtomic(file, `${JSON.stringify(trace, null, 2)}\n`);
          tracePaths.set(r, file);
          log.info({ file }, 'trace written');
        }
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (args.junit) writeAtomic(args.junit, junitXml(results));
  const single = args.target !== undefined && targets[0]!.variants.length === 1;
  if (args.json) {
    io.out(JSON.stringify(jsonReport(results, tracePaths, interrupted), null, 2));
  } else if (single) {
    printOne(results[0]!, tracePaths.get(results[0]!), io);
  } else {
    printTable(results, tracePaths, io);
  }
  if (interrupted) return 130;
  if (single) return results[0]!.verdict === 'violated' ? 1 : 0;
  return results.every((r) => r.asExpected) ? 0 : 1;
}

function jsonReport(results: readonly ModelResult[], traces: Map<ModelResult, string>, interrupted: boolean) {
  return {
    mmcheck: VERSION,
    ok: results.every((r) => r.asExpected),
    interrupted,
    results: results.map((r) => ({
      model: r.model,
      variant: r.variant,
      params: r.params,
      expected: expectationText(r.expected),
      verdict: r.verdict,
      asExpected: r.asExpected,
      strategy: r.strategy,
      executions: r.executions,
      sleepBlocked: r.sleepBlocked,
      steps: r.steps,
      maxDepth: r.maxDepth,
      elapsedMs: Math.round(r.elapsedMs),
      ...(r.cut ? { cut: r.cut } : {}),
      ...(r.violation
        ? {
            violation: {
              kind: r.violation.kind,
              invariant: r.violation.invariant,
              message: r.violation.message,
              steps: r.violation.schedule.length,
              preemptions: r.violation.preemptions,
              ...(traces.has(r) ? { trace: traces.get(r) } : {}),
            },
          }
        : {}),
    })),
  };
}

function verdictText(r: ModelResult): string {
  if (r.verdict === 'violated') return `violated ${r.violation!.invariant}`;
  if (r.verdict === 'bounded') return `no violation (bounded: ${r.cut})`;
  return r.verdict;
}

function printOne(r: ModelResult, trace: string | undefined, io: Io): void {
  io.out(`${r.model}/${r.variant} ${JSON.stringify(r.params)} — ${verdictText(r)}`);
  io.out(`  ${r.executions} executions, ${r.steps} steps, ${seconds(r.elapsedMs)} (${r.strategy}; expected: ${expectationText(r.expected)})`);
  if (r.violation) {
    io.out(`  ${r.violation.message}`);
    io.out(`  counterexample: ${r.violation.schedule.length} steps, ${r.violation.preemptions} preemptions`);
    if (trace) io.out(`  replay it: npx mmcheck replay ${trace}`);
  }
}

function printTable(results: readonly ModelResult[], traces: Map<ModelResult, string>, io: Io): void {
  const rows = results.map((r) => [
    r.model,
    r.variant,
    expectationText(r.expected),
    verdictText(r),
    String(r.executions),
    String(r.steps),
    seconds(r.elapsedMs),
    r.asExpected ? 'ok' : 'UNEXPECTED',
  ]);
  io.out(table(['model', 'variant', 'expected', 'verdict', 'executions', 'steps', 'time', ''], rows));
  const bad = results.filter((r) => !r.asExpected).length;
  io.out(`\n${results.length} variants, ${results.length - bad} as expected, ${bad} not`);
  const written = [...traces.values()];
  if (written.length) io.out(`traces written: ${written.join(', ')}`);
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
