// A trace's memory model (version 2's optional memoryModel; absent in older traces, which ran
// under SC): parsed and validated, applied by replayTrace whatever this process's default memory
// model is (and the default put back after), and named in the HTML view when it is TSO.
import { afterEach, describe, expect, it } from 'vitest';
import { findBuiltin } from '../../models/index.js';
import { explore } from '../../src/index.js';
import { ReplayDivergence } from '../../src/engine/replay.js';
import { defaultMemoryModel, setDefaultMemoryModel } from '../../src/machine/index.js';
import { bindModel } from '../../src/model.js';
import { type TraceFileV2, TraceError, makeTrace, parseTrace, traceMemoryModel } from '../../src/trace/format.js';
import { renderHtml } from '../../src/trace/html.js';
import { replayTrace } from '../../src/trace/replay.js';

const ptmigrate = findBuiltin('ptmigrate')!;
const VARIANT = 'no-delimbo';

/** ptmigrate/no-delimbo's counterexample found on TSO machines, as the CLI writes it. */
function tsoTrace(): TraceFileV2 {
  setDefaultMemoryModel('tso');
  try {
    const r = explore(ptmigrate, { variant: VARIANT });
    expect(r.violation?.invariant).toBe('no-lost-dirty-bit');
    const { params, maxSteps } = bindModel(ptmigrate, VARIANT);
    return makeTrace({ model: ptmigrate.name, variant: VARIANT, params, strategy: r.strategy, threads: r.threads, maxSteps, memoryModel: 'tso' }, r.violation!);
  } finally {
    setDefaultMemoryModel('sc');
  }
}

afterEach(() => setDefaultMemoryModel('sc'));

describe('the memory model of a trace', () => {
  it('is written, read back, and absent means sc (version 2 without the field, and version 1)', () => {
    const t = tsoTrace();
    expect(t.memoryModel).toBe('tso');
    expect(traceMemoryModel(parseTrace(JSON.stringify(t)))).toBe('tso');
    const { memoryModel: _m, ...old } = t;
    expect(traceMemoryModel(parseTrace(JSON.stringify(old)))).toBe('sc');
    const { mmcheck: _v, maxSteps: _s, memoryModel: _mm, ...v1 } = t;
    expect(traceMemoryModel(parseTrace(JSON.stringify({ ...v1, version: 1 })))).toBe('sc');
  });

  it('is validated: another value is a TraceError naming the field', () => {
    expect(() => parseTrace(JSON.stringify({ ...tsoTrace(), memoryModel: 'arm' }))).toThrow(TraceError);
    expect(() => parseTrace(JSON.stringify({ ...tsoTrace(), memoryModel: 'arm' }))).toThrow(/memoryModel/);
  });

  it('replayTrace replays a TSO trace under TSO while the process default is sc, and puts the default back', () => {
    const t = parseTrace(JSON.stringify(tsoTrace()));
    expect(defaultMemoryModel()).toBe('sc');
    const r = replayTrace(ptmigrate, t);
    expect(r.failure?.invariant).toBe('no-lost-dirty-bit');
    expect(r.threads.some((name) => name.startsWith('sb→'))).toBe(true); // the store-buffer drains
    expect(defaultMemoryModel()).toBe('sc');
  });

  it('replayTrace replays a trace that records no memory model under SC while the process default is tso', () => {
    const { memoryModel: _m, ...old } = tsoTrace();
    setDefaultMemoryModel('tso');
    // The TSO schedule does not fit SC machines (no drain actors): SC is what replay used.
    expect(() => replayTrace(ptmigrate, parseTrace(JSON.stringify(old)))).toThrow(ReplayDivergence);
    expect(defaultMemoryModel()).toBe('tso');
  });

  it('the HTML view names TSO in its header, and says nothing of it for SC', () => {
    const t = parseTrace(JSON.stringify(tsoTrace()));
    const html = renderHtml(t, replayTrace(ptmigrate, t));
    expect(html).toContain('<div id="memory-model">memory model: x86-TSO (store buffers)</div>');
    const { memoryModel: _m, ...old } = tsoTrace();
    const sc = { ...old, memoryModel: 'sc' as const };
    // An SC page of the same trace (replayed as TSO for its states): no memory-model line.
    expect(renderHtml(parseTrace(JSON.stringify(sc)), replayTrace(ptmigrate, t))).not.toContain('memory model');
  });
});
