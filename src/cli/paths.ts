// Where mmcheck writes, checked before any search starts: an output that is a directory, or in
// a place that cannot be written, is one clear error up front instead of a crash after an hour
// of exploring. Trace files are named from model data, so their names are cleaned and kept
// inside --out whatever a model calls itself.
import { existsSync, mkdtempSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Params } from '../model.js';
import { UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';

const shown = (p: string) => quoteField(p, 200);

/** The deepest existing directory at or above `p` (where a new file or folder would go). */
function existingAncestor(p: string): string {
  let dir = path.resolve(p);
  while (!existsSync(dir)) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

/** Creates and removes a scratch folder in `dir`: the one test of writability that also holds
 * for root (to whom access() says yes everywhere, /proc included). */
function assertWritableDir(dir: string, flag: string, target: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`${flag} ${shown(target)}: cannot reach ${shown(dir)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${shown(target)}: ${shown(dir)} is not a directory`);
  try {
    rmdirSync(mkdtempSync(path.join(dir, '.mmcheck-probe-')));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${flag} ${shown(target)}: cannot write in ${shown(dir)} (${code})`);
  }
}

/** An output directory: an existing directory we can write in, or one we could create. */
export function checkOutputDir(dir: string, flag: string): void {
  const abs = path.resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new UsageError(`${flag} ${shown(dir)} is not a directory`);
  assertWritableDir(existingAncestor(abs), flag, dir);
}

/** An output file: absent or a regular file (never a directory or a device), in a writable place. */
export function checkOutputFile(file: string, flag: string): void {
  const abs = path.resolve(file);
  if (existsSync(abs)) {
    const st = statSync(abs);
    if (st.isDirectory()) throw new UsageError(`${flag} ${shown(file)} is a directory`);
    if (!st.isFile()) throw new UsageError(`${flag} ${shown(file)} is not a regular file`);
  }
  assertWritableDir(existingAncestor(path.dirname(abs)), flag, file);
}

/** Whether two paths name the same file (following links where the files exist). */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * The stem of a trace file name: MODEL-VARIANT, plus @k=v,… for every parameter that differs
 * from its default, so a --param run never overwrites the committed default-parameter trace.
 */
export function traceStem(model: string, variant: string, params: Params, defaults: Params): string {
  const changed = Object.keys(params)
    .sort()
    .filter((k) => params[k] !== defaults[k]);
  return `${model}-${variant}${changed.length ? `@${changed.map((k) => `${k}=${params[k]}`).join(',')}` : ''}`;
}

/** A file name from model data: only safe characters, no leading dot, bounded length. */
export function safeFileName(stem: string): string {
  const clean = stem.replace(/[^A-Za-z0-9._@=,+-]/g, '_').replace(/^\.+/, (m) => '_'.repeat(m.length));
  return clean.slice(0, 200) || '_';
}

/** The trace file for `stem` inside `out`: a path that cannot leave `out`. */
export function traceFile(out: string, stem: string, taken: ReadonlySet<string> = new Set()): string {
  const base = safeFileName(stem);
  let file = path.join(out, `${base}.json`);
  // Two results whose names clean to the same file must not overwrite each other.
  for (let n = 2; taken.has(path.resolve(file)); n++) file = path.join(out, `${base}~${n}.json`);
  const rel = path.relative(path.resolve(out), path.resolve(file));
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`trace name ${shown(stem)} would leave ${shown(out)}`);
  return file;
}

/** A path as the user should type it: relative to the current directory when that is shorter. */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  if (rel === '') return '.';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return abs.length <= rel.length ? abs : rel;
  return rel.startsWith('.') ? rel : `.${path.sep}${rel}`;
}

/** One shell word: quoted unless it is plainly safe. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A model file path as stored in a trace or checkpoint: relative to the file that refers to
 * it, with forward slashes, so the pair can move together between machines. */
export function relativeModelPath(fromFile: string, modelAbs: string): string {
  return path.relative(path.dirname(path.resolve(fromFile)), modelAbs).split(path.sep).join('/');
}

/** The inverse of relativeModelPath. */
export function resolveModelPath(fromFile: string, stored: string): string {
  return path.resolve(path.dirname(path.resolve(fromFile)), stored);
}

/** The command that replays a trace: a model file's trace names the file with --model (replay
 * never runs code a trace names on its own). */
export function replayCommandLine(traceFile: string, modelFileAbs?: string): string {
  return `npx mmcheck replay ${shellWord(traceFile)}${modelFileAbs === undefined ? '' : ` --model ${shellWord(displayPath(modelFileAbs))}`}`;
}
