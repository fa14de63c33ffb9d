// `mmcheck replay TRACE`: re-runs a trace and prints its swim lane (or writes an HTML page).
// A trace is data: it may name a model file, but replay never loads one on a trace's word —
// only a built-in model, or the file the user names with --model. The file's sha256 in the
// trace tells whether the model changed since. The machines run under the memory model the trace
// recorded (sc for one that records none); a --memory-model that says otherwise is an error.
import { findBuiltin } from '../../models/index.js';
import { type Model, UsageError } from '../model.js';
import { readTextFile } from '../schema/json.js';
import { quoteField } from '../schema/text.js';
import { type TraceFile, TRACE_LIMITS, TraceError, parseTrace, traceMemoryModel } from '../trace/format.js';
import { swimLane } from '../trace/render.js';
import { replayTrace } from '../trace/replay.js';
import { wrap } from '../trace/wrap.js';
import { JsonInputError } from '../schema/json.js';
import type { ReplayArgs } from './args.js';
import { builtinModel, loadModel } from './load.js';
import { writeAtomic } from './output.js';
import { checkOutputFile, displayPath, resolveModelPath, sameFile, shellWord } from './paths.js';
import { type Io, jsonText, VERSION, widthOf } from './report.js';
import { envMemoryModel, recordedMemoryModel, withMemoryModel } from './memory-model.js';

function readTrace(file: string): TraceFile {
  try {
    return parseTrace(readTextFile(file, 'trace', TRACE_LIMITS.maxChars));
  } catch (e) {
    if (e instanceof JsonInputError) throw new TraceError(e.message);
    throw e;
  }
}

/** The model file a trace was recorded from, as the user would type it, if it names one. */
function namedFile(trace: TraceFile, traceFile: string): string | undefined {
  if (trace.version === 2) return trace.modelFile ? displayPath(resolveModelPath(traceFile, trace.modelFile.path)) : undefined;
  return trace.modelPath; // version 1: relative to wherever exploring ran
}

async function modelFor(trace: TraceFile, args: ReplayArgs): Promise<{ model: Model; notes: string[] }> {
  const named = namedFile(trace, args.trace);
  if (args.model === undefined) {
    if (named !== undefined) {
      throw new UsageError(
        `trace ${quoteField(args.trace)} was recorded from the model file ${quoteField(named)}; mmcheck runs no code a trace names. To replay it with that file: npx mmcheck replay ${shellWord(args.trace)} --model ${shellWord(named)}`,
      );
    }
    // Only a built-in by exact name: a model field that looks like a path is never loaded.
    if (!findBuiltin(trace.model)) throw new UsageError(`trace names model "${quoteField(trace.model, 80)}", which is not a built-in model (for a model file, replay with --model FILE)`);
    return { model: builtinModel(trace.model), notes: [] };
  }
  const loaded = await loadModel(args.model);
  const notes: string[] = [];
  const recorded = trace.version === 2 ? trace.modelFile?.sha256 : undefined;
  if (recorded && loaded.file && loaded.file.sha256 !== recorded) {
    notes.push(`(note: ${quoteField(args.model)} changed since this trace was written: sha256 ${recorded.slice(0, 12)}… then, ${loaded.file.sha256.slice(0, 12)}… now)`);
  }
  return { model: loaded.model, notes };
}

export async function replayCommand(args: ReplayArgs, io: Io): Promise<number> {
  const trace = readTrace(args.trace);
  envMemoryModel(); // a bad MMCHECK_MEMORY_MODEL is an error here too, though the trace's wins
  const memoryModel = recordedMemoryModel(traceMemoryModel(trace), args.memoryModel, `trace ${quoteField(args.trace)}`, 'replay');
  // Set before the model file loads: its machine module may read the variable as it loads.
  return withMemoryModel(memoryModel, () => replayUnder(trace, args, io));
}

async function replayUnder(trace: TraceFile, args: ReplayArgs, io: Io): Promise<number> {
  const memoryModel = traceMemoryModel(trace);
  if (args.html !== undefined) {
    if (sameFile(args.html, args.trace)) throw new UsageError(`--html ${quoteField(args.html)} is the trace being replayed: it would be overwritten`);
    checkOutputFile(args.html, '--html');
  }
  const { model, notes } = await modelFor(trace, args);
  const result = replayTrace(model, trace);
  if (args.html !== undefined) {
    const { renderHtml } = await import('../trace/html.js');
    writeAtomic(args.html, renderHtml(trace, result));
    // Under --json, stdout is one JSON document: the note goes to stderr.
    (args.json ? io.err : io.out)(`html written: ${args.html}`);
  }
  if (args.json) {
    io.out(jsonText({ mmcheck: VERSION, trace: args.trace, memoryModel, reproduced: true, failure: result.failure, steps: result.trace, snapshots: result.snapshots }));
    return 0;
  }
  io.out(wrap(`${quoteField(trace.model, 80)}/${quoteField(trace.variant, 80)} ${quoteField(JSON.stringify(trace.params))} — ${trace.schedule.length} steps, ${trace.preemptions} preemptions`, widthOf(io)).join('\n'));
  if (memoryModel === 'tso') io.out('memory model: x86-TSO (store buffers; recorded in the trace)');
  for (const n of notes) io.out(n);
  if (!result.hashMatches) io.out('(note: the model changed shape since this trace was written, but every step still matches)');
  io.out('');
  io.out(swimLane(result.threads, result.trace, result.snapshots, result.failure, widthOf(io)));
  return 0;
}

