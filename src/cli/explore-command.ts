// `mmcheck explore`: runs the job in a worker thread, shows progress, writes traces, reports.
// Ctrl-C stops after the current execution and writes a checkpoint (`--resume` continues it);
// a second Ctrl-C aborts. A worker that shows no progress for --stall-timeout seconds is
// stuck inside one step — a model loop that never yields — and is stopped with a clear error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { UsageError } from '../model.js';
import { makeTrace } from '../trace/format.js';
import type { ExploreArgs } from './args.js';
import type { JobMessage, JobResult, JobResume } from './job.js';
import { junitXml, writeAtomic } from './output.js';
import { type Budget, Progress } from './progress.js';
import { type Io, printOne, printTable, jsonReport } from './report.js';

const CHECKPOINT_FORMAT = 'mmcheck-checkpoint';

interface CheckpointFile {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: 1;
  readonly args: ExploreArgs;
  readonly completed: readonly JobResult[];
  readonly current?: JobResume['current'];
}

function workerUrl(): URL {
  const here = import.meta.url;
  // From TypeScript sources (tests), run the compiled worker: workers cannot load .ts.
  return here.endsWith('.ts') ? new URL('../../dist/src/cli/worker.js', here) : new URL('./worker.js', here);
}

function readCheckpoint(file: string): CheckpointFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(existsSync(file) ? `checkpoint ${file} is not JSON` : `cannot read checkpoint file ${file}`);
  }
  const c = data as Partial<CheckpointFile>;
  if (c?.format !== CHECKPOINT_FORMAT || c.version !== 1 || typeof c.args !== 'object' || !Array.isArray(c.completed)) {
    throw new UsageError(`${file} is not an mmcheck checkpoint (version 1)`);
  }
  return c as CheckpointFile;
}

export async function exploreCommand(given: ExploreArgs, io: Io, log: Logger): Promise<number> {
  const saved = given.resume ? readCheckpoint(given.resume) : undefined;
  const args = saved ? { ...saved.args, resume: undefined } : given;
  const results: JobResult[] = [...(saved?.completed ?? [])];
  const resume: JobResume | undefined = saved ? { completed: saved.completed.map((r) => `${r.model}/${r.variant}`), current: saved.current } : undefined;

  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(fileURLToPath(workerUrl()), { workerData: { args, resume, stop } });
  let current = '';
  let progress: Progress | undefined;
  const sampling = args.strategy === 'random' || args.strategy === 'pct';
  const budget: Budget = {
    executions: args.maxExecutions ?? (sampling ? args.samples ?? 1000 : undefined),
    timeMs: args.timeLimitS === undefined ? undefined : args.timeLimitS * 1000,
  };
  let lastSign = Date.now();
  let interruptedAt: JobResume['current'] | undefined;
  let failure: Error | undefined;
  let sigints = 0;

  const onSigint = () => {
    sigints++;
    if (sigints === 1) {
      Atomics.store(new Int32Array(stop), 0, 1);
      io.err('mmcheck: stopping after the current execution (Ctrl-C again to abort)');
    } else {
      failure = new UsageError('aborted');
      void worker.terminate();
    }
  };
  process.on('SIGINT', onSigint);
  const watchdog = setInterval(() => {
    if (Date.now() - lastSign > args.stallTimeoutS * 1000) {
      failure = new UsageError(`${current || 'model'} made no progress for ${args.stallTimeoutS} s: a loop in model code that never yields a step? (every loop must yield; see --max-steps for loops that do)`);
      void worker.terminate();
    }
  }, 250);

  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: JobMessage) => {
        lastSign = Date.now();
        switch (m.type) {
          case 'start':
            current = m.key;
            progress = new Progress(io.isTTY, m.key, budget);
            log.info({ job: m.key, strategy: args.strategy }, 'explore start');
            break;
          case 'progress':
            progress?.update(m.stats);
            break;
          case 'minimising':
            progress?.done();
            log.info({ job: m.key }, 'minimising the counterexample');
            break;
          case 'heartbeat':
            break;
          case 'result':
            progress?.done();
            results.push(m.result);
            log.info({ job: `${m.result.model}/${m.result.variant}`, verdict: m.result.verdict, executions: m.result.executions, steps: m.result.steps, elapsedMs: Math.round(m.result.elapsedMs) }, 'explore end');
            break;
          case 'interrupted':
            progress?.done();
            interruptedAt = { key: m.key, checkpoint: m.checkpoint };
            results.push(m.partial);
            break;
          case 'usage-error':
            failure = new UsageError(m.message);
            break;
          case 'done':
            break;
        }
      });
      worker.on('error', reject);
      worker.on('exit', () => resolve());
    });
  } finally {
    clearInterval(watchdog);
    process.off('SIGINT', onSigint);
    progress?.done();
  }
  if (failure) throw failure;

  const interrupted = interruptedAt !== undefined || sigints > 0;
  if (interrupted) {
    const finished = results.filter((r) => r.verdict !== 'interrupted');
    const file: CheckpointFile = { format: CHECKPOINT_FORMAT, version: 1, args, completed: finished, current: interruptedAt };
    writeAtomic(args.checkpoint, `${JSON.stringify(file)}\n`);
    io.err(`mmcheck: interrupted; continue with: npx mmcheck explore --resume ${args.checkpoint}`);
  }

  const tracePaths = new Map<JobResult, string>();
  for (const r of results) {
    if (!r.violation || !args.writeTraces) continue;
    const file = path.join(args.out, `${r.model}-${r.variant}.json`);
    const trace = makeTrace({ model: r.model, modelPath: r.modelPath, variant: r.variant, params: r.params, strategy: r.strategy, threads: r.threads }, r.violation);
    writeAtomic(file, `${JSON.stringify(trace, null, 2)}\n`);
    tracePaths.set(r, file);
    log.info({ file }, 'trace written');
  }
  if (args.junit) writeAtomic(args.junit, junitXml(results));
  const single = args.target !== undefined && args.variant !== undefined;
  if (args.json) io.out(JSON.stringify(jsonReport(results, tracePaths, interrupted), null, 2));
  else if (single && results.length === 1) printOne(results[0]!, tracePaths.get(results[0]!), io);
  else printTable(results, tracePaths, io);
  if (interrupted) return 130;
  if (single) return results[0]?.verdict === 'violated' ? 1 : 0;
  return results.every((r) => r.asExpected) ? 0 : 1;
}
