// A fresh user project outside the checkout with mmcheck installed from its packed tarball.
// `npm install --offline` needs registry metadata this machine's cache may not hold, so the
// tarball is unpacked into node_modules/mmcheck (what npm would do) and mmcheck's dependencies
// and the user's tools (vitest, typescript) are linked from the checkout's node_modules.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');

export interface Project {
  readonly dir: string;
  readonly tarball: string;
}

/** Packs the checkout (dist must be built) and installs the tarball into a new temp project. */
export function packedProject(): Project {
  const base = mkdtempSync(path.join(tmpdir(), 'mmcheck-pkg-'));
  // --ignore-scripts: dist is already built; `prepare` would rebuild it under other tests.
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', base], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  const tarball = path.join(base, name);
  const dir = path.join(base, 'project');
  const pkgDir = path.join(dir, 'node_modules', 'mmcheck');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(manifest.dependencies), 'vitest', 'typescript', '@types/node']) link(dir, dep);
  const binDir = path.join(dir, 'node_modules', '.bin');
  mkdirSync(binDir, { recursive: true });
  symlinkSync('../mmcheck/bin/mmcheck.js', path.join(binDir, 'mmcheck'));
  chmodSync(path.join(pkgDir, 'bin', 'mmcheck.js'), 0o755);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'user-model', private: true, type: 'module' }, null, 2)}\n`);
  return { dir, tarball };
}

function link(project: string, dep: string): void {
  const to = path.join(project, 'node_modules', dep);
  mkdirSync(path.dirname(to), { recursive: true });
  symlinkSync(path.join(root, 'node_modules', dep), to, 'dir');
}

/** The environment for commands run in the project: none of this test run's vitest settings. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|NODE_OPTIONS|TEST$|npm_)/.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', CI: '1' };
}
