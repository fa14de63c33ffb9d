// The built-in models, in the order `mmcheck list` and `mmcheck explore` show them.
import type { Model } from '../src/model.js';

export const builtinModels: readonly Model[] = [];

export function findBuiltin(name: string): Model | undefined {
  return builtinModels.find((m) => m.name === name);
}
