// Input that used to be accepted silently, or crashed (issue 10, findings 5 and 7): each is
// now a clear one-line error with exit 2 — or, for a BOM, simply accepted.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quoteField, safeText } from '../../src/schema/text.js';
import { cli, example, fixture, mmcheck, tmp } from './helpers.js';

type Run = { code: number; out: string; err: string };
const refused = (r: Run, why: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(why);
  expect(r.err).not.toMatch(/internal error|    at /);
};

async function validTrace(): Promise<{ dir: string; trace: Record<string, unknown> }> {
  const dir = tmp();
  await cli('explore', example, '--variant', 'plain', '--out', dir);
  return { dir, trace: JSON.parse(readFileSync(path.join(dir, 'counter-plain.json'), 'utf8')) };
}
function writeTrace(dir: string, t: unknown): string {
  const f = path.join(dir, `t${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, typeof t === 'string' ? t : JSON.stringify(t));
  return f;
}
const replay = (f: string) => cli('replay', f, '--model', example);

describe('flags', () => {
  it.each([
    [['explore', example, '--seed', '1', '--seed', '2'], /--seed given more than once/],
    [['explore', example, '--json', '--json'], /--json given more than once/],
    [['explore', example, '--param', 'cpus=2', '--param', 'cpus=3'], /--param cpus given more than once/],
    [['replay', 't.json', '--html', ''], /--html needs a value, got an empty string/],
    [['explore', example, '--out', ''], /--out needs a value/],
    [['explore', example, '--param', 'constructor=1'], /--param constructor is not a parameter name/],
    [['explore', example, '--param', 'prototype=1'], /--param prototype is not a parameter name/],
    [['explore', example, '--param', '__proto__=1'], /--param takes name=integer|is not a parameter name/],
    [['explore', example, '--param', 'toString=1'], /unknown parameter "toString" for model counter/],
    [['explore', example, '--stall-timeout', 'never'], /--stall-timeout takes a whole number/],
    [['explore', example, '--max-steps', '99999999999999999999'], /--max-steps takes a whole number from 1 to 10000000/],
    [['explore', example, '--seed', 'a b\u001b'], /--seed takes up to 64 letters/],
  ])('refuses %j', async (argv, why) => {
    refused(await cli(...argv), why);
  });
});

describe('trace files', () => {
  it('accepts a trace that starts with a UTF-8 byte order mark', async () => {
    const { dir } = await validTrace();
    const text = readFileSync(path.join(dir, 'counter-plain.json'), 'utf8');
    const r = await replay(writeTrace(dir, `\ufeff${text}`));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('checks the preemptions a trace claims', async () => {
    const { dir, trace } = await validTrace();
    refused(await replay(writeTrace(dir, { ...trace, preemptions: -3 })), /field "preemptions": must not be negative/);
    refused(await replay(writeTrace(dir, { ...trace, preemptions: 2 })), /trace claims 2 preemptions, but its schedule has 1/);
  });

  it('refuses prototype keys and inherited parameter names in a trace', async () => {
    const { dir, trace } = await validTrace();
    const text = JSON.stringify(trace);
    refused(await replay(writeTrace(dir, text.replace('"params":{', '"params":{"__proto__":1,'))), /has a key named "__proto__"/);
    refused(await replay(writeTrace(dir, { ...trace, params: { toString: 1 } })), /trace names parameter "toString", which model counter does not have/);
    refused(await replay(writeTrace(dir, { ...trace, params: { constructor: 1 } })), /has a key named "constructor"/);
  });

  it('refuses a format field nested 5,000 deep with one line', async () => {
    const dir = tmp();
    refused(await cli('replay', writeTrace(dir, `{"format":${'['.repeat(5000)}${']'.repeat(5000)}}`)), /trace nests deeper than 16 levels/);
  });

  it('never echoes a huge field back', async () => {
    const { dir, trace } = await validTrace();
    for (const size of [2_000_000, 20_000_000]) {
      const r = await replay(writeTrace(dir, { ...trace, model: 'm'.repeat(size) }));
      refused(r, size > 16 * 1024 * 1024 ? /trace is too large|trace file .* is too large/ : /field "model": is longer than 1000 characters/);
      expect(r.err.length).toBeLessThan(400);
    }
  });

  it('escapes terminal control sequences from trace fields', async () => {
    const { dir, trace } = await validTrace();
    const r1 = await cli('replay', writeTrace(dir, { ...trace, modelFile: undefined, model: '\u001b[2Jevil\u0007' }));
    refused(r1, /trace names model "\\x1b\[2Jevil\\x07"/);
    const r2 = await replay(writeTrace(dir, { ...trace, variant: '\u001b]0;owned\u0007\u009b1m' }));
    expect(r2.code).toBe(2);
    expect(r2.err).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r2.err).toContain('\\x1b]0;owned\\x07\\x9b1m');
  });
});

describe('terminal text', () => {
  it('escapes control characters, keeps line structure where asked, and cuts long fields', () => {
    expect(quoteField('a\u001b[31mb\nc')).toBe('a\\x1b[31mb\\nc');
    expect(safeText('line\n\tnext\u001b[0m\u202e')).toBe('line\n\tnext\\x1b[0m\\u202e');
    expect(quoteField('x'.repeat(500))).toBe(`${'x'.repeat(200)}…`);
  });
});

describe('model files', () => {
  it('refuses a spec with variants [null, 42] with the field named', async () => {
    refused(await cli('explore', fixture('bad-variants.mjs')), /model in .*bad-variants\.mjs is malformed: field "variants\.0": Expected object, received null/);
  });

  it.each(['dpor', 'dfs'])('reports a footprint function that throws as a model error under %s, not a crash', async (strategy) => {
    const r = await cli('explore', fixture('throwing-footprint.mjs'), '--variant', 'only', '--strategy', strategy, '--no-trace');
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toContain('violated model-error');
  });

  it('stops a model that exhausts memory with a clear error, not an internal error or a stall', () => {
    const r = mmcheck(['explore', fixture('memory-hog.ts'), '--max-memory', '64', '--no-trace']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("mmcheck: memory-hog/only ran out of memory (the explorer's heap limit is 64 MB; raise it with --max-memory MB, or make the model smaller)");
  });
});

describe('version', () => {
  it('writes the version of package.json into traces, checkpoints and reports', async () => {
    const { VERSION } = await import('../../src/schema/version.js');
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

describe('--no-audit', () => {
  it('an undeclared read is a model error (exit 2) with the audit on, and is trusted with --no-audit', async () => {
    const audited = await cli('explore', fixture('undeclared-read.ts'), '--variant', 'buggy', '--no-trace');
    expect(audited.code).toBe(2);
    expect(audited.err).toContain('step "reader: peek x" reads var:x, which is not in its footprint');
    // Without the audit DPOR believes the empty footprint and answers wrongly: what the audit is for.
    const trusted = await cli('explore', fixture('undeclared-read.ts'), '--variant', 'buggy', '--no-trace', '--no-audit');
    expect(trusted.code).toBe(0);
    expect(trusted.out).toContain('— holds');
  });
});

describe('a model file with its own copy of mmcheck', () => {
  it('has its assume and assert recognised by the engine that runs it (blocked, not a model error)', async () => {
    const ok = await cli('explore', fixture('assume-model.ts'), '--variant', 'ok', '--no-trace');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('1 executions complete (1 blocked by assume');
    const bad = await cli('explore', fixture('assume-model.ts'), '--variant', 'bad', '--no-trace');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('violated assertion');
  });
});
