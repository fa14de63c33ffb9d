// `mmcheck litmus`: verdicts per file, --memory-model, --kinds, --json, and bad input as one
// line naming the file and line, exit 2.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tmp } from '../cli/helpers.js';
import { defaultMemoryModel } from '../../src/machine/index.js';

const herd = (f: string) => path.join(__dirname, 'herd', f);

describe('mmcheck litmus', () => {
  it('prints Allow for SB under TSO (the default) and Forbid under SC', async () => {
    const t = await cli('litmus', herd('x86_64/SB.litmus'));
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^SB\s+Allow\s+tso\s+Observation Sometimes 1 3\s+Ok/);
    const s = await cli('litmus', '--memory-model', 'sc', herd('x86_64/SB.litmus'));
    expect(s.out).toMatch(/^SB\s+Forbid\s+sc\s+Observation Never 0 3\s+No/);
  });
  it('--kinds compares with a kinds file: 0 when all agree, 1 when one differs', async () => {
    const files = ['SB', 'MP', 'R'].map((n) => herd(`x86_64/${n}.litmus`));
    const kinds = herd('x86_64/kinds.txt');
    const ok = await cli('litmus', '--kinds', kinds, ...files);
    expect([ok.code, ok.out.trim().split('\n').pop()]).toEqual([0, 'all 3 as kinds']);
    const sc = await cli('litmus', '--memory-model', 'sc', '--kinds', kinds, ...files);
    expect(sc.code).toBe(1);
    expect(sc.out).toMatch(/SB .*DIFFERS \(kinds: Allow\)/);
  });
  it('--kinds Require is met by a forall test that holds in every final state', async () => {
    const dir = tmp();
    const test = path.join(dir, 'SBfenced.litmus');
    writeFileSync(test, 'X86 SBfenced\n{ }\n P0 | P1 ;\n MOV [x],$1 | MOV [y],$1 ;\n MFENCE | MFENCE ;\n MOV EAX,[y] | MOV EAX,[x] ;\nforall (0:EAX=1 \\/ 1:EAX=1)\n');
    const kinds = path.join(dir, 'kinds.txt');
    writeFileSync(kinds, 'SBfenced Require\n');
    const tso = await cli('litmus', '--kinds', kinds, test);
    expect([tso.code, tso.out.trim().split('\n').pop()]).toEqual([0, 'all 1 as kinds']);
    writeFileSync(test, 'X86 SBfenced\n{ }\n P0 | P1 ;\n MOV [x],$1 | MOV [y],$1 ;\n MOV EAX,[y] | MOV EAX,[x] ;\nforall (0:EAX=1 \\/ 1:EAX=1)\n');
    expect((await cli('litmus', '--kinds', kinds, test)).code).toBe(1);
  });
  it('--json gives each test its verdict, counts and final states', async () => {
    const r = await cli('litmus', '--json', '--strategy', 'dfs', herd('x86/SB.litmus'));
    const doc = JSON.parse(r.out) as { memoryModel: string; strategy: string; tests: { name: string; verdict: string; states: string[] }[] };
    expect([doc.memoryModel, doc.strategy]).toEqual(['tso', 'dfs']);
    expect(doc.tests.map((t) => [t.name, t.verdict])).toEqual([['SB', 'Allow']]);
    expect(doc.tests[0]!.states).toContain('0:rax=0; 1:rax=0; x=1; y=1');
  });
  it('bad input is one line naming the file and line, exit 2', async () => {
    const f = path.join(tmp(), 'bad.litmus');
    writeFileSync(f, 'X86 bad\n{ }\n P0 ;\n MOV [x],$1 ;\n JMP L0 ;\nexists (x=1)\n');
    const r = await cli('litmus', f);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`mmcheck: ${f}:5: unsupported instruction "JMP L0" (mmcheck reads mov, mfence, lfence, sfence, xchg, xadd, cmpxchg, add, sub, or, and, xor, inc, dec, with or without lock)\n`);
  });
  it.each([
    ['a missing file', ['litmus', '/nonexistent/x.litmus'], /^mmcheck: cannot read litmus file \/nonexistent\/x.litmus \(ENOENT\)\n$/],
    ['an unknown memory model', ['litmus', '--memory-model', 'pso', 'x.litmus'], /^mmcheck: unknown memory model "pso" \(memory models: sc, tso\)\n$/],
    ['a sampling strategy', ['litmus', '--strategy', 'random', 'x.litmus'], /^mmcheck: litmus explores exhaustively/],
    ['no file', ['litmus'], /^mmcheck: litmus takes one or more .litmus files\n$/],
  ])('refuses %s with exit 2', async (_what, argv, err) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(err);
  });
  it('litmus --help explains every option', async () => {
    const r = await cli('litmus', '--help');
    for (const f of ['memory-model', 'strategy', 'kinds', 'json']) expect(r.out).toMatch(new RegExp(`^  --${f}\\b.*\\S`, 'm'));
  });
});

describe('mmcheck explore --memory-model', () => {
  const states = async (...extra: string[]) => {
    const r = await cli('explore', 'vmap', '--variant', 'fixed', '--no-trace', '--json', ...extra);
    expect(r.code).toBe(0);
    return (JSON.parse(r.out) as { results: { verdict: string; states: number }[] }).results[0]!;
  };
  it('tso runs the built-in model on store buffers (more states, the same verdict) and is undone after the command', async () => {
    const sc = await states();
    const tso = await states('--memory-model', 'tso');
    expect([sc.verdict, tso.verdict]).toEqual(['holds', 'holds']);
    expect(tso.states).toBeGreaterThan(sc.states);
    expect(defaultMemoryModel()).toBe('sc');
    expect(process.env.MMCHECK_MEMORY_MODEL).toBeUndefined();
    expect((await states('--memory-model', 'sc')).states).toBe(sc.states);
  });
  it('refuses an unknown memory model with exit 2', async () => {
    const r = await cli('explore', 'vmap', '--memory-model', 'arm');
    expect([r.code, r.err]).toEqual([2, 'mmcheck: unknown memory model "arm" (memory models: sc, tso)\n']);
  });
});
