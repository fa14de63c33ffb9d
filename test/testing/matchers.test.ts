import { describe, expect, it } from 'vitest';
import { model } from '../../src/testing/matchers.js';
import lostUpdate from '../../examples/lost-update.js';

describe('vitest matchers', () => {
  it('toHold passes for a variant that holds exhaustively', async () => {
    await expect(model(lostUpdate, 'atomic')).toHold();
  });

  it('toViolate passes for the declared violation', async () => {
    await expect(model(lostUpdate, 'plain')).toViolate('no-lost-update');
  });

  it('toHold fails with the counterexample as a swim lane', async () => {
    let message = '';
    try {
      await expect(model(lostUpdate, 'plain')).toHold();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('expected it to hold exhaustively, got lost-update/plain: violated (no-lost-update)');
    expect(message).toContain('VIOLATION after step 4: invariant no-lost-update');
    expect(message).toMatch(/cpu0\s+│ cpu1/);
  });

  it('toViolate fails when a different invariant (or none) is violated', async () => {
    await expect(model(lostUpdate, 'atomic')).not.toViolate('no-lost-update');
    await expect(model(lostUpdate, 'plain')).not.toViolate('something-else');
  });

  it('names an unknown built-in model', () => {
    expect(() => model('no-such-model')).toThrow(/unknown model "no-such-model"/);
  });
});
