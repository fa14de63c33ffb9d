// Bad input never crashes mmcheck: thousands of generated command lines, trace texts, mutated
// traces, checkpoints, strategy states, model specs and output paths each end in a clear error
// (exit 2) or a valid result — never an internal error (exit 3) or another exception.
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { checkpointText, parseCheckpoint } from '../../src/cli/checkpoint.js';
import { main, type Io } from '../../src/cli/main.js';
import { checkModelSpec } from '../../src/cli/model-spec.js';
import { checkOutputDir, checkOutputFile, traceFile } from '../../src/cli/paths.js';
import { DfsStrategy } from '../../src/engine/dfs.js';
import { exploreProgram, type StrategyName } from '../../src/engine/explore.js';
import { PctStrategy } from '../../src/engine/pct.js';
import { ReplayDivergence } from '../../src/engine/replay.js';
import { RandomStrategy } from '../../src/engine/random.js';
import { CheckpointError } from '../../src/engine/strategy.js';
import { DporStrategy } from '../../src/engine/dpor.js';
import { Dependence } from '../../src/engine/dependence.js';
import { explore } from '../../src/index.js';
import { maxThreadId } from '../../src/engine/checkpoint-schema.js';
import { UsageError } from '../../src/model.js';
import { TraceError, parseTrace } from '../../src/trace/format.js';
import { replayTrace } from '../../src/trace/replay.js';
import lostUpdate from '../fixtures/counter.js';
import medium from '../fixtures/medium-model.js';
import { cli, example, tmp } from './helpers.js';

const clearError = (e: unknown) => e instanceof UsageError || e instanceof TraceError || e instanceof ReplayDivergence || e instanceof CheckpointError;
const expectClear = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (!clearError(e)) throw e;
  }
};

const token = fc.oneof(
  fc.constantFrom('explore', 'replay', 'list', 'help', '--variant', '--strategy', 'dpor', 'pct', '--param', 'cpus=3', 'x=', '--seed', '--json', '--max-executions', '-1', '0', '7', '--time-limit', '--junit', '--html', '--', '-', '--log-level', 'debug', 'loud', '--preemption-bound', '--no-trace', '--resume', '--model', '--max-memory', '--stall-timeout', 'constructor=1', '__proto__=2', '', '--out'),
  fc.string({ maxLength: 12 }),
);

/** A JSON value with a nested path replaced: mutations deep inside a valid document. */
function mutateAt(doc: unknown, pathBits: readonly number[], value: unknown): unknown {
  if (pathBits.length === 0 || doc === null || typeof doc !== 'object') return value;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [String(i), v] as const) : Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return value;
  const [k, v] = entries[pathBits[0]! % entries.length]!;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) };
  (copy as Record<string, unknown>)[k] = mutateAt(v, pathBits.slice(1), value);
  return copy;
}
const mutation = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(fc.jsonValue(), fc.constantFrom(-1, 1.5, 1e308, '', null, [], {}, 2 ** 53, 'x'.repeat(2000))));

describe('fuzzing every input mmcheck reads', () => {
  let valid: Record<string, unknown>;
  beforeAll(async () => {
    const out = tmp();
    await cli('explore', example, '--variant', 'plain', '--out', out);
    valid = JSON.parse(readFileSync(path.join(out, 'counter-plain.json'), 'utf8'));
  });

  it('parses or rejects any command line with a UsageError (3000 cases)', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
        try {
          parseCommandLine(argv);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('loads or rejects any text as a trace with a TraceError (3000 cases)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => JSON.stringify({ ...valid, format: 'mmcheck-trace', version: 2, x: v }))), (text) => {
        try {
          parseTrace(text);
        } catch (e) {
          expect(e).toBeInstanceOf(TraceError);
        }
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it('replays or rejects any mutation of a valid trace, top-level or nested (3000 cases)', () => {
    const keys = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 8 }), mutation, (key, value, schedule, [at, nested]) => {
        const cases = [
          { ...valid, [key]: value },
          { ...valid, schedule, steps: schedule.map(() => ({ thread: 'cpu0', label: 'load stats->tx' })) },
          mutateAt(valid, at, nested),
        ];
        for (const t of cases) expectClear(() => replayTrace(lostUpdate, parseTrace(JSON.stringify(t))));
      }),
      { numRuns: 3000, seed: 13 },
    );
  });

  it('mmcheck replay exits 0 or 2, never 3, for generated trace files (400 cases)', async () => {
    const dir = tmp();
    const quiet: Io = { out: () => {}, err: () => {}, isTTY: false };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), mutation.map(([at, v]) => JSON.stringify(mutateAt(valid, at, v)))), fc.boolean(), async (text, withModel) => {
        const file = path.join(dir, 't.json');
        writeFileSync(file, text);
        const code = await main(['replay', file, ...(withModel ? ['--model', example] : [])], quiet);
        expect([0, 2]).toContain(code);
      }),
      { numRuns: 400, seed: 14 },
    );
  });

  it('reads or rejects any checkpoint text, and any mutation of a valid one, with a CheckpointError (3000 cases)', () => {
    let polls = 0;
    const r = explore(medium, { variant: 'only', shouldStop: () => ++polls > 30 });
    const good = JSON.parse(
      checkpointText({
        model: { builtin: 'percpu' },
        search: { strategy: 'dpor', seed: '0', params: {}, minimise: true },
        completed: [],
        current: { model: 'percpu', variant: 'module-mutex', threads: [...r.threads], checkpoint: JSON.parse(JSON.stringify(r.checkpoint)) },
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), mutation.map(([at, v]) => JSON.stringify(mutateAt(good, at, v)))), (text) => {
        try {
          parseCheckpoint(text, 'ck.json');
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 3000, seed: 15 },
    );
  });

  it.each(['dpor', 'dfs', 'random', 'pct'] as StrategyName[])('restores or refuses any mutation of a %s position; a restored one explores without crashing (1000 cases)', (strategy) => {
    let polls = 0;
    const r = explore(medium, { variant: 'only', strategy, seed: '1', samples: 200, shouldStop: () => ++polls > 20 });
    const state = JSON.parse(JSON.stringify(r.checkpoint!.state)) as unknown;
    const fresh = () => {
      switch (strategy) {
        case 'dpor':
          return new DporStrategy(new Dependence([]));
        case 'dfs':
          return new DfsStrategy();
        case 'random':
          return new RandomStrategy('1', 200);
        default:
          return new PctStrategy('1', 200, 3);
      }
    };
    fc.assert(
      fc.property(mutation, ([at, v]) => {
        const mutated = mutateAt(state, at, v);
        let restored = true;
        try {
          fresh().restore(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
          restored = false;
        }
        // A position that passes the schema must not crash the search (bounded to stay fast).
        if (restored && maxThreadId(r.checkpoint!.strategy, mutated) < r.threads.length) expectClear(() => exploreProgram(() => medium.build('only', {}), { strategy, seed: '1', samples: 200, maxExecutions: 20, resume: { ...r.checkpoint!, state: mutated } }));
      }),
      { numRuns: 1000, seed: 16 },
    );
  });

  it('mmcheck replay and list exit 0 or 2, never 3, for generated command lines (500 cases)', async () => {
    const quiet: Io = { out: () => {}, err: () => {}, isTTY: false };
    const dir = tmp();
    const file = path.join(dir, 't.json');
    writeFileSync(file, JSON.stringify(valid));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('replay', 'list', 'help'), fc.array(fc.oneof(token, fc.constantFrom(file, '--model', example, '--html', path.join(dir, 'h.html'), dir)), { maxLength: 6 }), async (command, rest) => {
        expect([0, 2]).toContain(await main([command, ...rest], quiet));
      }),
      { numRuns: 500, seed: 19 },
    );
  });

  it('mmcheck explore --resume exits 2, never 3, for generated and mutated checkpoint files (300 cases)', async () => {
    const quiet: Io = { out: () => {}, err: () => {}, isTTY: false };
    const dir = tmp();
    const good = JSON.parse(checkpointText({ model: { builtin: 'percpu' }, search: { strategy: 'dpor', seed: '0', params: {}, minimise: true }, completed: [] }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 100 }), mutation.map(([at, v]) => JSON.stringify(mutateAt(good, at, v)))), async (text) => {
        const file = path.join(dir, 'ck.json');
        writeFileSync(file, text);
        const code = await main(['explore', '--resume', file, '--no-trace', '--checkpoint', path.join(dir, 'next.json')], quiet);
        // A mutation that changes nothing is a valid checkpoint of percpu: it runs (0 or 1).
        expect(text === JSON.stringify(good) ? [0, 1] : [2]).toContain(code);
      }),
      { numRuns: 300, seed: 20 },
    );
  });

  it('accepts or rejects any model spec with a UsageError (3000 cases)', () => {
    const spec = fc.record(
      {
        name: fc.oneof(fc.string(), fc.anything()),
        params: fc.oneof(fc.dictionary(fc.string(), fc.record({ default: fc.integer(), min: fc.integer(), max: fc.integer() })), fc.anything()),
        variants: fc.oneof(fc.array(fc.record({ name: fc.string(), expect: fc.oneof(fc.constant('holds'), fc.record({ violates: fc.string() }), fc.anything()) })), fc.anything()),
        build: fc.oneof(fc.constant(() => ({ threads: [], invariants: [] })), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(spec, fc.anything()), (x) => {
        try {
          checkModelSpec(x, 'm.ts');
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 3000, seed: 17 },
    );
  });

  it('checks or rejects any output path, and keeps every trace name inside --out (1000 cases)', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'file'), 'x');
    const segment = fc.oneof(fc.constantFrom('..', '.', 'sub', 'file', '', 'new', 'a\u0000b', '/proc', '\u001b[2J'), fc.string({ maxLength: 10 }));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 60 }), (parts, stem) => {
        const p = path.join(dir, ...parts);
        expectClear(() => checkOutputDir(p, '--out'));
        expectClear(() => checkOutputFile(p, '--junit'));
        const f = traceFile(path.join(dir, 'sub'), stem);
        expect(path.dirname(path.resolve(f))).toBe(path.join(dir, 'sub'));
      }),
      { numRuns: 1000, seed: 18 },
    );
  });
});
