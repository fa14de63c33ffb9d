// The package as a user gets it: packed, installed into a project outside the checkout, a model
// written there against `mmcheck/machine`, type-checked (strict), explored by the installed CLI,
// its trace replayed from another directory, and checked by the vitest matchers.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Project, packedProject, userEnv } from './project.js';

let project: Project;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: userEnv(), timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
const npx = (args: string[], cwd = project.dir) => run('npx', ['--no-install', ...args], cwd);

beforeAll(() => {
  project = packedProject();
  const shipped = path.join(project.dir, 'node_modules/mmcheck/examples/dirty-bit-race.ts');
  copyFileSync(shipped, path.join(project.dir, 'model.ts'));
  writeFileSync(
    path.join(project.dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['*.ts'] }),
  );
  writeFileSync(
    path.join(project.dir, 'model.test.ts'),
    `import { expect, test } from 'vitest';
import { model } from 'mmcheck/vitest';
import race from './model.js';

// A bigger search: its own budget, and a test timeout above it (as the README says).
test('ptmigrate keeps every dirty bit when the old table is harvested', async () => {
  await expect(model('ptmigrate', 'delimbo', { timeLimitS: 25 })).toHold();
}, 30_000);

test('ptep_set_wrprotect keeps the hardware dirty bit', async () => {
  await expect(model(race, 'atomic')).toHold();
});

test('a plain pte read-modify-write loses it (the file explored in a worker)', async () => {
  await expect(model('./model.ts', 'plain-rmw')).toViolate('no-lost-dirty-bit');
});
`,
  );
}, 30_000);

afterAll(() => rmSync(path.dirname(project.dir), { recursive: true, force: true }));

describe('the installed package', () => {
  it('ships the machine guide, whose examples import by package name', () => {
    const guide = readFileSync(path.join(project.dir, 'node_modules/mmcheck/src/machine/API.md'), 'utf8');
    expect(guide).toContain("from 'mmcheck/machine'");
    expect(guide).not.toMatch(/from '\.\.?\/src\//);
    expect(existsSync(path.join(project.dir, 'node_modules/mmcheck/LICENSE'))).toBe(true);
  });

  it('type-checks a user model importing mmcheck and mmcheck/machine under strict', () => {
    const r = run(process.execPath, [path.join(project.dir, 'node_modules/typescript/bin/tsc'), '-p', '.'], project.dir);
    expect(r.out + r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('explores the model with npx mmcheck and replays its trace from another directory', () => {
    const explored = npx(['mmcheck', 'explore', './model.ts', '--width', '200']);
    expect(explored.err).toBe('');
    expect(explored.out).toMatch(/dirty-bit-race\s+plain-rmw\s+violates no-lost-dirty-bit\s+violated no-lost-dirty-bit\s.*ok/);
    expect(explored.out).toMatch(/dirty-bit-race\s+atomic\s+holds\s+holds\s.*ok/);
    expect(explored.code).toBe(0);
    const trace = path.join(project.dir, 'traces/dirty-bit-race-plain-rmw.json');
    const stored = JSON.parse(readFileSync(trace, 'utf8')) as { modelFile: { path: string } };
    expect(stored.modelFile.path).toBe('../model.ts'); // relative to the trace, not to where explore ran

    const elsewhere = path.join(path.dirname(project.dir), 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const bin = path.join(project.dir, 'node_modules/.bin/mmcheck');
    const asked = run(bin, ['replay', trace], elsewhere);
    expect(asked.code).toBe(2);
    // The command it prints, run where it was printed, replays the trace.
    const suggested = /To replay it with that file: npx mmcheck (replay \S+ --model \S+)/.exec(asked.err)?.[1];
    expect(suggested).toBeDefined();
    const args = suggested!.split(' ');
    expect(path.resolve(elsewhere, args[3]!)).toBe(path.join(project.dir, 'model.ts'));
    const replayed = run(bin, args, elsewhere);
    expect(replayed.err).toBe('');
    expect(replayed.out).toContain('VIOLATION after step');
    expect(replayed.out).toContain('invariant no-lost-dirty-bit');
    expect(replayed.code).toBe(0);
  });

  it('resolves mmcheck for a model file in a directory with no node_modules', () => {
    const lone = path.join(path.dirname(project.dir), 'lone');
    mkdirSync(lone, { recursive: true });
    copyFileSync(path.join(project.dir, 'model.ts'), path.join(lone, 'model.ts'));
    const r = npx(['mmcheck', 'explore', path.join(lone, 'model.ts'), '--variant', 'plain-rmw', '--no-trace']);
    expect(r.err).toBe('');
    expect(r.out).toContain('dirty-bit-race/plain-rmw {} — violated no-lost-dirty-bit');
    expect(r.code).toBe(1);
  });

  it('runs a vitest file using the matchers on the model, at vitest\'s default timeout', () => {
    const r = run(process.execPath, [path.join(project.dir, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=verbose'], project.dir);
    expect(r.out).toContain('ptep_set_wrprotect keeps the hardware dirty bit');
    expect(r.out).toContain('the file explored in a worker');
    expect(r.out).toMatch(/Tests\s+3 passed/);
    expect(r.code).toBe(0);
  });

  it('packs no test, source map of tests or checkout-only file', () => {
    const files = execFileSync('tar', ['tzf', project.tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/dist/src/machine/index.d.ts');
    expect(files.some((f) => f.startsWith('package/test/') || f.startsWith('package/dist/test/'))).toBe(false);
  });
});
