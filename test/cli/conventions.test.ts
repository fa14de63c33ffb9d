// Command-line conventions: help for every command and option, --version, did-you-mean, number
// errors a user understands, the seed shown, and output fitted to the terminal's width.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { colourWanted } from '../../src/cli/colour.js';
import { cli, example, mmcheck, root, tmp } from './helpers.js';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('help and version', () => {
  it('explore --help explains every option explore accepts, and exits 0', async () => {
    const r = await cli('explore', '--help');
    expect(r.code).toBe(0);
    const flags = ['variant', 'strategy', 'preemption-bound', 'max-executions', 'max-steps', 'time-limit', 'seed', 'samples', 'param', 'out', 'no-trace', 'no-minimise', 'no-audit', 'checkpoint', 'resume', 'model', 'stall-timeout', 'max-memory', 'json', 'junit', 'log-level', 'width'];
    for (const f of flags) expect(r.out).toMatch(new RegExp(`^  --${f}\\b.*\\S`, 'm'));
  });

  it('answers --help after other arguments and for replay, list and "help explore"', async () => {
    expect((await cli('explore', example, '--variant', 'plain', '-h')).out).toMatch(/^usage: mmcheck explore/);
    expect((await cli('replay', '--help')).out).toMatch(/^usage: mmcheck replay[\s\S]*--html FILE/);
    expect((await cli('list', '--help')).out).toMatch(/^usage: mmcheck list/);
    expect((await cli('help', 'explore')).out).toMatch(/^usage: mmcheck explore/);
    expect((await cli('--help')).out).toContain("'mmcheck COMMAND --help'");
  });

  it('prints the package version for --version', async () => {
    const r = await cli('--version');
    expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
});

describe('did you mean', () => {
  it('suggests the command a typo was meant to be', async () => {
    const r = await cli('explor', example);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mmcheck: unknown command "explor" \(did you mean explore\?\)/);
  });

  it('suggests the option a typo was meant to be', async () => {
    const r = await cli('explore', example, '--varaint', 'plain');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mmcheck: Unknown option '--varaint' \(did you mean --variant\?\)/);
  });

  it('guesses nothing for a word far from every command', async () => {
    expect((await cli('frobnicate')).err).not.toContain('did you mean');
  });
});

describe('numbers and seeds', () => {
  it('says a negative --max-executions must be a positive integer', async () => {
    const r = await cli('explore', example, '--max-executions', '-5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mmcheck: --max-executions takes a whole number from 1 to \d+: it must be a positive integer, got "-5"/);
  });

  it('prints the seed a sampling run used, the default included', async () => {
    const one = await cli('explore', example, '--variant', 'atomic', '--strategy', 'random', '--samples', '5', '--no-trace');
    expect(one.out).toContain('(random, seed 0; expected: holds)');
    const all = await cli('explore', example, '--strategy', 'pct', '--samples', '5', '--seed', 's7', '--no-trace');
    expect(all.out).toContain('pct, seed s7 (--seed s7 repeats this run)');
    const json = JSON.parse((await cli('explore', example, '--strategy', 'random', '--samples', '3', '--no-trace', '--json')).out) as { seed?: string };
    expect(json.seed).toBe('0');
  });
});

describe('terminal width', () => {
  it('fits the explore table into 100 columns when output is not a terminal', async () => {
    const r = await cli('explore', 'ptmigrate', '--max-executions', '20', '--no-trace');
    expect(r.out).toMatch(/ptmigrate\s+no-/);
    expect(widest(r.out)).toBeLessThanOrEqual(100);
  });

  it('fits a five-lane swim lane into 100 columns, and into --width', async () => {
    const dir = tmp();
    const fixture = path.join(root, 'test/trace/fixtures/five-lanes.ts');
    await cli('explore', fixture, '--out', dir);
    const trace = path.join(dir, 'five-lanes-wrprotect.json');
    const r = await cli('replay', trace, '--model', fixture);
    expect(r.out).toMatch(/step {2}cpu0 +│ cpu1 +│ cpu2 +│ ipi→cpu1 +│ ipi→cpu2/);
    expect(widest(r.out)).toBeLessThanOrEqual(100);
    const narrow = await cli('replay', trace, '--model', fixture, '--width', '80');
    expect(widest(narrow.out)).toBeLessThanOrEqual(80);
    expect(narrow.out).toContain('VIOLATION after step');
  });
});

describe('list FILE', () => {
  it('lists the variants, invariants and parameters of a model file', async () => {
    const r = await cli('list', example);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^counter — Two CPUs increment one counter/);
    expect(r.out).toMatch(/plain\s+violates no-lost-update/);
    expect(r.out).toMatch(/cpus=2\s+\[2\.\.4\]/);
  });
});

describe('replay --html', () => {
  it('prints the path of the page it wrote (on stderr under --json)', async () => {
    const dir = tmp();
    const html = path.join(dir, 'view.html');
    await cli('explore', example, '--variant', 'plain', '--out', dir);
    const trace = path.join(dir, 'counter-plain.json');
    const r = await cli('replay', trace, '--model', example, '--html', html);
    expect(r.out).toContain(`html written: ${html}\n`);
    expect(existsSync(html)).toBe(true);
    const json = await cli('replay', trace, '--model', example, '--html', html, '--json');
    expect(json.err).toBe(`html written: ${html}\n`);
    expect(() => JSON.parse(json.out) as unknown).not.toThrow();
  });
});

describe('colour', () => {
  const run = (env: NodeJS.ProcessEnv) => mmcheck(['explore', example, '--no-trace'], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });

  it('is off for a pipe, and with NO_COLOR even when forced', () => {
    expect(run({}).out).not.toContain('\u001b[');
    expect(run({ FORCE_COLOR: '1', NO_COLOR: '1' }).out).not.toContain('\u001b[');
  });

  it('marks ok green with FORCE_COLOR, the text otherwise unchanged, and never colours JSON', () => {
    const forced = run({ FORCE_COLOR: '1' });
    expect(forced.out).toContain('\u001b[32mok\u001b[39m');
    const untimed = (t: string) => t.replace(/\d+\.\d\ds/g, 'T');
    expect(untimed(forced.out.replace(/\u001b\[\d+m/g, ''))).toBe(untimed(run({}).out));
    const json = mmcheck(['explore', example, '--no-trace', '--json'], { env: { FORCE_COLOR: '1' } });
    expect(json.out).not.toContain('\u001b[');
  });

  it('decides from NO_COLOR, FORCE_COLOR and whether stdout is a terminal', () => {
    expect(colourWanted({}, true)).toBe(true);
    expect(colourWanted({ TERM: 'dumb' }, true)).toBe(false);
    expect(colourWanted({ CI: '1' }, false)).toBe(false);
    expect(colourWanted({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colourWanted({ NO_COLOR: '' }, true)).toBe(true); // an empty NO_COLOR does not count
  });
});
