// `--workers`, `--shard` and `merge` at their edges: shard sets that are not one search, bad
// flags, Ctrl-C and --resume of a split search, and --time-limit over the whole split.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Report, report, shards, timeless } from './helpers.js';
import { interrupt, mmcheck, tmp } from '../cli/helpers.js';

describe('parallel exploration at its edges', () => {
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
    // About 10 s split on 2 workers here, idle; the signal comes half way through, as long as
    // the uninterrupted run took (on this machine, at this load): past the first waves, whose
    // jobs are then finished and kept, and well before the end.
    const args = ['explore', 'ptmigrate', '--variant', 'delimbo', '--param', 'pages=4', '--param', 'reclaim=4', '--param', 'stores=2', '--no-trace', '--json'];
    const t0 = performance.now();
    const whole = report(dir, [...args, '--workers', '2']);
    const took = performance.now() - t0;
    const stopped = await interrupt([...args, '--workers', '2', '--checkpoint', checkpoint], ['SIGINT'], Math.max(1000, took / 2));
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

  it('shards record the memory model, and merge reports (and minimises) under it', () => {
    const dir = tmp();
    const args = ['explore', 'ptmigrate', '--variant', 'no-delimbo', '--memory-model', 'tso', '--workers', '2'];
    const whole = report(dir, [...args, '--no-trace', '--json']);
    const files = shards(dir, args, 2);
    expect(JSON.parse(readFileSync(files[0]!, 'utf8'))).toMatchObject({ memoryModel: 'tso' });
    const merged = report(dir, ['merge', ...files, '--no-trace', '--json']);
    expect(timeless(merged)).toEqual(timeless(whole));
    expect(merged).toMatchObject({ memoryModel: 'tso' });
  }, 120_000);

  it('--time-limit bounds the whole split variant, not each job', () => {
    const started = performance.now();
    const r = mmcheck(['explore', 'ptmigrate', '--variant', 'delimbo', '--param', 'cpus=2', '--param', 'reclaim=2', '--param', 'stores=2', '--workers', '2', '--time-limit', '2', '--no-trace', '--json'], { cwd: tmp() });
    expect(r.code).toBe(4);
    const [result] = (JSON.parse(r.out) as Report).results;
    expect(result).toMatchObject({ verdict: 'bounded', cut: 'time limit 2 s' });
    // The whole search takes over 25 s here (2 workers; 1,979,017 states in the first 25 s); a
    // limit per job would let it run on.
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('refuses --workers, --shard and --no-share-cache that cannot split the search or share in it', () => {
    const cases: [string[], RegExp][] = [
      [['--workers', '0'], /--workers takes a whole number from 1/],
      [['--shard', '4/3'], /--shard takes K\/N/],
      [['--workers', '2', '--strategy', 'random'], /dpor or dfs/],
      [['--shard', '1/2', '--max-executions', '10'], /cannot split a search with --max-executions/],
      [['--no-share-cache'], /--no-share-cache goes with --workers/],
      [['--shard', '1/2', '--no-share-cache'], /--shard never shares states/],
    ];
    for (const [given, message] of cases) {
      const r = mmcheck(['explore', 'percpu', ...given]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
