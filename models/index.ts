// The built-in models, in the order `mmcheck list` and `mmcheck explore` show them.
import type { Model } from '../src/model.js';
import { thpRefcount } from './thp-refcount.js';
import { vmap } from './vmap.js';
import { ptmigrate } from './ptmigrate.js';
import { percpu } from './percpu.js';
import { cpa } from './cpa.js';

export const builtinModels: readonly Model[] = [cpa, thpRefcount, vmap, ptmigrate, percpu];

export function findBuiltin(name: string): Model | undefined {
  return builtinModels.find((m) => m.name === name);
}
