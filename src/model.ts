// Models as data: a named program family with parameters and variants, each variant declaring
// what exploring it should show. The engine never sees any of this — only the Program.
import { brand, hasBrand } from './brand.js';
import { DEFAULT_MAX_STEPS } from './engine/results.js';
import type { Program } from './engine/types.js';

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

/** What a variant should show when explored exhaustively. */
export type Expectation = 'holds' | { readonly violates: string };

export interface VariantSpec {
  readonly name: string;
  readonly description: string;
  readonly expect: Expectation;
}

export interface InvariantDoc {
  readonly name: string;
  readonly description: string;
}

export type Params = Readonly<Record<string, number>>;

export interface ModelSpec {
  readonly name: string;
  readonly title: string;
  /** The kernel code or mailing-list thread the model follows. */
  readonly source: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly variants: readonly VariantSpec[];
  readonly invariants: readonly InvariantDoc[];
  /** Per-execution step bound for this model (livelock detection). */
  readonly maxSteps?: number;
  build(variant: string, params: Params): Program;
}

export type Model = ModelSpec;

const USAGE_ERROR = brand('UsageError');

export class UsageError extends Error {
  readonly [USAGE_ERROR] = true;
  static override [Symbol.hasInstance](x: unknown): boolean {
    return hasBrand(x, USAGE_ERROR);
  }
}

export function defineModel(spec: ModelSpec): Model {
  if (spec.variants.length === 0) throw new UsageError(`model ${spec.name} has no variants`);
  const names = new Set<string>();
  for (const v of spec.variants) {
    if (names.has(v.name)) throw new UsageError(`model ${spec.name}: variant ${v.name} declared twice`);
    names.add(v.name);
  }
  for (const [k, p] of Object.entries(spec.params)) {
    if (!(p.min <= p.default && p.default <= p.max)) throw new UsageError(`model ${spec.name}: parameter ${k} default outside [min, max]`);
  }
  return spec;
}

export function variantOf(model: Model, name?: string): VariantSpec {
  if (name === undefined) return model.variants[0]!;
  const v = model.variants.find((x) => x.name === name);
  if (!v) throw new UsageError(`unknown variant "${name}" for model ${model.name} (variants: ${model.variants.map((x) => x.name).join(', ')})`);
  return v;
}

/** Defaults overridden by `given`; unknown names and out-of-range values are usage errors. */
export function resolveParams(model: Model, given: Params = {}): Params {
  const out: Record<string, number> = {};
  for (const [k, p] of Object.entries(model.params)) out[k] = p.default;
  for (const [k, v] of Object.entries(given)) {
    const p = Object.hasOwn(model.params, k) ? model.params[k] : undefined;
    if (!p) {
      const known = Object.keys(model.params);
      throw new UsageError(`unknown parameter "${k}" for model ${model.name} (${known.length ? `parameters: ${known.join(', ')}` : 'it has no parameters'})`);
    }
    if (!Number.isInteger(v) || v < p.min || v > p.max) throw new UsageError(`parameter ${k} must be an integer from ${p.min} to ${p.max}, got ${v}`);
    out[k] = v;
  }
  return out;
}

/** A model with its variant, parameters and step bound chosen: what one search explores. */
export interface BoundModel {
  readonly model: Model;
  readonly variant: VariantSpec;
  readonly params: Params;
  readonly maxSteps: number;
  /** A fresh program of this configuration (the engine builds one per execution). */
  readonly make: () => Program;
}

/** Binds (model, variant, params, max steps) once, checking each; every caller shares this. */
export function bindModel(model: Model, variant?: string, given?: Params, maxSteps?: number): BoundModel {
  const v = variantOf(model, variant);
  const params = resolveParams(model, given);
  const steps = maxSteps ?? model.maxSteps ?? DEFAULT_MAX_STEPS;
  return { model, variant: v, params, maxSteps: steps, make: () => model.build(v.name, params) };
}

export function expectationText(e: Expectation): string {
  return e === 'holds' ? 'holds' : `violates ${e.violates}`;
}
