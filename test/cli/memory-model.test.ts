// The memory model travels with a trace and a checkpoint: a trace found under TSO replays under
// TSO without the flag, an older trace (no memoryModel) replays under SC whatever the flag or
// MMCHECK_MEMORY_MODEL default is, --resume continues under the checkpoint's model, and a
// --memory-model that contradicts the recorded one is one line and exit 2. Model files run
// through the compiled binary: there the CLI and the model file share one machine module, whose
// default the memory model sets.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpoint } from '../../src/cli/checkpoint.js';
import { cli, fixture, interrupt, mmcheck, root, tmp } from './helpers.js';

const switchMm = fixture('switch-mm-default.ts');
const example = path.join(root, 'examples/switch-mm-flush.ts');
const INVARIANT = 'no-stale-tlb-after-flush';

interface TraceJson {
  memoryModel?: string;
  steps: { label: string }[];
  violation: { invariant: string };
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function expectOneLineError(r: { code: number; out: string; err: string }, why: RegExp) {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(why);
  expect(r.err).not.toMatch(/internal error|\n\s+at /);
}

/** Explores the fixture's no-smp-mb variant under TSO and returns the trace it wrote. */
function tsoTrace(): { dir: string; file: string; explore: { memoryModel: string; results: { verdict: string }[] } } {
  const dir = tmp();
  const r = mmcheck(['explore', switchMm, '--variant', 'no-smp-mb', '--memory-model', 'tso', '--out', dir, '--json']);
  expect(r.code, r.err).toBe(1);
  return { dir, file: path.join(dir, 'switch-mm-default-no-smp-mb.json'), explore: JSON.parse(r.out) };
}

describe('a trace records its memory model', () => {
  it('a TSO violation (switch_mm without smp_mb) replays to the same violation without --memory-model', () => {
    const { file, explore } = tsoTrace();
    expect(explore.memoryModel).toBe('tso');
    const trace = readJson<TraceJson>(file);
    expect(trace.memoryModel).toBe('tso');
    const json = mmcheck(['replay', file, '--model', switchMm, '--json']);
    expect(json.code, json.err).toBe(0);
    const replayed = JSON.parse(json.out) as { memoryModel: string; failure: { invariant: string }; steps: { label: string }[] };
    expect(replayed.memoryModel).toBe('tso');
    expect(replayed.failure.invariant).toBe(INVARIANT);
    expect(replayed.steps.map((s) => s.label)).toEqual(trace.steps.map((s) => s.label));
    // The text and HTML views say so in their header.
    const html = path.join(tmp(), 'trace.html');
    const text = mmcheck(['replay', file, '--model', switchMm, '--html', html]);
    expect(text.code, text.err).toBe(0);
    expect(text.out.split('\n').slice(0, 4).join('\n')).toMatch(/^memory model: x86-TSO/m);
    expect(text.out).toContain(`VIOLATION after step ${trace.steps.length}: invariant ${INVARIANT}`);
    expect(readFileSync(html, 'utf8')).toContain('<div id="memory-model">memory model: x86-TSO (store buffers)</div>');
  });

  it('the same variant holds under SC, and explore --json says sc', () => {
    const r = mmcheck(['explore', switchMm, '--variant', 'no-smp-mb', '--no-trace', '--json']);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { memoryModel: string; results: { verdict: string }[] };
    expect([doc.memoryModel, doc.results[0]!.verdict]).toEqual(['sc', 'holds']);
  });

  it('a trace without memoryModel (an older one) replays under SC: the TSO trace, stripped of it, diverges', () => {
    const { dir, file } = tsoTrace();
    const { memoryModel: _dropped, ...old } = readJson<TraceJson>(file);
    const stripped = path.join(dir, 'old.json');
    writeFileSync(stripped, JSON.stringify(old));
    const r = mmcheck(['replay', stripped, '--model', switchMm]);
    expectOneLineError(r, /trace diverges/);
  });

  it('a replay --memory-model that contradicts the trace is one line, exit 2', () => {
    const { file } = tsoTrace();
    const r = mmcheck(['replay', file, '--model', switchMm, '--memory-model', 'sc']);
    expectOneLineError(r, /^mmcheck: trace .*switch-mm-default-no-smp-mb\.json was recorded under the memory model tso, but --memory-model says sc: replay runs under the recorded one \(leave out --memory-model\)$/m);
    expect(r.out).toBe('');
    // The same model named again is no contradiction.
    expect(mmcheck(['replay', file, '--model', switchMm, '--memory-model', 'tso']).code).toBe(0);
  });

  it('examples/switch-mm-flush.ts (which picks TSO through its tso parameter) replays to its violation without the flag', () => {
    const dir = tmp();
    const r = mmcheck(['explore', example, '--variant', 'no-smp-mb', '--out', dir]);
    expect(r.code, r.err).toBe(1);
    const file = path.join(dir, 'switch-mm-flush-no-smp-mb.json');
    const replay = mmcheck(['replay', file, '--model', example]);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toContain(`invariant ${INVARIANT}`);
  });

  it('a trace written before the field (no memoryModel) replays as SC even when MMCHECK_MEMORY_MODEL=tso, and --memory-model tso contradicts it', async () => {
    // A committed trace with the field taken out: what every trace written before it looks like.
    const { memoryModel: _recorded, ...old } = readJson<TraceJson>(path.join(root, 'traces/ptmigrate-no-delimbo.json'));
    const committed = path.join(tmp(), 'ptmigrate-no-delimbo.json');
    writeFileSync(committed, JSON.stringify(old));
    expect(readJson<TraceJson>(committed).memoryModel).toBeUndefined();
    const r = mmcheck(['replay', committed, '--json'], { env: { MMCHECK_MEMORY_MODEL: 'tso' } });
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { memoryModel: string }).memoryModel).toBe('sc');
    expectOneLineError(await cli('replay', committed, '--memory-model', 'tso'), /was recorded under the memory model sc, but --memory-model says tso/);
  });

  it('a TSO trace of a built-in model replays in-process under TSO (its threads include the store-buffer drains)', async () => {
    const dir = tmp();
    const e = await cli('explore', 'ptmigrate', '--variant', 'no-delimbo', '--memory-model', 'tso', '--out', dir);
    expect(e.code, e.err).toBe(1);
    const file = path.join(dir, 'ptmigrate-no-delimbo.json');
    const r = await cli('replay', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('memory model: x86-TSO');
    expect(r.out).toContain('VIOLATION');
  });
});

describe('a checkpoint records its memory model', () => {
  const search = { variant: 'module-mutex', strategy: 'dpor' as const, seed: '0', params: {}, minimise: true };

  it('keeps it through writing and reading; one without it reads as no memory model (sc)', () => {
    const tso = parseCheckpoint(checkpointText({ model: { builtin: 'percpu' }, search, memoryModel: 'tso', completed: [] }), 'ck.json');
    expect(tso.memoryModel).toBe('tso');
    const old = parseCheckpoint(checkpointText({ model: { builtin: 'percpu' }, search, completed: [] }), 'ck.json');
    expect(old.memoryModel).toBeUndefined();
  });

  it('refuses a memory model that is neither sc nor tso', async () => {
    const doc = JSON.parse(checkpointText({ model: { builtin: 'percpu' }, search, memoryModel: 'tso', completed: [] })) as Record<string, unknown>;
    const file = path.join(tmp(), 'ck.json');
    writeFileSync(file, JSON.stringify({ ...doc, memoryModel: 'arm' }));
    expectOneLineError(await cli('explore', '--resume', file), /field "memoryModel"/);
  });

  it('--resume continues under the checkpoint\'s memory model without the flag; a different flag is one line, exit 2', async () => {
    const file = path.join(tmp(), 'ck.json');
    writeFileSync(file, checkpointText({ model: { builtin: 'percpu' }, search, memoryModel: 'tso', completed: [] }));
    const states = async (...argv: string[]) => {
      const r = await cli(...argv, '--no-trace', '--json');
      expect(r.code, r.err).toBe(0);
      const doc = JSON.parse(r.out) as { memoryModel: string; results: { states: number }[] };
      return [doc.memoryModel, doc.results[0]!.states] as const;
    };
    const tso = await states('explore', 'percpu', '--variant', 'module-mutex', '--memory-model', 'tso');
    const sc = await states('explore', 'percpu', '--variant', 'module-mutex');
    expect(tso[1]).not.toBe(sc[1]); // the store buffers show in the states stored
    expect(await states('explore', '--resume', file)).toEqual(tso);
    expect(await states('explore', '--resume', file, '--memory-model', 'tso')).toEqual(tso);
    const r = await cli('explore', '--resume', file, '--memory-model', 'sc', '--no-trace');
    expectOneLineError(r, /^mmcheck: checkpoint .*ck\.json was recorded under the memory model tso, but --memory-model says sc: --resume runs under the recorded one \(leave out --memory-model\)$/m);
    expect(r.out).toBe('');
  });

  it('an older checkpoint (no memoryModel) resumes under SC even when MMCHECK_MEMORY_MODEL=tso', () => {
    const file = path.join(tmp(), 'ck.json');
    writeFileSync(file, checkpointText({ model: { builtin: 'percpu' }, search, completed: [] }));
    const sc = JSON.parse(mmcheck(['explore', 'percpu', '--variant', 'module-mutex', '--no-trace', '--json']).out) as { results: { states: number }[] };
    const r = mmcheck(['explore', '--resume', file, '--no-trace', '--json'], { env: { MMCHECK_MEMORY_MODEL: 'tso' } });
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { memoryModel: string; results: { states: number }[] };
    expect([doc.memoryModel, doc.results[0]!.states]).toEqual(['sc', sc.results[0]!.states]);
  });

  it('Ctrl-C under TSO writes a checkpoint that says tso, and resuming it with --memory-model sc is refused', async () => {
    const dir = tmp();
    const ck = path.join(dir, 'ck.json');
    // Far longer than the 5 s before the signal (pages=4 reclaim=4 alone takes about 9 s now).
    const args = ['explore', 'ptmigrate', '--variant', 'delimbo', '--param', 'pages=4', '--param', 'reclaim=4', '--param', 'stores=2', '--memory-model', 'tso', '--no-trace', '--checkpoint', ck];
    const r = await interrupt(args, ['SIGINT'], 5000);
    expect(r.code, r.err).toBe(130);
    expect(readJson<{ memoryModel?: string }>(ck).memoryModel).toBe('tso');
    expect(parseCheckpoint(readFileSync(ck, 'utf8'), ck).memoryModel).toBe('tso');
    expectOneLineError(mmcheck(['explore', '--resume', ck, '--memory-model', 'sc', '--no-trace']), /was recorded under the memory model tso, but --memory-model says sc/);
  });
});
