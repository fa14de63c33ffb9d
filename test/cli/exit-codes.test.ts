// Exit statuses CI can trust (issue 10, findings 3 and 6): every outcome has its own status,
// signals checkpoint and exit 128 + signal, a closed pipe ends quietly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, cli, example, fixture, interrupt, mmcheck, root, tempFiles, tmp } from './helpers.js';

describe('exit statuses', () => {
  it('exits 2 for an empty variant name instead of exploring every variant', async () => {
    const r = await cli('explore', 'ptmigrate', '--variant', '');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('mmcheck: --variant needs a value, got an empty string');
    expect(r.out).toBe('');
  });

  it('exits 2 when a model has no variant to explore', async () => {
    const r = await cli('explore', fixture('no-variants.mjs'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/field "variants": must list at least one variant/);
  });

  it('exits 4 for a search cut short without a violation (bounded: nothing proven)', async () => {
    const one = await cli('explore', example, '--variant', 'atomic', '--strategy', 'dfs', '--max-executions', '1', '--no-trace');
    expect(one.out).toContain('no violation (bounded: max executions 1)');
    expect(one.code).toBe(4);
    const sampled = await cli('explore', example, '--variant', 'atomic', '--strategy', 'random', '--samples', '5', '--no-trace');
    expect(sampled.code).toBe(4);
    // Several variants: the only misses are bounded ones (the holds variants cannot be proven).
    const all = await cli('explore', example, '--strategy', 'random', '--samples', '50', '--no-trace');
    expect(all.out).toContain('2 variants, 1 as expected, 1 not');
    expect(all.code).toBe(4);
  });

  it('exits 0 and 1 as before for complete searches', async () => {
    expect((await cli('explore', example, '--variant', 'atomic', '--no-trace')).code).toBe(0);
    expect((await cli('explore', example, '--variant', 'plain', '--no-trace')).code).toBe(1);
  });

  it('checkpoints on SIGTERM like on Ctrl-C, exits 143, leaves no temp file, and resumes', async () => {
    const dir = tmp();
    const checkpoint = path.join(dir, 'ck.json');
    const args = ['explore', fixture('long-model.ts'), '--variant', 'only', '--strategy', 'dfs', '--no-cache', '--max-executions', '300000', '--json', '--no-trace', '--checkpoint', checkpoint];
    const r = await interrupt(args, ['SIGTERM'], 2000);
    expect(r.code).toBe(143);
    expect(r.err).toContain('mmcheck: stopping after the current execution (SIGTERM again to abort)');
    expect(r.err).toContain(`continue with: npx mmcheck explore --resume ${checkpoint} --model `);
    expect(JSON.parse(r.out).interrupted).toBe(true);
    expect(existsSync(checkpoint)).toBe(true);
    expect(tempFiles(dir)).toEqual([]);
    const resumed = mmcheck(['explore', '--resume', checkpoint, '--model', fixture('long-model.ts'), '--json', '--no-trace']);
    expect(resumed.err).toBe('');
    expect(JSON.parse(resumed.out).results[0].executions).toBe(300000);
  }, 180_000);

  it('exits 130 on a second Ctrl-C (abort), not 2', async () => {
    const dir = tmp();
    // A step that never returns: the first Ctrl-C cannot stop it between executions.
    const r = await interrupt(['explore', fixture('hang-model.ts'), '--no-trace', '--stall-timeout', '60', '--checkpoint', path.join(dir, 'ck.json')], ['SIGINT', 'SIGINT'], 2500, 500);
    expect(r.err).toContain('mmcheck: aborted (no checkpoint written)');
    expect(r.code).toBe(130);
    expect(tempFiles(dir)).toEqual([]);
  }, 60_000);

  it('ends quietly with 0 when stdout is closed early (mmcheck list | head -1)', () => {
    for (const reader of ['true', 'head -1']) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" list | ${reader} >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', cwd: root });
      expect(r.stderr.trim()).toBe('status=0');
    }
  });
});
