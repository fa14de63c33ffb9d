// Checkpoints are validated (issue 9 item 3, issue 10 findings 2, 5, 7): versioned, one schema
// for every field including each strategy's saved position, a fingerprint of the model and the
// search, and a checksum. A damaged checkpoint resumes nothing and exits 2 with one line.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SearchArgs } from '../../src/cli/args.js';
import { checkpointText, parseCheckpoint } from '../../src/cli/checkpoint.js';
import { fileHash } from '../../src/cli/load.js';
import { relativeModelPath } from '../../src/cli/paths.js';
import { DfsStrategy } from '../../src/engine/dfs.js';
import { exploreProgram, type ExploreResult, type StrategyName } from '../../src/engine/explore.js';
import { PctStrategy } from '../../src/engine/pct.js';
import { RandomStrategy } from '../../src/engine/random.js';
import { CheckpointError } from '../../src/engine/strategy.js';
import { explore } from '../../src/index.js';
import medium from '../fixtures/medium-model.js';
import { cli, fixture, tmp } from './helpers.js';

const modelFile = fixture('medium-model.ts');
const make = () => medium.build('only', {});

/** An exploration of the medium model stopped after `after` executions, as read from a file. */
function midSearch(strategy: StrategyName, after = 40, cache = false): ExploreResult {
  let polls = 0;
  const r = explore(medium, { variant: 'only', strategy, seed: '0', samples: 300, cache, shouldStop: () => ++polls > after });
  expect(r.verdict).toBe('interrupted');
  return JSON.parse(JSON.stringify(r)) as ExploreResult;
}

type State = Record<string, unknown> & { nodes?: Record<string, unknown>[] };

/** A checkpoint file continuing `r`, with its state changed by `damage` (checksum recomputed). */
function checkpointOf(strategy: StrategyName, r: ExploreResult, damage: (state: State, cp: Record<string, unknown>) => void = () => {}, cache = false): string {
  const dir = tmp();
  const file = path.join(dir, 'ck.json');
  const checkpoint = JSON.parse(JSON.stringify(r.checkpoint)) as Record<string, unknown>;
  damage(checkpoint.state as State, checkpoint);
  // The positions here are the engine's stateless ones (explore() without `cache`).
  const search: SearchArgs = { strategy, seed: '0', samples: 300, params: {}, minimise: true, ...(cache ? {} : { cache: false }) };
  const model = { name: 'medium', file: { path: relativeModelPath(file, modelFile), sha256: fileHash(readFileSync(modelFile)) } };
  writeFileSync(file, checkpointText({ model, search, completed: [], current: { model: 'medium', variant: 'only', threads: [...r.threads], checkpoint: checkpoint as never } }));
  return file;
}

const resume = (file: string) => cli('explore', '--resume', file, '--model', modelFile, '--json', '--no-trace');

function expectRefused(r: { code: number; out: string; err: string }, why: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe(''); // nothing explored, nothing reported
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(why);
  expect(r.err).not.toMatch(/internal error/);
}

describe('checkpoint validation', () => {
  it('a checkpoint of the search over states (its stored states included) resumes to the same result', async () => {
    const whole = explore(medium, { variant: 'only', strategy: 'dpor', cache: true });
    const mid = midSearch('dpor', 10, true);
    expect(mid.checkpoint?.strategy).toBe('stateful');
    const r = await resume(checkpointOf('dpor', mid, undefined, true));
    expect(r.err).toBe('');
    const got = JSON.parse(r.out).results[0];
    expect([got.verdict, got.executions, got.states, got.revisits]).toEqual([whole.verdict, whole.executions, whole.cache!.states, whole.cache!.revisits]);
    // A state cache that does not add up is refused like any other damage.
    const bad = checkpointOf('dpor', mid, (s) => void ((s.cache as { count: number }).count += 1), true);
    expectRefused(await resume(bad), /cache/);
  });

  it.each([
    ['dpor', 0],
    ['random', 4],
    ['pct', 4],
  ] as const)('a %s checkpoint resumes to the same result as an uninterrupted run (exit %i)', async (strategy, status) => {
    const whole = explore(medium, { variant: 'only', strategy, seed: '0', samples: 300 });
    const r = await resume(checkpointOf(strategy, midSearch(strategy)));
    expect(r.err).toBe('');
    expect(r.code).toBe(status);
    const got = JSON.parse(r.out).results[0];
    // Steps are work done, not a result: the engine may restore program state at branch points
    // instead of re-running a prefix, and where it does so depends on where the run resumed.
    expect([got.verdict, got.executions, got.sleepBlocked]).toEqual([whole.verdict, whole.executions, whole.sleepBlocked]);
  });

  it('refuses a damaged DPOR state that would otherwise end "holds" having explored less', async () => {
    const r = midSearch('dpor');
    // What the issue measured: the engine, handed a damaged position, finishes early and says holds.
    const damaged = JSON.parse(JSON.stringify(r.checkpoint));
    damaged.state.nodes = damaged.state.nodes.slice(0, 1);
    const silently = exploreProgram(make, { resume: damaged });
    const whole = exploreProgram(make, {});
    expect(silently.verdict).toBe('holds');
    expect(silently.executions).toBeLessThan(whole.executions);
    // The CLI refuses the same damage: the checksum no longer matches.
    const file = checkpointOf('dpor', r);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.current.checkpoint.state.nodes = doc.current.checkpoint.state.nodes.slice(0, 1);
    writeFileSync(file, JSON.stringify(doc));
    expectRefused(await resume(file), /is damaged: its contents do not match its checksum/);
  });

  it.each([
    ['a chosen thread outside its enabled set', (s: State) => void (s.nodes![0]!.chosen = 2, (s.nodes![0]!.enabled = [0, 1]), (s.nodes![0]!.pending = (s.nodes![0]!.pending as unknown[]).slice(0, 2))), /chosen thread 2 is not in its enabled set/],
    ['an out-of-range thread id', (s: State) => {
      const n = s.nodes![0]!;
      n.enabled = [0, 1, 2, 7];
      n.pending = [...(n.pending as unknown[]), [7, []]];
    }, /search state names thread 7, but the program has 3 threads/],
    ['a backtrack thread that is not enabled', (s: State) => void (s.nodes![1]!.backtrack = [...(s.nodes![1]!.backtrack as number[]), 9]), /backtrack names thread 9, which is not enabled there/],
    ['a negative sleep-blocked count', (s: State) => void (s.sleepBlocked = -1), /field "current\.checkpoint\.state|sleepBlocked.*must not be negative/],
    ['a negative execution count', (_s: State, cp: Record<string, unknown>) => void (cp.executions = -5), /field "current\.checkpoint\.executions": must not be negative/],
    ['a fractional step count', (_s: State, cp: Record<string, unknown>) => void (cp.steps = 1.5), /field "current\.checkpoint\.steps": must be a whole number/],
    ['an unknown strategy', (_s: State, cp: Record<string, unknown>) => void (cp.strategy = 'bfs'), /field "current\.checkpoint\.strategy": must be a strategy name/],
  ])('refuses %s, with the reason, even with a valid checksum', async (_what, damage, why) => {
    expectRefused(await resume(checkpointOf('dpor', midSearch('dpor'), damage)), why);
  });

  it('each strategy refuses a damaged position as a whole, changing nothing', () => {
    const dfs = new DfsStrategy();
    const ok = midSearch('dfs').checkpoint!.state as { stack: { prev: number | null; preemptions: number }[] };
    const badPrev = structuredClone(ok);
    badPrev.stack[1]!.prev = 2;
    expect(() => dfs.restore(badPrev)).toThrow(/prev is 2, but the choice before it was/);
    const badCount = structuredClone(ok);
    badCount.stack[2]!.preemptions = 5;
    expect(() => dfs.restore(badCount)).toThrow(/preemptions is 5, but the choices before it make/);
    expect(() => new DfsStrategy(0).restore({ started: true, pruned: false, stack: [{ options: [0, 1], index: 0, preemptions: 0, prev: null }, { options: [0, 1], index: 1, preemptions: 1, prev: 0 }] })).toThrow(CheckpointError);
    const random = midSearch('random').checkpoint!.state as { rng: { S: number[] } };
    random.rng.S[0] = random.rng.S[1]!;
    expect(() => new RandomStrategy('0', 10).restore(random)).toThrow(/S must be a permutation/);
    const pct = midSearch('pct').checkpoint!.state as { maxLength: number };
    pct.maxLength = 0;
    expect(() => new PctStrategy('0', 10, 3).restore(pct)).toThrow(/maxLength/);
  });

  it.each([
    ['an empty file', ''],
    ['truncated JSON', '{"format":"mmcheck-checkpoint","version":3,'],
    ['an array', '[]'],
    ['a string', '"checkpoint"'],
    ['null', 'null'],
    ['binary bytes', '\u0000\u0001\u00ff\u00fe'],
    ['5,000 levels of nesting in the format field', `{"format":${'['.repeat(5000)}${']'.repeat(5000)}}`],
    ['a prototype key', '{"format":"mmcheck-checkpoint","version":3,"mmcheck":"0.1.0","__proto__":{"polluted":1}}'],
    ['completed that is not a list', JSON.stringify({ format: 'mmcheck-checkpoint', version: 3, mmcheck: '0.1.0', model: { builtin: 'percpu' }, search: { strategy: 'dpor', seed: '0', params: {}, minimise: true }, completed: 'all' })],
    ['a missing state', JSON.stringify({ format: 'mmcheck-checkpoint', version: 3, mmcheck: '0.1.0', model: { builtin: 'percpu' }, search: { strategy: 'dpor', seed: '0', params: {}, minimise: true }, completed: [], current: { model: 'percpu', variant: 'module-mutex', threads: [], checkpoint: { strategy: 'dpor', executions: 1, steps: 1, maxDepth: 1, elapsedMs: 1 } } })],
  ])('refuses a corrupted checkpoint (%s) with one line and exit 2', async (_what, text) => {
    const file = path.join(tmp(), 'ck.json');
    writeFileSync(file, text);
    expectRefused(await cli('explore', '--resume', file), /^mmcheck: checkpoint /);
  });

  it('accepts a checkpoint with a UTF-8 byte order mark', () => {
    const text = checkpointText({ model: { builtin: 'percpu' }, search: { strategy: 'dpor', seed: '0', params: {}, minimise: true }, completed: [] });
    expect(parseCheckpoint(`\ufeff${text}`, 'ck.json').model).toEqual({ builtin: 'percpu' });
  });

  it('refuses a non-numeric stall timeout and a search flag given with --resume', async () => {
    expectRefused(await cli('explore', '--resume', 'ck.json', '--stall-timeout', 'soon'), /--stall-timeout takes a whole number from 1 to 86400, got "soon"/);
    expectRefused(await cli('explore', '--resume', 'ck.json', '--strategy', 'dfs'), /--resume continues the checkpoint's search: --strategy cannot change it/);
    // The checkpoint holds no stall timeout to corrupt: an extra key is refused, not obeyed.
    const doc = JSON.parse(checkpointText({ model: { builtin: 'percpu' }, search: { strategy: 'dpor', seed: '0', params: {}, minimise: true }, completed: [] }));
    doc.search.stallTimeoutS = 'x';
    const file = path.join(tmp(), 'ck.json');
    writeFileSync(file, JSON.stringify(doc));
    expectRefused(await cli('explore', '--resume', file), /field "search": unknown key "stallTimeoutS"/);
  });
});

describe('a forged position that passes every schema', () => {
  it('is refused when its prefix does not fit the program (the engine alone would say "holds" after 0 executions)', async () => {
    const misbehaving = fixture('misbehaving.ts');
    const fp = [[0, [{ loc: 'a', write: true }]], [1, [{ loc: 'b', write: true }]]];
    const node = (chosen: number) => ({ enabled: [0, 1], backtrack: [chosen], done: [], sleep: [], chosen, pending: fp });
    // cpu0 takes a, cpu1 takes b, then cpu0 "runs" — but it waits for b: nobody can run there.
    const checkpoint = { strategy: 'dpor', executions: 0, steps: 0, maxDepth: 0, elapsedMs: 0, state: { started: true, sleepBlocked: 0, nodes: [node(0), node(1), node(0)] } };
    const dir = tmp();
    const file = path.join(dir, 'ck.json');
    const model = { name: 'misbehaving', file: { path: relativeModelPath(file, misbehaving), sha256: fileHash(readFileSync(misbehaving)) } };
    const search: SearchArgs = { variant: 'deadlock', strategy: 'dpor', seed: '0', params: {}, minimise: true };
    writeFileSync(file, checkpointText({ model, search, completed: [], current: { model: 'misbehaving', variant: 'deadlock', threads: ['cpu0', 'cpu1'], checkpoint } }));
    const r = await cli('explore', '--resume', file, '--model', misbehaving, '--json', '--no-trace');
    expectRefused(r, /the checkpoint's search position does not fit the model: trace diverges at step 3/);
  });

  it('is refused when it records other enabled threads than the program has there', async () => {
    const r = midSearch('dpor');
    const file = checkpointOf('dpor', r, (s) => {
      const n = s.nodes![1]!;
      n.enabled = [n.chosen as number];
      n.backtrack = [n.chosen as number];
      n.done = [];
      n.sleep = [];
      n.pending = (n.pending as [number, unknown][]).filter(([t]) => t === n.chosen);
    });
    expectRefused(await resume(file), /does not fit the model: at step 2 it records threads \d as choices, but [\d, ]+ can run/);
  });
});
