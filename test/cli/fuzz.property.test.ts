// Bad input never crashes mmcheck: thousands of generated command lines and trace files each
// end in a clear usage/trace error or a valid result, never another exception.
import fc from 'fast-check';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { type Io, main } from '../../src/cli/main.js';
import { ReplayDivergence } from '../../src/engine/replay.js';
import { UsageError } from '../../src/model.js';
import { TraceError, parseTrace } from '../../src/trace/format.js';
import { replayTrace } from '../../src/trace/replay.js';
import lostUpdate from '../../examples/lost-update.js';

const expectedError = (e: unknown) => e instanceof UsageError || e instanceof TraceError || e instanceof ReplayDivergence;

const token = fc.oneof(
  fc.constantFrom('explore', 'replay', 'list', 'help', '--variant', '--strategy', 'dpor', 'pct', '--param', 'cpus=3', 'x=', '--seed', '--json', '--max-executions', '-1', '0', '7', '--time-limit', '--junit', '--html', '--', '-', '--log-level', 'debug', 'loud', '--preemption-bound', '--no-trace'),
  fc.string({ maxLength: 12 }),
);

describe('fuzzing the argument parser and the trace loader', () => {
  it('parses or rejects any command line with a UsageError', () => {
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

  it('loads or rejects any text as a trace with a TraceError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        try {
          parseTrace(text);
        } catch (e) {
          expect(e).toBeInstanceOf(TraceError);
        }
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it('replays or rejects any mutation of a valid trace with a clear error', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'mmcheck-fuzz-'));
    const io: Io = { out: () => {}, err: () => {}, isTTY: false };
    await main(['explore', path.resolve(__dirname, '../../examples/lost-update.ts'), '--variant', 'plain', '--out', out], io);
    const valid = JSON.parse(readFileSync(path.join(out, 'lost-update-plain.json'), 'utf8')) as Record<string, unknown>;
    const keys = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 8 }), (key, value, schedule) => {
        for (const t of [{ ...valid, [key]: value }, { ...valid, schedule, steps: schedule.map(() => ({ thread: 'cpu0', label: 'load stats->tx' })) }]) {
          try {
            replayTrace(lostUpdate, parseTrace(JSON.stringify(t)));
          } catch (e) {
            if (!expectedError(e)) throw e;
          }
        }
      }),
      { numRuns: 2000, seed: 13 },
    );
  });
});
