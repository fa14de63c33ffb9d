import { describe, expect, it } from 'vitest';
import { Progress, progressLine } from '../../src/cli/progress.js';

describe('progress on a terminal', () => {
  it('shows executions, rate and elapsed time, with no estimate for an unbounded search', () => {
    expect(progressLine('cpa/fixed', { executions: 500, steps: 9000, elapsedMs: 2000 }, {})).toBe('cpa/fixed: 500 executions, 250/s, 2.0s elapsed');
  });

  it('estimates what is left from the execution budget and the time limit, whichever ends first', () => {
    expect(progressLine('x', { executions: 250, steps: 0, elapsedMs: 1000 }, { executions: 1000 })).toBe('x: 250/1000 executions, 250/s, 1.0s elapsed, ~3s left at most');
    expect(progressLine('x', { executions: 250, steps: 0, elapsedMs: 1000 }, { executions: 1000, timeMs: 2000 })).toBe('x: 250/1000 executions, 250/s, 1.0s elapsed, ~1s left at most');
  });

  it('draws only on a terminal, at most four times a second, and clears its line when done', () => {
    const out: string[] = [];
    const p = new Progress(true, 'm/v', {}, (s) => out.push(s));
    p.update({ executions: 1, steps: 1, elapsedMs: 100 });
    p.update({ executions: 2, steps: 2, elapsedMs: 200 });
    p.update({ executions: 3, steps: 3, elapsedMs: 400 });
    p.done();
    expect(out).toEqual(['\r\x1b[Km/v: 1 executions, 10/s, 0.1s elapsed', '\r\x1b[Km/v: 3 executions, 8/s, 0.4s elapsed', '\r\x1b[K']);
    const quiet: string[] = [];
    const q = new Progress(false, 'm/v', {}, (s) => quiet.push(s));
    q.update({ executions: 1, steps: 1, elapsedMs: 1000 });
    q.done();
    expect(quiet).toEqual([]);
  });
});
