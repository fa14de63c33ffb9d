// Model files import `mmcheck` and `mmcheck/machine`. A model may live anywhere — a scratch
// directory, a kernel tree — with no node_modules/mmcheck of its own, so the CLI resolves those
// specifiers to the mmcheck that is running: its own package.json `exports`, reached by
// self-reference. One copy of the engine then drives and reads the model.
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The running package's package.json (walking up from this module: src/ or dist/src/). */
export function packageJsonUrl(from: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(from));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'mmcheck') return pathToFileURL(file).href;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`mmcheck cannot find its own package.json above ${from}`);
    dir = up;
  }
}

// A loader hook runs on Node's loader thread, so it is plain JavaScript sent as a data: URL
// (it works the same from the TypeScript sources under test and from dist).
const HOOK = `
let parent;
export function initialize(data) { parent = data.parent; }
export function resolve(specifier, context, next) {
  if (specifier === 'mmcheck' || specifier.startsWith('mmcheck/')) return next(specifier, { ...context, parentURL: parent });
  return next(specifier, context);
}`;

const isMmcheck = (specifier: string) => specifier === 'mmcheck' || specifier.startsWith('mmcheck/');

/** Node's CommonJS resolver: tsx compiles a .ts file outside any `"type": "module"` package to
 * CommonJS, whose require() no ESM hook sees (Node 20 has no module.registerHooks). */
interface CjsResolver {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

let registered = false;

/** Makes `mmcheck` and `mmcheck/*` resolve to this package, for this thread's imports. Once. */
export function resolveMmcheckToSelf(): void {
  if (registered) return;
  registered = true;
  const parent = packageJsonUrl();
  // module.register is Node 20.6+ (a named import of it would not even link on 20.0–20.5):
  // without it, ESM model files resolve mmcheck the ordinary way, from their own node_modules.
  const { register } = Module as { register?: typeof Module.register };
  register?.(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { parent } });
  const selfRequire = createRequire(parent);
  const cjs = Module as unknown as CjsResolver;
  const original = cjs._resolveFilename.bind(cjs);
  let inner = false; // selfRequire.resolve comes back through this resolver
  cjs._resolveFilename = (request, from, isMain, options) => {
    if (inner || !isMmcheck(request)) return original(request, from, isMain, options);
    inner = true;
    try {
      return selfRequire.resolve(request);
    } finally {
      inner = false;
    }
  };
}
