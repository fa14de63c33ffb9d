// Broken models and interruptions: a clear message and a meaningful exit code, never a stack
// trace or a hang; Ctrl-C leaves a checkpoint that --resume finishes with the same result.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/mmcheck.js');
const fixture = (f: string) => path.join(root, 'test/fixtures', f);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'mmcheck-'));

function mmcheck(args: string[], cwd = root) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
}

describe('broken models and interruptions', () => {
  it('stops a model whose step never returns, with one clear line and exit 2', () => {
    const r = mmcheck(['explore', fixture('hang-model.ts'), '--stall-timeout', '2', '--no-trace']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      'mmcheck: hang/spin made no progress for 2 s: a loop in model code that never yields a step? (every loop must yield; see --max-steps for loops that do)',
    );
  });

  it('reports a model whose build throws as a model error, not a crash', () => {
    const r = mmcheck(['explore', fixture('throwing-build.ts'), '--variant', 'only', '--no-trace']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('violated model-error');
    expect(r.stdout).toContain('building the model threw: pte page not allocated');
  });

  it('stops cleanly on Ctrl-C with a checkpoint, and --resume ends as an uninterrupted run', async () => {
    const dir = tmp();
    const common = ['explore', fixture('long-model.ts'), '--variant', 'only', '--strategy', 'dfs', '--no-cache', '--max-executions', '200000', '--json', '--no-trace'];
    const whole = JSON.parse(mmcheck(common).stdout).results[0];
    expect(whole.executions).toBe(200000);

    const checkpoint = path.join(dir, 'ck.json');
    const child = spawn(process.execPath, [bin, ...common, '--checkpoint', checkpoint], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    expect(err).toContain(`continue with: npx mmcheck explore --resume ${checkpoint}`);
    const partial = JSON.parse(out);
    expect(partial.interrupted).toBe(true);
    // On a loaded machine the signal may land before the worker has loaded the model.
    if (partial.results.length > 0) {
      expect(partial.results[0].verdict).toBe('interrupted');
      expect(partial.results[0].executions).toBeLessThan(200000);
    }
    expect(existsSync(checkpoint)).toBe(true);

    const resumed = mmcheck(['explore', '--resume', checkpoint, '--model', fixture('long-model.ts'), '--json', '--no-trace']);
    // 200,000 executions do not exhaust the model: a bounded search, exit 4.
    expect(resumed.status).toBe(4);
    const final = JSON.parse(resumed.stdout).results[0];
    expect(final.verdict).toBe(whole.verdict);
    expect(final.executions).toBe(whole.executions);
    // Steps are work done: where the engine restores state instead of re-running a prefix
    // depends on where the run resumed, so they may differ; the result does not.
  }, 180_000);

  it('rejects a file that is not a checkpoint', () => {
    const r = mmcheck(['explore', '--resume', path.join(root, 'package.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/is not an mmcheck checkpoint/);
  });
});
