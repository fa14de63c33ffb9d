// Where mmcheck writes (issue 10, findings 4 and 5): every output is checked before the search
// starts, trace files stay inside --out and carry their parameters, nothing is left half-written.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from '../../src/cli/output.js';
import { UsageError } from '../../src/model.js';
import { cli, example, fixture, root, tempFiles, tmp } from './helpers.js';

const oneLine = (r: { code: number; err: string; out: string }, why: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(why);
  expect(r.out).toBe('');
};

describe('output paths', () => {
  it('refuses --out naming a file before exploring anything', async () => {
    const before = readFileSync(path.join(root, 'README.md'), 'utf8');
    const t0 = Date.now();
    const r = await cli('explore', '--out', path.join(root, 'README.md'));
    oneLine(r, /--out .*README\.md is not a directory/);
    expect(Date.now() - t0).toBeLessThan(5000); // refused up front, not after exploring every model
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toBe(before);
  });

  it('refuses an --out where nothing can be written, at once (no hang)', async () => {
    const t0 = Date.now();
    oneLine(await cli('explore', example, '--out', '/proc/x'), /--out \/proc\/x: cannot write in \/proc/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it.each([['--junit'], ['--checkpoint']])('refuses %s naming a directory before exploring, leaving no temp file', async (flag) => {
    const dir = tmp();
    const target = path.join(dir, 'folder');
    mkdirSync(target);
    oneLine(await cli('explore', example, '--no-trace', flag, target), new RegExp(`${flag} .*folder is a directory`));
    expect(tempFiles(dir)).toEqual([]);
  });

  it('refuses --html naming a directory, and --html naming the trace being replayed', async () => {
    const dir = tmp();
    await cli('explore', example, '--variant', 'plain', '--out', dir);
    const trace = path.join(dir, 'counter-plain.json');
    const before = readFileSync(trace, 'utf8');
    mkdirSync(path.join(dir, 'page'));
    oneLine(await cli('replay', trace, '--model', example, '--html', path.join(dir, 'page')), /--html .*page is a directory/);
    oneLine(await cli('replay', trace, '--model', example, '--html', trace), /--html .*counter-plain\.json is the trace being replayed: it would be overwritten/);
    oneLine(await cli('replay', trace, '--model', example, '--html', path.join(dir, '.', 'counter-plain.json')), /is the trace being replayed/);
    expect(readFileSync(trace, 'utf8')).toBe(before);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('removes its temp file when a write fails', () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'taken'));
    expect(() => writeAtomic(path.join(dir, 'taken'), 'x')).toThrow(UsageError);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('names a trace after its non-default parameters, so a --param run never overwrites the default trace', async () => {
    const out = tmp();
    await cli('explore', example, '--variant', 'plain', '--out', out);
    const committed = readFileSync(path.join(out, 'counter-plain.json'), 'utf8');
    const r = await cli('explore', example, '--variant', 'plain', '--param', 'cpus=3', '--out', out);
    expect(r.out).toContain(`replay it: npx mmcheck replay ${path.join(out, 'counter-plain@cpus=3.json')}`);
    expect(readFileSync(path.join(out, 'counter-plain.json'), 'utf8')).toBe(committed);
    expect(readdirSync(out).sort()).toEqual(['counter-plain.json', 'counter-plain@cpus=3.json']);
    // Giving a parameter its default value changes nothing: the name is the default one.
    await cli('explore', example, '--variant', 'plain', '--param', 'cpus=2', '--out', out);
    expect(readdirSync(out)).toHaveLength(2);
  });

  it('keeps the trace of a model named ../x inside --out', async () => {
    const dir = tmp();
    const out = path.join(dir, 'a', 'out');
    const r = await cli('explore', fixture('escaping-name.ts'), '--out', out);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual(['___x-.._.._escaped.json']);
    expect(readdirSync(dir)).toEqual(['a']);
    expect(readdirSync(path.join(dir, 'a'))).toEqual(['out']);
    expect(existsSync(path.join(dir, 'escaped.json'))).toBe(false);
  });

  it('writes JUnit that stays well-formed XML whatever the messages contain', async () => {
    const { junitXml } = await import('../../src/cli/junit.js');
    const r = (await import('../../src/index.js')).explore((await import('../fixtures/counter.js')).default, { variant: 'atomic' });
    const hostile = { ...r, asExpected: false, verdict: 'violated' as const, violation: { kind: 'invariant' as const, invariant: 'x\u001b[2J', message: 'bell\u0007 nul\u0000 esc\u001b[31m \ud800 lone', schedule: [], trace: [], preemptions: 0 } };
    const xml = junitXml([hostile]);
    // XML 1.0: no C0 controls but tab/newline/CR, no lone surrogates.
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(xml).toContain('bell\\u0007 nul\\u0000 esc\\u001b[31m \\ud800 lone');
  });

  it('writes only the trace and the report it was asked for, leaving other files alone', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'keep.txt'), 'keep');
    const r = await cli('explore', example, '--variant', 'plain', '--out', dir, '--junit', path.join(dir, 'j.xml'));
    expect(r.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['counter-plain.json', 'j.xml', 'keep.txt']);
  });
});
