// Traces and checkpoints from strangers (issue 10, findings 1 and 2): replay and resume never
// run a file because the data names it, never write where the data says, and refuse a
// checkpoint of another model, version or search, or a damaged one, with the reason.
import { copyFileSync, existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointText, type SavedResult } from '../../src/cli/checkpoint.js';
import { fileHash } from '../../src/cli/load.js';
import type { SearchArgs } from '../../src/cli/args.js';
import { cli, example, fixture, mmcheck, tmp } from './helpers.js';

const search: SearchArgs = { strategy: 'dpor', seed: '0', params: {}, minimise: true };

/** A directory holding the hostile model file, a marker path, and a trace naming the file. */
function hostileDir() {
  const dir = tmp();
  const evil = path.join(dir, 'evil.mjs');
  copyFileSync(fixture('writes-marker.mjs'), evil);
  return { dir, evil, marker: path.join(dir, 'MARKER'), sha256: fileHash(readFileSync(evil)) };
}

function traceNaming(dir: string, extra: Record<string, unknown>): string {
  const trace = {
    format: 'mmcheck-trace',
    model: 'marker',
    variant: 'plain',
    params: {},
    modelHash: '0000000000000000',
    strategy: 'dpor',
    threads: ['cpu0', 'cpu1'],
    schedule: [0, 1, 0, 1],
    preemptions: 2,
    violation: { kind: 'invariant', invariant: 'no-lost-update', step: 4, message: 'counter is 1' },
    steps: [
      { thread: 'cpu0', label: 'load' },
      { thread: 'cpu1', label: 'load' },
      { thread: 'cpu0', label: 'store' },
      { thread: 'cpu1', label: 'store' },
    ],
    ...extra,
  };
  const file = path.join(dir, 'trace.json');
  writeFileSync(file, JSON.stringify(trace));
  return file;
}

describe('a trace naming a model file (finding 1)', () => {
  it('is refused with the command to run it, and the file never runs', () => {
    const h = hostileDir();
    const trace = traceNaming(h.dir, { version: 2, mmcheck: '0.1.0', maxSteps: 2000, modelFile: { path: 'evil.mjs', sha256: h.sha256 } });
    const r = mmcheck(['replay', trace], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      `mmcheck: trace ${trace} was recorded from the model file ./evil.mjs; mmcheck runs no code a trace names. To replay it with that file: npx mmcheck replay ${trace} --model ./evil.mjs`,
    );
    expect(existsSync(h.marker)).toBe(false);
    // The printed command is exact: run as printed, it replays (and the file, now chosen, runs).
    const ok = mmcheck(['replay', trace, '--model', './evil.mjs'], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('VIOLATION after step 4: invariant no-lost-update');
    expect(existsSync(h.marker)).toBe(true);
  });

  it('is refused for a version 1 modelPath, and for a model name that looks like a path', () => {
    const h = hostileDir();
    for (const extra of [{ version: 1, modelPath: 'evil.mjs' }, { version: 1, model: 'evil.mjs' }, { version: 1, model: './evil.mjs' }]) {
      const trace = traceNaming(h.dir, extra);
      const r = mmcheck(['replay', trace], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^mmcheck: trace .*(--model evil\.mjs$|which is not a built-in model)/m);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(existsSync(h.marker)).toBe(false);
    }
  });

  it('stores the model path relative to the trace, with the sha256 of the file', async () => {
    const out = tmp();
    await cli('explore', example, '--variant', 'plain', '--out', out);
    const trace = JSON.parse(readFileSync(path.join(out, 'counter-plain.json'), 'utf8'));
    expect(trace.version).toBe(2);
    expect(path.resolve(out, trace.modelFile.path)).toBe(example);
    expect(trace.modelFile.sha256).toBe(fileHash(readFileSync(example)));
  });

  it('says when the model file changed since the trace was written', async () => {
    const h = hostileDir(); // a model file with no imports, so it loads from any directory
    expect((await cli('explore', h.evil, '--variant', 'plain', '--out', h.dir)).code).toBe(1);
    appendFileSync(h.evil, '\n// edited\n');
    const r = await cli('replay', path.join(h.dir, 'marker-plain.json'), '--model', h.evil);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: .*evil\.mjs changed since this trace was written: sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now/);
  });
});

function writeCheckpoint(dir: string, body: Parameters<typeof checkpointText>[0]): string {
  const file = path.join(dir, 'ck.json');
  writeFileSync(file, checkpointText(body));
  return file;
}

const holdsResult = (variant: string, o: Partial<SavedResult> = {}): SavedResult => ({
  model: 'percpu', variant, params: { cpus: 2, modules: 2 }, expected: 'holds', asExpected: true, verdict: 'holds', strategy: 'dpor',
  executions: 2, blocked: 0, sleepBlocked: 0, steps: 10, maxDepth: 5, elapsedMs: 1, threads: ['cpu0'], maxSteps: 2000, ...o,
});

describe('a checkpoint from a stranger (finding 2)', () => {
  it('naming a model file is refused with the command to continue it, and the file never runs', () => {
    const h = hostileDir();
    const ck = writeCheckpoint(h.dir, { model: { name: 'marker', file: { path: 'evil.mjs', sha256: h.sha256 } }, search, completed: [] });
    const r = mmcheck(['explore', '--resume', ck], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      `mmcheck: checkpoint ${ck} was made from the model file ./evil.mjs; mmcheck runs no code a checkpoint names. To continue it with that file: npx mmcheck explore --resume ${ck} --model ./evil.mjs`,
    );
    expect(existsSync(h.marker)).toBe(false);
    const ok = mmcheck(['explore', '--resume', ck, '--model', './evil.mjs', '--no-trace'], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0); // every variant (one) showed what it declares
    expect(ok.out).toContain('1 variants, 1 as expected, 0 not');
  });

  it('of the old format, naming a target and a junit file, runs nothing and overwrites nothing', () => {
    const h = hostileDir();
    const victim = path.join(h.dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const ck = path.join(h.dir, 'old.json');
    writeFileSync(ck, JSON.stringify({ format: 'mmcheck-checkpoint', version: 1, args: { command: 'explore', target: h.evil, junit: victim, out: '..', strategy: 'dpor', params: {} }, completed: [] }));
    const r = mmcheck(['explore', '--resume', ck], { cwd: h.dir, env: { MMCHECK_MARKER: h.marker } });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^mmcheck: checkpoint .* has version 1; this mmcheck reads version 3: start the search again$/);
    expect(existsSync(h.marker)).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('holds no output paths: a junit or out key is refused, not obeyed', async () => {
    const dir = tmp();
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const text = checkpointText({ model: { builtin: 'percpu' }, search, completed: [] });
    const withJunit = JSON.parse(text);
    withJunit.junit = victim;
    const ck = path.join(dir, 'ck.json');
    writeFileSync(ck, JSON.stringify(withJunit));
    const r = await cli('explore', '--resume', ck);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is malformed: top level: unknown key "junit"/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('whose completed entry is named ../escaped writes nothing outside --out', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    const bad = holdsResult('../escaped', { verdict: 'violated', asExpected: false, violation: { kind: 'invariant', invariant: 'x', message: 'm', schedule: [], trace: [], preemptions: 0 } });
    const ck = writeCheckpoint(dir, { model: { builtin: 'percpu' }, search, completed: [bad] });
    const r = await cli('explore', '--resume', ck, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/completed variant percpu\/\.\.\/escaped is not variant 1 of this search/);
    expect(existsSync(path.join(dir, 'escaped.json'))).toBe(false);
    expect(existsSync(path.join(dir, 'percpu-..', 'escaped.json'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('of another model, of a model file edited since, or of another version is refused with the reason', async () => {
    const h = hostileDir();
    const ck = writeCheckpoint(h.dir, { model: { name: 'marker', file: { path: 'evil.mjs', sha256: h.sha256 } }, search, completed: [] });
    const other = await cli('explore', '--resume', ck, '--model', example);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/the checkpoint is of model "marker", but the model given is "counter"/);

    appendFileSync(h.evil, '\n// edited\n');
    const edited = mmcheck(['explore', '--resume', ck, '--model', h.evil], { env: { MMCHECK_MARKER: path.join(h.dir, 'M2') } });
    expect(edited.code).toBe(2);
    expect(edited.err).toMatch(/model file .*evil\.mjs changed since the checkpoint was written \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\): start the search again/);

    const old = JSON.parse(checkpointText({ model: { builtin: 'percpu' }, search, completed: [] }));
    writeFileSync(ck, JSON.stringify({ ...old, mmcheck: '0.0.9' }));
    const version = await cli('explore', '--resume', ck);
    expect(version.code).toBe(2);
    expect(version.err).toMatch(/was written by mmcheck 0\.0\.9, this is 0\.1\.0/);
  });

  it('whose results have other parameters than its search is refused', async () => {
    const dir = tmp();
    const ck = writeCheckpoint(dir, { model: { builtin: 'percpu' }, search, completed: [holdsResult('module-mutex', { params: { cpus: 3, modules: 2 } })] });
    const r = await cli('explore', '--resume', ck, '--no-trace');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has other parameters than its search/);
  });

  it('of a built-in model takes no --model (the checkpoint says which model)', async () => {
    const dir = tmp();
    const ck = writeCheckpoint(dir, { model: { builtin: 'percpu' }, search, completed: [] });
    const r = await cli('explore', '--resume', ck, '--model', example);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is of the built-in model percpu: leave out --model/);
  });
});
