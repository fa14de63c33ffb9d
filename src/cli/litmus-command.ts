// `mmcheck litmus FILE.litmus… [--memory-model sc|tso] [--strategy dpor|dfs] [--kinds FILE]
// [--json]`: each test explored exhaustively on the simulated machine, its verdict printed as
// herd7 prints kinds (Allow / Forbid) with the observation counts. --kinds compares with a
// herd7 kinds.txt: a test whose verdict differs (or is missing there) makes the exit status 1.
import { readFileSync } from 'node:fs';
import type { MemoryModel } from '../machine/index.js';
import { UsageError } from '../model.js';
import { parseLitmus } from '../litmus/parse.js';
import { type LitmusResult, type LitmusStrategy, runLitmus } from '../litmus/run.js';
import { EXIT } from './exit.js';
import { type Io, jsonText, VERSION } from './report.js';

export interface LitmusArgs {
  readonly command: 'litmus';
  readonly files: readonly string[];
  readonly memoryModel: MemoryModel;
  readonly strategy: LitmusStrategy;
  readonly kinds?: string;
  readonly json: boolean;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new UsageError(`cannot read ${what} ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

/** A herd7 kinds file: `name kind` per line. */
function readKinds(file: string): Map<string, string> {
  const out = new Map<string, string>();
  readText(file, 'kinds file').split(/\r?\n/).forEach((l, i) => {
    const w = l.trim().split(/\s+/);
    if (w.length === 1 && w[0] === '') return;
    if (w.length !== 2) throw new UsageError(`${file}:${i + 1}: a kinds line is "name Allow|Forbid|Require"`);
    out.set(w[0]!, w[1]!);
  });
  return out;
}

export function litmusCommand(args: LitmusArgs, io: Io): number {
  const kinds = args.kinds === undefined ? undefined : readKinds(args.kinds);
  // Every file is parsed before anything runs: a typo in the last one is reported at once.
  const tests = args.files.map((f) => parseLitmus(readText(f, 'litmus file'), f));
  const results: (LitmusResult & { expected?: string; agrees?: boolean })[] = tests.map((t) => {
    const r = runLitmus(t, { memoryModel: args.memoryModel, strategy: args.strategy });
    if (kinds === undefined) return r;
    const expected = kinds.get(t.name);
    // herd7's kind of a forall test is Require: the condition holds in every final state.
    const agrees = expected === 'Require' ? r.validated && t.quantifier === 'forall' : expected === r.verdict;
    return { ...r, ...(expected === undefined ? {} : { expected }), agrees };
  });
  const ok = results.every((r) => r.agrees !== false);
  if (args.json) {
    io.out(jsonText({ mmcheck: VERSION, memoryModel: args.memoryModel, strategy: args.strategy, ...(kinds ? { ok } : {}), tests: results }));
  } else {
    const width = Math.max(4, ...results.map((r) => r.name.length));
    for (const r of results) {
      const vs = r.agrees === undefined ? '' : r.agrees ? '  (as kinds)' : `  DIFFERS (kinds: ${r.expected ?? 'none'})`;
      io.out(`${r.name.padEnd(width)}  ${r.verdict.padEnd(6)}  ${r.memoryModel}  Observation ${r.observation} ${r.positive} ${r.negative}  ${r.validated ? 'Ok' : 'No'}  (${r.executions} executions)${vs}`);
    }
    if (kinds) io.out(ok ? `all ${results.length} as kinds` : `${results.filter((r) => r.agrees === false).length} of ${results.length} differ from kinds`);
  }
  return ok ? EXIT.ok : EXIT.violation;
}
