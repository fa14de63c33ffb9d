// The process bench/instructions.ts counts under valgrind: `n` searches of one model variant,
// in the build at `root`, and nothing else.
// Usage: node count-searches.js <root> <model> <variant> <n> <options JSON>
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, model, variant, n, options] = process.argv.slice(2) as [string, string, string, string, string];
const url = (p: string) => pathToFileURL(path.join(root, p)).href;
const { explore } = (await import(url('dist/src/index.js'))) as { explore(m: unknown, o: Record<string, unknown>): unknown };
const { builtinModels } = (await import(url('dist/models/index.js'))) as { builtinModels: readonly { name: string }[] };
const m = builtinModels.find((x) => x.name === model);
if (m === undefined) throw new Error(`no model ${model} in ${root}`);
const o = { variant, ...(JSON.parse(options) as Record<string, unknown>) };
for (let i = 0; i < Number(n); i++) explore(m, o);
