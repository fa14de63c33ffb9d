// Limits that hold (issue 10, finding 6): --time-limit covers minimisation, which stops with the
// best counterexample so far and shows progress while it runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JobMessage, runJob } from '../../src/cli/job.js';
import { exploreProgram } from '../../src/engine/explore.js';
import { replaySchedule } from '../../src/engine/replay.js';
import { minimise } from '../../src/trace/minimise.js';
import slow from '../fixtures/slow-minimise.js';
import { cli, fixture, mmcheck, tmp } from './helpers.js';

const params = { threads: 5, padding: 30 };
const make = () => slow.build('only', params);

describe('limits', () => {
  it('minimisation stops at its time limit and keeps the best counterexample so far', () => {
    const found = exploreProgram(make, { maxSteps: 2000 }).violation!;
    let ticks = 0;
    const now = () => ticks++; // a clock that advances one unit per reading: deterministic
    let attempts = 0;
    const limited = minimise(make, found, { maxSteps: 2000, timeLimitMs: 50, now, onProgress: () => attempts++ });
    expect(ticks).toBeLessThan(200); // it looked at the clock, saw the limit pass and stopped
    expect(attempts).toBeLessThan(100);
    // Whatever it kept still reproduces the same invariant.
    expect(limited.invariant).toBe(found.invariant);
    expect(replaySchedule(make, limited.schedule, { maxSteps: 2000 }).failure?.invariant).toBe(found.invariant);
  });

  it('minimisation stops when asked to (Ctrl-C), keeping the best so far', () => {
    const found = exploreProgram(make, { maxSteps: 2000 }).violation!;
    const kept = minimise(make, found, { maxSteps: 2000, shouldStop: () => true });
    expect(kept).toBe(found);
  });

  it('--time-limit bounds exploring and minimising together, and the report counts both', () => {
    const out = tmp();
    const t0 = Date.now();
    const r = mmcheck(['explore', fixture('slow-minimise.ts'), '--variant', 'only', '--param', 'padding=200', '--time-limit', '2', '--json', '--out', out]);
    const wall = Date.now() - t0;
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out).results[0];
    expect(res.verdict).toBe('violated');
    expect(res.elapsedMs).toBeGreaterThanOrEqual(1500); // minimisation ran into the limit and is counted
    expect(res.elapsedMs).toBeLessThan(4000);
    expect(wall).toBeLessThan(15_000); // unlimited, this minimisation takes minutes
    const trace = JSON.parse(readFileSync(path.join(out, 'slow-minimise-only@padding=200.json'), 'utf8'));
    expect(trace.violation.invariant).toBe('no-alternation');
  }, 60_000);

  it('sends progress while minimising (the progress line and the stall watchdog both see it)', async () => {
    const messages: JobMessage[] = [];
    await runJob({ target: fixture('slow-minimise.ts'), search: { variant: 'only', strategy: 'dpor', seed: '0', params: { padding: 30 }, minimise: true, timeLimitS: 1 } }, () => false, (m) => messages.push(m));
    const types = messages.map((m) => m.type);
    const from = types.indexOf('minimising');
    expect(from).toBeGreaterThan(0);
    expect(messages[from]).toMatchObject({ type: 'minimising', key: 'slow-minimise/only' });
    const beats = messages.slice(from).filter((m) => m.type === 'heartbeat');
    expect(beats.length).toBeGreaterThan(1);
    const last = beats[beats.length - 1] as Extract<JobMessage, { type: 'heartbeat' }>;
    expect(last.stats.elapsedMs).toBeGreaterThan(0);
    expect(types[types.length - 1]).toBe('result');
  }, 60_000);

  it('rejects a --time-limit that is not a whole number of seconds', async () => {
    const r = await cli('explore', fixture('slow-minimise.ts'), '--time-limit', '0.5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--time-limit takes a whole number from 1/);
  });
});
