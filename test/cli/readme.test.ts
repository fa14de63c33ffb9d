// The README's --json example is real output: this runs the command it names, in an empty
// directory as the README says, and compares everything but the time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmcheck, root, tmp } from './helpers.js';

const README = readFileSync(path.join(root, 'README.md'), 'utf8');

function withoutTimes(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutTimes);
  if (typeof x !== 'object' || x === null) return x;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k === 'elapsedMs' ? 0 : withoutTimes(v)]));
}

describe('README examples', () => {
  it('shows the --json output the command it names prints (regenerate the block from a run if this fails)', () => {
    const m = /<!-- readme-json: (.+?) -->\n```json\n([\s\S]+?)\n```/.exec(README);
    expect(m).not.toBeNull();
    const [, command, block] = m!;
    const r = mmcheck(command!.split(' '), { cwd: tmp() });
    expect(r.err).toBe('');
    expect(withoutTimes(JSON.parse(block!))).toEqual(withoutTimes(JSON.parse(r.out)));
  });
});
