// Shared by the parallel CLI tests: a run's --json report, and the shards of a run as files.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { mmcheck } from '../cli/helpers.js';

export interface Report {
  readonly ok: boolean;
  readonly results: readonly Record<string, unknown>[];
  readonly parallel?: unknown;
}

/** A report's results as they compare across runs: everything but time. */
export const timeless = (r: Report) => r.results.map((x) => ({ ...x, elapsedMs: 0 }));

/** Runs `args` in `dir` and returns its --json report. */
export function report(dir: string, args: string[]): Report {
  const r = mmcheck(args, { cwd: dir, timeout: 600_000 });
  expect(r.err).toBe('');
  expect([0, 1]).toContain(r.code);
  return JSON.parse(r.out) as Report;
}

/** The shards 1/n..n/n of `args`, written to files in `dir`. */
export function shards(dir: string, args: string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const r = mmcheck([...args, '--shard', `${i + 1}/${n}`], { cwd: dir, timeout: 600_000 });
    expect(r.code).toBe(0);
    const file = path.join(dir, `shard-${i + 1}.json`);
    writeFileSync(file, r.out);
    return file;
  });
}
