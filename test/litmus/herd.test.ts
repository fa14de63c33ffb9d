// The oracle: herdtools7's x86_64 catalogue and its expected verdicts (kinds.txt), vendored in
// test/litmus/herd (SOURCE.md). Every test runs on the machine's real store buffers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLitmus } from '../../src/litmus/parse.js';
import { runLitmus } from '../../src/litmus/run.js';

const HERD = join(import.meta.dirname, 'herd');
const load = (dir: string) =>
  readdirSync(join(HERD, dir)).filter((f) => f.endsWith('.litmus')).sort().map((f) => parseLitmus(readFileSync(join(HERD, dir, f), 'utf8'), `${dir}/${f}`));
const x86_64 = load('x86_64');
const x86 = load('x86');
const kinds = new Map(
  readFileSync(join(HERD, 'x86_64', 'kinds.txt'), 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w.length === 2).map(([n, k]) => [n!, k!] as const),
);
const tso = new Map(x86_64.map((t) => [t.name, runLitmus(t, { memoryModel: 'tso' })]));
const sc = new Map(x86_64.map((t) => [t.name, runLitmus(t, { memoryModel: 'sc' })]));

describe('herdtools7 catalogue/x86_64 under TSO', () => {
  it('vendors every test kinds.txt names, and kinds.txt names every test', () => {
    expect(x86_64.map((t) => t.name).sort()).toEqual([...kinds.keys()].sort());
    expect(kinds.size).toBe(28);
  });
  it.each(x86_64.map((t) => [t.name] as const))('%s: the verdict is kinds.txt\'s', (name) => {
    expect(tso.get(name)!.verdict).toBe(kinds.get(name));
  });
  it('DPOR and DFS reach the same final states on every test', () => {
    for (const t of x86_64) expect(runLitmus(t, { memoryModel: 'tso', strategy: 'dfs' }).states).toEqual(tso.get(t.name)!.states);
  });
});

describe('herdtools7 catalogue/x86_64 under SC', () => {
  // Store buffering — a load passing an older store to another address, and a CPU reading its
  // own store early — is TSO's only relaxation of SC, so it is what every Allow here needs.
  it('every test kinds.txt allows is forbidden under SC', () => {
    const allowed = x86_64.filter((t) => kinds.get(t.name) === 'Allow');
    expect(allowed.length).toBeGreaterThan(0);
    for (const t of allowed) expect([t.name, sc.get(t.name)!.verdict]).toEqual([t.name, 'Forbid']);
  });
  it('every test kinds.txt forbids stays forbidden under SC, which is stronger', () => {
    for (const t of x86_64.filter((t) => kinds.get(t.name) === 'Forbid')) expect([t.name, sc.get(t.name)!.verdict]).toEqual([t.name, 'Forbid']);
  });
  it('SC reaches a subset of TSO\'s final states', () => {
    for (const t of x86_64) {
      const all = new Set(tso.get(t.name)!.states);
      for (const s of sc.get(t.name)!.states) expect(all.has(s)).toBe(true);
    }
  });
});

describe('herdtools7 catalogue/x86 (Intel syntax)', () => {
  it('parses every test', () => {
    expect(x86.length).toBe(readdirSync(join(HERD, 'x86')).filter((f) => f.endsWith('.litmus')).length);
    for (const t of x86) expect(t.arch).toBe('X86');
  });
  it('gives each test named like an x86_64 one the same verdict', () => {
    const twins = x86.filter((t) => kinds.has(t.name));
    expect(twins.length).toBeGreaterThanOrEqual(8);
    for (const t of twins) expect([t.name, runLitmus(t, { memoryModel: 'tso' }).verdict]).toEqual([t.name, kinds.get(t.name)]);
  });
});
