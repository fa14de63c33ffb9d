// A model file outside any project — no node_modules/mmcheck anywhere above it — imports
// 'mmcheck' and 'mmcheck/machine' and is explored: the CLI resolves them to itself, for a .ts
// file tsx compiles to CommonJS (no "type": "module" above it) and for an ES module (.mts).
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmcheck, root, tmp } from './helpers.js';

const model = path.join(root, 'examples/dirty-bit-race.ts');

describe('model files outside the checkout', () => {
  it.each(['model.ts', 'model.mts'])('%s imports mmcheck from the running package', (name) => {
    const dir = tmp();
    copyFileSync(model, path.join(dir, name));
    const r = mmcheck(['explore', `./${name}`, '--variant', 'plain-rmw', '--no-trace'], { cwd: dir });
    expect(r.err).toBe('');
    expect(r.out).toContain('dirty-bit-race/plain-rmw {} — violated no-lost-dirty-bit');
    expect(r.code).toBe(1);
  });
});
