// Every trace mmcheck writes, it can replay (issue 10, finding 4): under the step bound it was
// found with, for a model whose build throws, for every built-in variant and every way a model
// can misbehave; and the same exploration writes the same bytes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinModels } from '../../models/index.js';
import { cli, example, fixture, tmp } from './helpers.js';

async function exploreAndReplay(model: string, args: string[], out = tmp()) {
  await cli('explore', model, '--out', out, ...args);
  const files = readdirSync(out).filter((f) => f.endsWith('.json')).sort();
  const replays = [];
  for (const f of files) replays.push({ f, ...(await cli('replay', path.join(out, f), ...(model.includes('/') ? ['--model', model] : []))) });
  return { out, files, replays };
}

describe('traces round-trip', () => {
  it('saves --max-steps in the trace, so a step-bound trace replays', async () => {
    const { out, replays } = await exploreAndReplay(example, ['--variant', 'plain', '--max-steps', '3']);
    expect(JSON.parse(readFileSync(path.join(out, 'counter-plain.json'), 'utf8')).maxSteps).toBe(3);
    expect(replays).toHaveLength(1);
    expect(replays[0]!.err).toBe('');
    expect(replays[0]!.code).toBe(0);
    expect(replays[0]!.out).toContain('STEP BOUND after step 3');
  });

  it('replays the trace of a model whose build throws', async () => {
    const { replays } = await exploreAndReplay(fixture('throwing-build.ts'), []);
    expect(replays.map((r) => [r.f, r.code, r.err])).toEqual([['throwing-build-only.json', 0, '']]);
    expect(replays[0]!.out).toContain('MODEL ERROR at step 0: building the model threw: pte page not allocated');
  });

  it('replays every trace of every misbehaving fixture, and writes the same bytes twice', async () => {
    const a = await exploreAndReplay(fixture('misbehaving.ts'), []);
    expect(a.files).toEqual(['misbehaving-deadlock.json', 'misbehaving-livelock.json', 'misbehaving-step-throws.json']);
    for (const r of a.replays) {
      expect(r.err, r.f).toBe('');
      expect(r.code, r.f).toBe(0);
    }
    const b = await exploreAndReplay(fixture('misbehaving.ts'), []);
    for (const f of a.files) expect(readFileSync(path.join(b.out, f), 'utf8')).toBe(readFileSync(path.join(a.out, f), 'utf8'));
  });

  it('replays every trace from exploring every built-in variant at default parameters', async () => {
    const out = tmp();
    const r = await cli('explore', '--out', out, '--json');
    expect(r.err).toBe('');
    const results = JSON.parse(r.out).results as { model: string; variant: string; violation?: { trace: string } }[];
    const variants = builtinModels.flatMap((m) => m.variants.map((v) => `${m.name}/${v.name}`));
    expect(results.map((x) => `${x.model}/${x.variant}`)).toEqual(variants);
    const written = results.filter((x) => x.violation).map((x) => x.violation!.trace);
    expect(written.length).toBeGreaterThan(0);
    expect(readdirSync(out).sort()).toEqual(written.map((f) => path.basename(f)).sort());
    for (const file of written) {
      const rep = await cli('replay', file);
      expect(rep.err, file).toBe('');
      expect(rep.code, file).toBe(0);
    }
  }, 300_000);
});
