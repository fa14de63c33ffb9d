import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Io, main } from '../../src/cli/main.js';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/mmcheck.js');
const example = path.join(root, 'examples/lost-update.ts');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'mmcheck-'));

describe('mmcheck command line', () => {
  it('runs from the compiled launcher (npx mmcheck)', () => {
    const r = spawnSync(process.execPath, [bin, 'explore', example, '--out', tmp(), '--width', '200'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/lost-update\s+plain\s+violates no-lost-update\s+violated no-lost-update\s+8\s+2\s+8/);
    expect(r.stdout).toContain('4 variants, 4 as expected, 0 not');
  });

  it('exits 1 for a violation, writes a minimised trace, and replay reproduces it', async () => {
    const out = tmp();
    const r = await cli('explore', example, '--variant', 'plain', '--out', out);
    expect(r.code).toBe(1);
    expect(r.out).toContain('counterexample: 4 steps, 1 preemptions');
    const file = path.join(out, 'lost-update-plain.json');
    expect(r.out).toContain(`npx mmcheck replay ${file}`);
    const rep = await cli('replay', file, '--model', example);
    expect(rep.code).toBe(0);
    expect(rep.out).toContain('VIOLATION after step 4: invariant no-lost-update');
    expect(rep.out).toContain('stats.tx is 1 after 2 increments');
    expect(rep.out).toContain('stats.tx: 0 → 1');
  });

  it('exits 0 for a variant that holds', async () => {
    const r = await cli('explore', example, '--variant', 'atomic', '--no-trace');
    expect(r.code).toBe(0);
    expect(r.out).toContain('— holds');
  });

  it('gives the same JSON for the same command and seed, run after run', async () => {
    const strip = (s: string) => s.replace(/"elapsedMs": \d+/g, '"elapsedMs": 0');
    for (const strategy of ['dpor', 'random', 'pct']) {
      const a = await cli('explore', example, '--strategy', strategy, '--seed', '7', '--samples', '20', '--json', '--no-trace');
      const b = await cli('explore', example, '--strategy', strategy, '--seed', '7', '--samples', '20', '--json', '--no-trace');
      expect(strip(a.out)).toBe(strip(b.out));
      expect(JSON.parse(a.out).results).toHaveLength(4);
    }
  });

  it('writes a JUnit report with one test case per variant', async () => {
    const file = path.join(tmp(), 'junit.xml');
    await cli('explore', example, '--junit', file, '--no-trace');
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain('<testsuites name="mmcheck" tests="4" failures="0" errors="0" skipped="0"');
    expect(xml).toContain('name="lost-update/plain"');
  });

  it.each([
    [['explore', 'no-such-model'], /^mmcheck: unknown model "no-such-model"/],
    [['explore', '--bogus'], /^mmcheck: Unknown option '--bogus'/],
    [['explore', example, '--variant', 'nope'], /^mmcheck: unknown variant "nope"/],
    [['explore', example, '--param', 'cpus=9'], /^mmcheck: parameter cpus must be an integer from 2 to 4, got 9/],
    [['explore', example, '--param', 'pages=2'], /^mmcheck: unknown parameter "pages"/],
    [['explore', example, '--param', 'cpus'], /^mmcheck: --param takes name=integer/],
    [['explore', '--strategy', 'bfs'], /^mmcheck: unknown strategy "bfs"/],
    [['explore', '--max-executions', 'lots'], /^mmcheck: --max-executions takes a whole number/],
    [['explore', './missing-model.ts'], /^mmcheck: model file not found/],
    [['frobnicate'], /^mmcheck: unknown command "frobnicate"/],
    [['replay'], /^mmcheck: replay takes exactly one trace file/],
    [['replay', '/nonexistent/trace.json'], /^mmcheck: cannot read trace file/],
  ])('rejects %j with one clear line and exit 2', async (argv, msg) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  describe('replay of bad traces', () => {
    async function validTrace(): Promise<{ file: string; trace: Record<string, unknown> }> {
      const out = tmp();
      await cli('explore', example, '--variant', 'plain', '--out', out);
      const file = path.join(out, 'lost-update-plain.json');
      return { file, trace: JSON.parse(readFileSync(file, 'utf8')) };
    }
    const write = (obj: unknown) => {
      const f = path.join(tmp(), 't.json');
      writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
      return f;
    };

    it('says a non-JSON file is not JSON', async () => {
      const r = await cli('replay', write('{not json'));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^mmcheck: trace is not JSON/);
    });

    it('names the wrong format or version', async () => {
      const { trace } = await validTrace();
      expect((await cli('replay', write({ ...trace, format: 'other' }))).err).toMatch(/not an mmcheck trace/);
      expect((await cli('replay', write({ ...trace, version: 3 }))).err).toMatch(/unsupported trace version 3/);
    });

    it('names an unknown model', async () => {
      const { trace } = await validTrace();
      const r = await cli('replay', write({ ...trace, modelFile: undefined, model: 'nosuch' }));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/trace names model "nosuch", which is not a built-in model/);
    });

    it('reports a schedule that no longer fits as a divergence with its step', async () => {
      const { trace } = await validTrace();
      const steps = trace.steps as { thread: string; label: string }[];
      const changed = { ...trace, steps: steps.map((s, i) => (i === 2 ? { ...s, label: 'store stats.tx := 7' } : s)) };
      const r = await cli('replay', write(changed), '--model', example);
      expect(r.code).toBe(2);
      expect(steps[2]!.label).toBe('store stats.tx := 1');
      expect(r.err.startsWith(`mmcheck: trace diverges at step 3: expected "${steps[2]!.thread}: store stats.tx := 7", got "${steps[2]!.thread}: store stats.tx := 1"`)).toBe(true);
      const short = { ...trace, schedule: (trace.schedule as number[]).slice(0, 3), steps: steps.slice(0, 3), violation: { ...(trace.violation as object), step: 3 } };
      const r2 = await cli('replay', write(short), '--model', example);
      expect(r2.err).toMatch(/^mmcheck: trace diverges at step 3: expected violation of no-lost-update, got no violation/);
    });
  });

  it('prints usage for help', () => {
    const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/^usage:/);
  });
});
