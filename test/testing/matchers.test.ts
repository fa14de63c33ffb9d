import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { model } from '../../src/testing/matchers.js';
import lostUpdate from '../../examples/lost-update.js';

const root = path.resolve(__dirname, '../..');
const fixture = (f: string) => path.join(root, 'test/fixtures', f);
const example = path.join(root, 'examples/lost-update.ts');
const traces = () => mkdtempSync(path.join(tmpdir(), 'mmcheck-matcher-'));
/** vitest's default test timeout: what a fresh project runs the README's example under. */
const DEFAULT_TIMEOUT = 5_000;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the assertion to fail');
}

describe('vitest matchers', () => {
  it('toHold passes for a variant that holds exhaustively', async () => {
    await expect(model(lostUpdate, 'atomic')).toHold();
  });

  it('toViolate passes for the declared violation', async () => {
    await expect(model(lostUpdate, 'plain')).toViolate('no-lost-update');
  });

  it('toHold fails with the counterexample as a swim lane', async () => {
    const message = await failure(expect(model(lostUpdate, 'plain', { traceDir: traces() })).toHold());
    expect(message).toContain('expected it to hold exhaustively, got lost-update/plain: violated (no-lost-update)');
    expect(message).toContain('VIOLATION after step 4: invariant no-lost-update');
    expect(message).toMatch(/cpu0\s+│ cpu1/);
  });

  it('toViolate fails when a different invariant (or none) is violated', async () => {
    await expect(model(lostUpdate, 'atomic')).not.toViolate('no-lost-update');
    await expect(model(lostUpdate, 'plain')).not.toViolate('deadlock');
  });

  it('names an unknown built-in model', () => {
    expect(() => model('no-such-model')).toThrow(/unknown model "no-such-model"/);
  });
});

describe('the README example, off the test thread', () => {
  // As in the README: one test each, under vitest's default timeout.
  it('keeps every dirty bit when the old table is harvested', { timeout: DEFAULT_TIMEOUT }, async () => {
    await expect(model('ptmigrate', 'delimbo')).toHold();
  });
  it('loses a dirty bit without the harvest', { timeout: DEFAULT_TIMEOUT }, async () => {
    await expect(model('ptmigrate', 'no-delimbo')).toViolate('no-lost-dirty-bit');
  });

  it('explores a model file in a worker', { timeout: DEFAULT_TIMEOUT }, async () => {
    await expect(model(example, 'atomic')).toHold();
    await expect(model(new URL('../../examples/lost-update.ts', import.meta.url), 'plain')).toViolate('no-lost-update');
  });

  it('fails, instead of hanging vitest, when a step never returns', { timeout: DEFAULT_TIMEOUT }, async () => {
    const message = await failure(expect(model(fixture('hang-model.ts'), 'spin', { stallTimeoutS: 1 })).toHold());
    expect(message).toMatch(/^hang\/spin made no progress for 1 s: a step that never returns/);
  });

  it('says when the time budget, not the model, ended the search', async () => {
    const message = await failure(expect(model('cpa', 'fixed', { maxExecutions: 5 })).toHold());
    expect(message).toContain('not exhaustive: max executions 5');
    expect(message).toContain('raise timeLimitS in model(…, { timeLimitS }) together with vitest\'s testTimeout');
  });
});

describe('a failing matcher', () => {
  it('writes the trace and ends with the command that replays it', async () => {
    const dir = traces();
    const message = await failure(expect(model(example, 'plain', { traceDir: dir })).toHold());
    const trace = path.join(dir, 'lost-update-plain.json');
    expect(existsSync(trace)).toBe(true);
    expect((JSON.parse(readFileSync(trace, 'utf8')) as { modelFile: { path: string } }).modelFile.path).toBe(path.relative(dir, example));
    expect(message).toContain(`trace written: ${trace}\nreplay it: npx mmcheck replay ${trace} --model `);
    expect(message.trimEnd()).toMatch(/--model \S*examples\/lost-update\.ts$/);
  });

  it('for a model object, says the replay needs the file that exports it', async () => {
    const dir = traces();
    const message = await failure(expect(model(lostUpdate, 'plain', { traceDir: dir })).toHold());
    expect(message.trimEnd()).toMatch(/replay it: npx mmcheck replay \S+lost-update-plain\.json --model <the file that exports model lost-update>$/);
  });

  it('writes no trace when the assertion passes', async () => {
    const dir = traces();
    await expect(model(example, 'plain', { traceDir: dir })).toViolate('no-lost-update');
    expect(existsSync(path.join(dir, 'lost-update-plain.json'))).toBe(false);
  });

  it('rejects an invariant the model does not have, listing those it has', async () => {
    const message = await failure(expect(model(lostUpdate, 'plain')).toViolate('no-lost-updat'));
    expect(message).toBe('toViolate(\'no-lost-updat\'): model lost-update has no invariant "no-lost-updat" (invariants: no-lost-update, deadlock, step-bound, model-error, assertion)');
  });
});
