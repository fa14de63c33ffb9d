// `--workers`, `--shard` and `mmcheck merge` end to end: every worker count and every shard
// split report the very results of one worker — times and the worker count aside — and merge
// prints what the unsharded run prints.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, interrupt, mmcheck, tmp } from '../cli/helpers.js';

interface Report {
  readonly ok: boolean;
  readonly results: readonly Record<string, unknown>[];
  readonly parallel?: unknown;
}

const timeless = (r: Report) => r.results.map((x) => ({ ...x, elapsedMs: 0 }));
const masked = (t: string) => t.replace(/\d+(\.\d+)?\s?(ms|s)\b/g, 'T').replace(/time="[^"]*"/g, 'time=""');

/** Runs `args` in `dir` and returns its --json report. */
function report(dir: string, args: string[]): Report {
  const r = mmcheck(args, { cwd: dir, timeout: 600_000 });
  expect(r.err).toBe('');
  expect([0, 1]).toContain(r.code);
  return JSON.parse(r.out) as Report;
}

/** The shards 1/n..n/n of `args`, written to files in `dir`. */
function shards(dir: string, args: string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const r = mmcheck([...args, '--shard', `${i + 1}/${n}`], { cwd: dir, timeout: 600_000 });
    expect(r.code).toBe(0);
    const file = path.join(dir, `shard-${i + 1}.json`);
    writeFileSync(file, r.out);
    return file;
  });
}

describe('parallel exploration', () => {
  it('reports the same results on every built-in variant for 1, 2 and 4 workers and for 3 shards merged', () => {
    const dir = tmp();
    const args = ['explore', '--no-minimise', '--no-trace'];
    const one = report(dir, [...args, '--workers', '1', '--json']);
    expect(one.ok).toBe(true);
    expect(one.results.length).toBeGreaterThan(25);
    expect(one.parallel).toEqual({ workers: 1 });
    for (const n of ['2', '4']) {
      const many = report(dir, [...args, '--workers', n, '--json']);
      expect(many.parallel).toEqual({ workers: Number(n) });
      expect(timeless(many)).toEqual(timeless(one));
    }
    const merged = report(dir, ['merge', ...shards(dir, [...args, '--workers', '1'], 3), '--no-trace', '--json']);
    expect(merged.parallel).toEqual({ shards: 3 });
    expect(timeless(merged)).toEqual(timeless(one));
  }, 900_000);

  it('reports the same results for 1 and 4 workers and for 2 shards of 2 workers merged on random programs (tsx-loaded in each worker)', () => {
    const dir = tmp();
    let jobs = 0;
    // Drawn to hold with a few hundred executions, to violate, and to hold with thousands.
    for (const seed of [2, 4, 6]) {
      const args = ['explore', fixture('random-toy.ts'), '--param', `seed=${seed}`, '--no-trace'];
      const one = report(dir, [...args, '--workers', '1', '--json']);
      expect(timeless(report(dir, [...args, '--workers', '4', '--json']))).toEqual(timeless(one));
      const files = shards(dir, [...args, '--workers', '2'], 2);
      jobs += files.reduce((k, f) => k + (JSON.parse(readFileSync(f, 'utf8')) as { variants: { results: unknown[] }[] }).variants[0]!.results.length, 0);
      expect(timeless(report(dir, ['merge', ...files, '--no-trace', '--json']))).toEqual(timeless(one));
    }
    // The programs were split into jobs that ran on the pool, not only into leaves.
    expect(jobs).toBeGreaterThan(50);
  }, 600_000);

  it('merge prints the summary, JSON, JUnit and minimised trace files of the unsharded run', () => {
    const dir = tmp();
    const model = ['explore', 'ptmigrate', '--workers', '2'];
    const whole = mmcheck([...model, '--out', 'whole', '--junit', 'whole.xml'], { cwd: dir, timeout: 600_000 });
    const files = shards(dir, ['explore', 'ptmigrate', '--workers', '2'], 3);
    const merged = mmcheck(['merge', ...files, '--out', 'merged', '--junit', 'merged.xml'], { cwd: dir, timeout: 600_000 });
    expect(merged.code).toBe(whole.code);
    expect(whole.code).toBe(0); // every ptmigrate variant shows what it declares
    expect(masked(merged.out).replaceAll('merged', 'whole')).toBe(masked(whole.out));
    expect(masked(readFileSync(path.join(dir, 'merged.xml'), 'utf8')).replaceAll('merged', 'whole')).toBe(masked(readFileSync(path.join(dir, 'whole.xml'), 'utf8')));
    const traces = readdirSync(path.join(dir, 'whole')).sort();
    expect(traces.length).toBeGreaterThan(3);
    expect(readdirSync(path.join(dir, 'merged')).sort()).toEqual(traces);
    for (const t of traces) expect(readFileSync(path.join(dir, 'merged', t), 'utf8')).toBe(readFileSync(path.join(dir, 'whole', t), 'utf8'));
  }, 900_000);

  it('merge refuses shards that are not every shard of one search, in one line with exit code 2', () => {
    const dir = tmp();
    const files = shards(dir, ['explore', 'ptmigrate', '--variant', 'no-delimbo', '--workers', '1'], 3);
    const [other] = shards(tmp(), ['explore', 'ptmigrate', '--variant', 'delimbo', '--workers', '1'], 3);
    writeFileSync(path.join(dir, 'bad.json'), '{"format": "mmcheck-shard"');
    const cases: [string[], RegExp][] = [
      [[files[0]!, files[1]!], /shard 3\/3 missing/],
      [[files[0]!, files[0]!, files[2]!], /both shard 1\/3/],
      [[files[0]!, files[1]!, other!], /another search/],
      [[files[0]!, files[1]!, path.join(dir, 'bad.json')], /is not JSON/],
    ];
    for (const [given, message] of cases) {
      const r = mmcheck(['merge', ...given], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  }, 300_000);

  it('resumes an interrupted split search from its finished jobs to the result of an uninterrupted run', async () => {
    const dir = tmp();
    const checkpoint = path.join(dir, 'cp.json');
    const args = ['explore', 'ptmigrate', '--variant', 'delimbo', '--param', 'pages=3', '--param', 'reclaim=3', '--no-trace', '--json'];
    const whole = report(dir, [...args, '--workers', '2']);
    const stopped = await interrupt([...args, '--workers', '2', '--checkpoint', checkpoint], ['SIGINT'], 5000);
    expect(stopped.code).toBe(130);
    const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { parallel: unknown; splitCurrent: { results: unknown[]; units: number } };
    expect(saved.parallel).toEqual({ workers: 2 });
    // Jobs finished before the signal are kept (many take milliseconds); the resumed run does the rest.
    expect(saved.splitCurrent.results.length).toBeGreaterThan(0);
    expect(saved.splitCurrent.results.length).toBeLessThanOrEqual(saved.splitCurrent.units);
    const resumed = report(dir, ['explore', '--resume', checkpoint, '--no-trace', '--json']);
    expect(resumed.parallel).toEqual({ workers: 2 });
    expect(timeless(resumed)).toEqual(timeless(whole));
  }, 300_000);

  it('--time-limit bounds the whole split variant, not each job', () => {
    const started = performance.now();
    const r = mmcheck(['explore', 'ptmigrate', '--variant', 'delimbo', '--param', 'pages=4', '--param', 'reclaim=4', '--workers', '2', '--time-limit', '2', '--no-trace', '--json'], { cwd: tmp() });
    expect(r.code).toBe(4);
    const [result] = (JSON.parse(r.out) as Report).results;
    expect(result).toMatchObject({ verdict: 'bounded', cut: 'time limit 2 s' });
    // The whole search takes about 30 s here; a limit per job would let it run on.
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('refuses --workers and --shard that cannot split the search', () => {
    const cases: [string[], RegExp][] = [
      [['--workers', '0'], /--workers takes a whole number from 1/],
      [['--shard', '4/3'], /--shard takes K\/N/],
      [['--workers', '2', '--strategy', 'random'], /dpor or dfs/],
      [['--shard', '1/2', '--max-executions', '10'], /cannot split a search with --max-executions/],
    ];
    for (const [given, message] of cases) {
      const r = mmcheck(['explore', 'percpu', ...given]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
