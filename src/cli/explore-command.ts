// `mmcheck explore`: checks every output path, runs the job in a worker thread, shows progress,
// writes traces, reports. Ctrl-C or SIGTERM stops after the current execution and writes a
// checkpoint (`--resume` continues it); a second signal aborts at once. A worker that shows no
// progress for --stall-timeout seconds is stuck inside one step — a model loop that never
// yields — and a worker that exhausts its heap (--max-memory) is stopped, each with a clear error.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerUrl } from './job-worker.js';
import { takeExplorer } from './warm-worker.js';
import { Worker } from 'node:worker_threads';
import type { Log } from './log.js';
import { UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';
import { makeTrace } from '../trace/format.js';
import type { ExploreArgs } from './args.js';
import { type CheckpointFile, type CurrentVariant, type ModelRef, type SavedResult, checkpointText, readCheckpoint } from './checkpoint.js';
import { Aborted, EXIT, exploreStatus, type Signal, signalStatus } from './exit.js';
import type { JobInput, JobMessage, JobResult } from './job.js';
import { looksLikePath } from './load.js';
import { junitXml, type TraceRef } from './junit.js';
import { writeAtomic } from './output.js';
import { checkOutputDir, checkOutputFile, displayPath, relativeModelPath, replayCommandLine, resolveModelPath, sameFile, shellWord, traceFile } from './paths.js';
import { type Budget, Progress } from './progress.js';
import { type Io, jsonText, printOne, printTable, jsonReport } from './report.js';
import type { ShardVariant } from '../parallel/shard.js';
import type { MemoryModel } from '../machine/tso/store-buffer.js';
import { envMemoryModel, recordedMemoryModel, withMemoryModel } from './memory-model.js';
import { shardDocument } from '../parallel/shard-file.js';

/** What the run needs to know beyond its arguments: the job, and how a checkpoint names the model. */
interface Setup {
  readonly job: JobInput;
  readonly saved?: CheckpointFile;
}

/** The run's memory model: a checkpoint's own on --resume (a different --memory-model is an
 * error), else --memory-model, else MMCHECK_MEMORY_MODEL, else sc. */
function runMemoryModel(args: ExploreArgs, setup: Setup): MemoryModel {
  const env = envMemoryModel();
  if (setup.saved && args.resume !== undefined) {
    return recordedMemoryModel(setup.saved.memoryModel ?? 'sc', args.memoryModel, `checkpoint ${quoteField(args.resume)}`, '--resume');
  }
  return args.memoryModel ?? env;
}

function freshSetup(args: ExploreArgs): Setup {
  const parallel = args.parallel ? { ...args.parallel, maxMemoryMb: args.maxMemoryMb } : undefined;
  return { job: { target: args.target, search: args.search, ...(parallel ? { parallel } : {}) } };
}

function resumeSetup(args: ExploreArgs, file: string): Setup {
  const setup = resumeSetupOf(args, file);
  const saved = setup.saved!;
  if (!saved.parallel) return setup;
  // A split search goes on split, with its finished units.
  const s = saved.splitCurrent;
  const parallel = { workers: saved.parallel.workers, ...(saved.parallel.share === false ? { share: false } : {}), maxMemoryMb: args.maxMemoryMb, ...(s ? { resumed: { [`${s.model}/${s.variant}`]: s } } : {}) };
  return { ...setup, job: { ...setup.job, parallel } };
}

function resumeSetupOf(args: ExploreArgs, file: string): Setup {
  const saved = readCheckpoint(file);
  const ref = saved.model;
  const resume = { completed: saved.completed, current: saved.current };
  if ('all' in ref || 'builtin' in ref) {
    if (args.model !== undefined) throw new UsageError(`checkpoint ${quoteField(file)} is of ${'all' in ref ? 'every built-in model' : `the built-in model ${quoteField(ref.builtin, 80)}`}: leave out --model`);
    return 'all' in ref
      ? { saved, job: { search: saved.search, resume } }
      : { saved, job: { target: ref.builtin, search: saved.search, resume: { ...resume, model: { name: ref.builtin } } } };
  }
  if (args.model === undefined) {
    const named = displayPath(resolveModelPath(file, ref.file.path));
    throw new UsageError(
      `checkpoint ${quoteField(file)} was made from the model file ${quoteField(named)}; mmcheck runs no code a checkpoint names. To continue it with that file: npx mmcheck explore --resume ${shellWord(file)} --model ${shellWord(named)}`,
    );
  }
  if (!looksLikePath(args.model)) throw new UsageError(`--model takes a model file (a path), got "${quoteField(args.model, 80)}"`);
  return { saved, job: { target: args.model, search: saved.search, resume: { ...resume, model: { name: ref.name, sha256: ref.file.sha256 } } } };
}

/** Every output path, checked before exploring: a bad one fails now, not after the search. */
function preflight(args: ExploreArgs): void {
  if (args.writeTraces) checkOutputDir(args.out, '--out');
  if (args.junit !== undefined) checkOutputFile(args.junit, '--junit');
  checkOutputFile(args.checkpoint, '--checkpoint');
  if (args.junit !== undefined && sameFile(args.junit, args.checkpoint)) throw new UsageError('--junit and --checkpoint name the same file');
}

interface Outcome {
  readonly results: JobResult[];
  /** `--shard`: each variant's part. */
  readonly parts: ShardVariant[];
  /** A split variant interrupted: its finished units. */
  readonly splitDone?: ShardVariant;
  /** Set when the run was stopped by a signal before finishing. */
  readonly signal?: Signal;
  readonly current?: CurrentVariant;
  readonly loaded?: Extract<JobMessage, { type: 'loaded' }>;
}

function runWorker(job: JobInput, args: ExploreArgs, io: Io, log: Log): Promise<Outcome> {
  const stop = new SharedArrayBuffer(4);
  const worker = takeExplorer({ job, stop }, args.maxMemoryMb) ?? new Worker(fileURLToPath(workerUrl()), { workerData: { job, stop }, resourceLimits: { maxOldGenerationSizeMb: args.maxMemoryMb } });
  const results: JobResult[] = [];
  const parts: ShardVariant[] = [];
  let splitDone: ShardVariant | undefined;
  const search = job.search;
  const sampling = search.strategy === 'random' || search.strategy === 'pct';
  const budget: Budget = {
    executions: search.maxExecutions ?? (sampling ? search.samples ?? 1000 : undefined),
    timeMs: search.timeLimitS === undefined ? undefined : search.timeLimitS * 1000,
  };
  let current = '';
  let progress: Progress | undefined;
  let lastSign = Date.now();
  let failure: Error | undefined;
  let signal: Signal | undefined;
  let stopped: CurrentVariant | undefined;
  let stoppedEarly = false;
  let loaded: Outcome['loaded'];

  const onSignal = (s: Signal) => {
    if (signal === undefined) {
      signal = s;
      Atomics.store(new Int32Array(stop), 0, 1);
      io.err(`mmcheck: stopping after the current execution (${s === 'SIGINT' ? 'Ctrl-C' : s} again to abort)`);
    } else {
      failure = new Aborted(signal);
      void worker.terminate();
    }
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const watchdog = setInterval(() => {
    // Any message counts as a sign of life: results, progress, minimisation heartbeats.
    if (failure === undefined && Date.now() - lastSign > args.stallTimeoutS * 1000) {
      failure = new UsageError(`${current || 'model'} made no progress for ${args.stallTimeoutS} s: a loop in model code that never yields a step? (every loop must yield; see --max-steps for loops that do)`);
      void worker.terminate();
    }
  }, 250);

  const onMessage = (m: JobMessage) => {
    lastSign = Date.now();
    switch (m.type) {
      case 'loaded':
        loaded = m;
        break;
      case 'start':
        current = m.key;
        progress?.done();
        progress = new Progress(io.isTTY, m.key, budget);
        log.info({ job: m.key, strategy: search.strategy }, 'explore start');
        break;
      case 'progress':
        progress?.update(m.stats, m.pool);
        break;
      case 'split-done':
        splitDone = m.part;
        break;
      case 'shard':
        progress?.done();
        parts.push(m.part);
        log.info({ job: `${m.part.model}/${m.part.variant}`, units: m.part.results.length }, 'shard part done');
        break;
      case 'minimising':
        progress?.done();
        progress = new Progress(io.isTTY, `${m.key} minimising`, { timeMs: m.timeLeftMs });
        log.info({ job: m.key }, 'minimising the counterexample');
        break;
      case 'heartbeat':
        progress?.update(m.stats);
        break;
      case 'result':
        progress?.done();
        results.push(m.result);
        log.info({ job: `${m.result.model}/${m.result.variant}`, verdict: m.result.verdict, executions: m.result.executions, steps: m.result.steps, elapsedMs: Math.round(m.result.elapsedMs) }, 'explore end');
        break;
      case 'interrupted':
        progress?.done();
        stopped = m.current;
        stoppedEarly = true;
        if (m.partial) results.push(m.partial);
        break;
      case 'usage-error':
        failure ??= new UsageError(m.message);
        break;
      case 'done':
        break;
    }
  };

  return new Promise<Outcome>((resolve, reject) => {
    worker.on('message', onMessage);
    worker.on('error', (e: Error) => {
      if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        failure ??= new UsageError(`${current || 'the model'} ran out of memory (the explorer's heap limit is ${args.maxMemoryMb} MB; raise it with --max-memory MB, or make the model smaller)`);
      } else if (failure === undefined) reject(e);
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      progress?.done();
      if (failure) reject(failure);
      // A signal that came after the last variant finished interrupted nothing.
      else resolve({ results, parts, ...(splitDone ? { splitDone } : {}), signal: stoppedEarly ? signal : undefined, current: stopped, loaded });
    });
  });
}

/** How the next checkpoint names the model, or undefined when it cannot (not loaded yet). */
function modelRef(job: JobInput, args: ExploreArgs, loaded: Outcome['loaded']): ModelRef | undefined {
  if (job.target === undefined) return { all: true };
  if (!loaded) return undefined;
  if (!loaded.file) return { builtin: loaded.model };
  return { name: loaded.model, file: { path: relativeModelPath(args.checkpoint, loaded.file.path), sha256: loaded.file.sha256 } };
}

function toSaved(r: JobResult): SavedResult {
  const v = r.violation;
  return {
    model: r.model,
    variant: r.variant,
    params: { ...r.params },
    expected: r.expected,
    asExpected: r.asExpected,
    verdict: r.verdict as SavedResult['verdict'],
    strategy: r.strategy,
    executions: r.executions,
    blocked: r.blocked,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    restoredSteps: r.restoredSteps,
    maxDepth: r.maxDepth,
    elapsedMs: r.elapsedMs,
    ...(r.minimiseMs === undefined ? {} : { minimiseMs: r.minimiseMs }),
    ...(r.cut === undefined ? {} : { cut: r.cut }),
    ...(r.warnings?.length ? { warnings: [...r.warnings] } : {}),
    threads: [...r.threads],
    maxSteps: r.maxSteps,
    ...(v ? { violation: { kind: v.kind, invariant: v.invariant, message: v.message, schedule: [...v.schedule], trace: v.trace.map((s) => ({ tid: s.tid, thread: s.thread, label: s.label, ...(s.note ? { note: s.note } : {}) })), preemptions: v.preemptions } } : {}),
  };
}

/** The command that continues this run, with the output options it was given. */
function resumeCommand(args: ExploreArgs, loaded: Outcome['loaded']): string {
  const words = ['npx', 'mmcheck', 'explore', '--resume', args.checkpoint];
  if (loaded?.file) words.push('--model', displayPath(loaded.file.path));
  if (args.out !== 'traces') words.push('--out', args.out);
  if (!args.writeTraces) words.push('--no-trace');
  if (args.junit !== undefined) words.push('--junit', args.junit);
  if (args.json) words.push('--json');
  return words.map(shellWord).join(' ');
}

function writeCheckpoint(setup: Setup, args: ExploreArgs, o: Outcome, io: Io, memoryModel: MemoryModel): void {
  const model = modelRef(setup.job, args, o.loaded);
  if (!model) {
    io.err('mmcheck: interrupted before the model was loaded: nothing to continue');
    return;
  }
  const completed = o.results.filter((r) => r.verdict !== 'interrupted').map(toSaved);
  // A split search keeps its worker count (it changes no result) and the finished units.
  const par = setup.job.parallel;
  const split = par ? { parallel: { workers: par.workers, ...(par.share === false ? { share: false } : {}) }, ...(o.splitDone ? { splitCurrent: o.splitDone } : {}) } : {};
  writeAtomic(args.checkpoint, checkpointText({ model, search: setup.job.search, memoryModel, completed, ...(o.current ? { current: o.current } : {}), ...split }));
  io.err(`mmcheck: interrupted; continue with: ${resumeCommand(args, o.loaded)}`);
}

function writeTraces(results: readonly JobResult[], args: ExploreArgs, log: Log, memoryModel: MemoryModel): Map<JobResult, TraceRef> {
  const written = new Map<JobResult, TraceRef>();
  if (!args.writeTraces) return written;
  const taken = new Set<string>();
  for (const r of results) {
    if (!r.violation) continue;
    const file = traceFile(args.out, r.stem, taken);
    taken.add(path.resolve(file));
    const modelFile = r.modelFile ? { path: relativeModelPath(file, r.modelFile.path), sha256: r.modelFile.sha256 } : undefined;
    const trace = makeTrace({ model: r.model, modelFile, variant: r.variant, params: r.params, strategy: r.strategy, threads: r.threads, maxSteps: r.maxSteps, memoryModel }, r.violation);
    writeAtomic(file, `${JSON.stringify(trace, null, 2)}\n`);
    written.set(r, { file, replay: replayCommandLine(file, r.modelFile?.path) });
    log.info({ file }, 'trace written');
  }
  return written;
}

/** `merge`: the shards' count, for --json (set by merge-command.ts, which reads the files). */
export interface MergeRun {
  readonly merge?: number;
  readonly job?: JobInput;
}

export async function exploreCommand(given: ExploreArgs, io: Io, log: Log, merging: MergeRun = {}): Promise<number> {
  const args = { ...given, ...(merging.merge ? { merge: merging.merge } : {}) };
  const setup = merging.job ? { job: merging.job } : args.resume !== undefined ? resumeSetup(args, args.resume) : freshSetup(args);
  const memoryModel = runMemoryModel(args, setup);
  preflight(args);
  const outcome = await withMemoryModel(memoryModel, () => runWorker(setup.job, args, io, log));
  if (args.parallel?.shard) {
    // A shard is cheap to run again: an interrupted one leaves no checkpoint and no file.
    if (outcome.signal) return signalStatus(outcome.signal);
    io.out(jsonText(shardDocument(setup.job, args.parallel.shard, outcome.loaded, outcome.parts, memoryModel)));
    return EXIT.ok;
  }
  if (outcome.signal) writeCheckpoint(setup, args, outcome, io, memoryModel);
  const { results } = outcome;
  if (results.length === 0 && !outcome.signal) throw new UsageError('no variant was explored');
  const traces = writeTraces(results, args, log, memoryModel);
  if (args.junit !== undefined) writeAtomic(args.junit, junitXml(results, traces));
  const single = setup.job.target !== undefined && setup.job.search.variant !== undefined;
  const { seed } = setup.job.search;
  const par = setup.job.parallel;
  const parallel = args.merge ? { shards: args.merge } : par ? { workers: par.workers, ...(par.share === false ? { share: false } : {}) } : undefined;
  if (args.json) io.out(jsonText({ ...jsonReport(results, traces, outcome.signal !== undefined, seed, memoryModel), ...(parallel ? { parallel } : {}) }));
  else if (single && results.length === 1) printOne(results[0]!, traces.get(results[0]!), io, seed);
  else printTable(results, traces, io, seed);
  if (outcome.signal) return signalStatus(outcome.signal);
  return results.length ? exploreStatus(results, single) : EXIT.usage;
}
