// `--workers`, `--shard` and `mmcheck merge` end to end: every worker count reports the very
// results of one worker — times and the worker count aside —, every shard split merged those of
// the unsharded run whose jobs share no states either (--no-share-cache), and merge prints what
// that run prints.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { report, shards, timeless } from './helpers.js';
import { fixture, mmcheck, tmp } from '../cli/helpers.js';

const masked = (t: string) => t.replace(/\d+(\.\d+)?\s?(ms|s)\b/g, 'T').replace(/time="[^"]*"/g, 'time=""');

describe('parallel exploration', () => {
  it('reports the same results on every built-in variant for 1, 2 and 4 workers, and for 3 shards merged as without shared states', () => {
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
    const unshared = report(dir, [...args, '--workers', '2', '--no-share-cache', '--json']);
    expect(unshared.parallel).toEqual({ workers: 2, share: false });
    const merged = report(dir, ['merge', ...shards(dir, [...args, '--workers', '1'], 3), '--no-trace', '--json']);
    expect(merged.parallel).toEqual({ shards: 3 });
    expect(timeless(merged)).toEqual(timeless(unshared));
    // Jobs that look up what earlier waves explored store fewer states, with the same verdicts.
    const states = (r: typeof one) => r.results.reduce((n, x) => n + Number(x.states ?? 0), 0);
    expect(states(one)).toBeLessThan(states(unshared));
    expect(one.results.map((x) => x.verdict)).toEqual(unshared.results.map((x) => x.verdict));
  }, 900_000);

  it('reports the same results for 1 and 4 workers, and for 2 shards of 2 workers merged as without shared states, on random programs (tsx-loaded in each worker)', () => {
    const dir = tmp();
    let jobs = 0;
    // Drawn to hold with a few hundred executions, to violate, and to hold with thousands.
    for (const seed of [2, 4, 6]) {
      const args = ['explore', fixture('random-toy.ts'), '--param', `seed=${seed}`, '--no-trace'];
      const one = report(dir, [...args, '--workers', '1', '--json']);
      expect(timeless(report(dir, [...args, '--workers', '4', '--json']))).toEqual(timeless(one));
      const files = shards(dir, [...args, '--workers', '2'], 2);
      jobs += files.reduce((k, f) => k + (JSON.parse(readFileSync(f, 'utf8')) as { variants: { results: unknown[] }[] }).variants[0]!.results.length, 0);
      const unshared = report(dir, [...args, '--workers', '1', '--no-share-cache', '--json']);
      expect(timeless(report(dir, ['merge', ...files, '--no-trace', '--json']))).toEqual(timeless(unshared));
    }
    // The programs were split into jobs that ran on the pool, not only into leaves.
    expect(jobs).toBeGreaterThan(50);
  }, 600_000);

  it('merge prints the summary, JSON, JUnit and minimised trace files of the unsharded run', () => {
    const dir = tmp();
    const model = ['explore', 'ptmigrate', '--workers', '2', '--no-share-cache'];
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
});
