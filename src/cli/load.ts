// Finds the model a command names: a built-in by name, or a module file exporting one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinModels, findBuiltin } from '../../models/index.js';
import { type Model, UsageError } from '../model.js';

export function looksLikePath(target: string): boolean {
  return /[\\/]/.test(target) || /\.(m?[jt]s|cjs)$/.test(target);
}

export async function loadModel(target: string): Promise<{ model: Model; modelPath?: string }> {
  if (!looksLikePath(target)) {
    const model = findBuiltin(target);
    if (!model) throw new UsageError(`unknown model "${target}" (models: ${builtinModels.map((m) => m.name).join(', ') || 'none'}; or give a file path)`);
    return { model };
  }
  const file = path.resolve(target);
  if (!existsSync(file)) throw new UsageError(`model file not found: ${target}`);
  let mod: Record<string, unknown>;
  try {
    if (/\.[cm]?ts$/.test(file)) {
      // TypeScript models load through tsx, so users need no build step.
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new UsageError(`cannot load model file ${target}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const model = pickModel(mod);
  if (!model) throw new UsageError(`${target} exports no model (export default defineModel({...}))`);
  return { model, modelPath: target };
}

function isModel(x: unknown): x is Model {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  return typeof m.name === 'string' && typeof m.build === 'function' && Array.isArray(m.variants);
}

function pickModel(mod: Record<string, unknown>): Model | undefined {
  // tsImport of an ESM file may wrap the namespace once more in `default`.
  const candidates = [mod.default, (mod.default as Record<string, unknown> | undefined)?.default, mod.model];
  return candidates.find(isModel);
}
