// Finds the model a command names: a built-in by name, or a module file exporting one. Only
// names the user typed on the command line reach here — never a path read from a trace or a
// checkpoint, which could make mmcheck run code nobody chose to run.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinModels, findBuiltin } from '../../models/index.js';
import { type Model, UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';
import { checkModelSpec } from './model-spec.js';
import { resolveMmcheckToSelf } from './self-resolve.js';

export interface LoadedModel {
  readonly model: Model;
  /** Set for a model file: its absolute path and the sha256 of its bytes. */
  readonly file?: { readonly path: string; readonly sha256: string };
}

export function looksLikePath(target: string): boolean {
  return /[\\/]/.test(target) || /\.(m?[jt]s|cjs|mts|cts)$/.test(target);
}

export function builtinModel(name: string): Model {
  const model = findBuiltin(name);
  if (!model) throw new UsageError(`unknown model "${quoteField(name, 80)}" (models: ${builtinModels.map((m) => m.name).join(', ') || 'none'}; or give a file path)`);
  return model;
}

export function fileHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function loadModel(target: string): Promise<LoadedModel> {
  if (!looksLikePath(target)) return { model: builtinModel(target) };
  const file = path.resolve(target);
  let bytes: Buffer;
  try {
    if (!statSync(file).isFile()) throw new UsageError(`model file ${quoteField(target)} is not a regular file`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`model file not found: ${quoteField(target)}`);
  }
  let mod: Record<string, unknown>;
  try {
    resolveMmcheckToSelf();
    if (/\.[cm]?ts$/.test(file)) {
      // TypeScript models load through tsx, so users need no build step.
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`cannot load model file ${quoteField(target)}: ${e.message}`);
    throw new UsageError(`cannot load model file ${quoteField(target)}: ${quoteField(e instanceof Error ? e.message.split('\n')[0]! : String(e))}`);
  }
  const candidate = pickModel(mod);
  if (candidate === undefined) throw new UsageError(`${quoteField(target)} exports no model (export default defineModel({...}))`);
  return { model: checkModelSpec(candidate, target), file: { path: file, sha256: fileHash(bytes) } };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
/** Looks like an attempt at a model (then its shape is checked, and defects are named). */
const modelLike = (x: unknown): boolean => isObject(x) && ('build' in x || 'variants' in x);

function pickModel(mod: Record<string, unknown>): unknown {
  // tsImport of an ESM file may wrap the namespace once more in `default`.
  const inner = isObject(mod.default) ? mod.default.default : undefined;
  return [mod.default, inner, mod.model].find(modelLike);
}
